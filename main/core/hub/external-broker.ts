// Publishing to an external broker (Mosquitto, EMQX, VerneMQ, HiveMQ…) through MQTT.js, speaking
// MQTT 3.1.1 (which every MQTT 5 broker also accepts). The hub connects as its own broker user with a
// retained last will "offline" on its status topic, subscribes to the sync requests of its site, and
// reconnects with backoff (1 s doubling to 30 s, with jitter) for as long as it runs; each (re)connect
// republishes the retained state (the broker may have restarted without persistence).
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../../shared/log';
import { TOPIC_ROOT } from '../../../shared/hub-protocol';

export interface ExternalBrokerOptions {
  url: string;
  username?: string;
  password?: string;
  site: string;
  /** Retained will on the hub's status topic. */
  will: { topic: string; payload: string };
  logger: Logger;
  /** After every (re)connect: publish the retained state. */
  onConnect: () => void;
  onClientPublish: (topic: string, payload: Buffer) => void;
  /** CA certificate(s) for mqtts:// with a private CA. */
  ca?: string | Buffer;
  /** Messages kept in memory while the broker is unreachable (default MAX_OFFLINE_QUEUE). */
  maxOfflineQueue?: number;
  /** How long start waits for the first connection before going on (it keeps retrying). Default 10 s. */
  firstConnectMs?: number;
}

export interface ExternalBroker {
  readonly url: string;
  readonly connected: boolean;
  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** Messages queued in memory while the broker is unreachable; beyond, they are dropped (see publish). */
export const MAX_OFFLINE_QUEUE = 10_000;

/** CONNACK codes that retrying cannot fix (3.1.1: 4 bad user name or password, 5 not authorized; 5.0: 134, 135). */
const fatalCodes = new Set([4, 5, 134, 135]);

export class BrokerRefusedError extends Error {}

/** Connects (waiting for the first outcome); throws BrokerRefusedError when the broker refuses the credentials. */
export async function connectExternalBroker(options: ExternalBrokerOptions): Promise<ExternalBroker> {
  const { logger } = options;
  const shown = safeUrl(options.url);
  const clientOptions: IClientOptions = {
    protocolVersion: 4,
    clientId: `callpop-hub-${options.site}-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    keepalive: 30,
    connectTimeout: 10_000,
    reconnectPeriod: 1000,
    username: options.username,
    password: options.password,
    will: { topic: options.will.topic, payload: Buffer.from(options.will.payload), qos: 1, retain: true },
    ...(options.ca !== undefined && { ca: options.ca }),
  };
  const client: MqttClient = mqtt.connect(options.url, clientOptions);
  let backoff = 1000;
  let offlineQueued = 0;
  const maxQueue = options.maxOfflineQueue ?? MAX_OFFLINE_QUEUE;
  let offlineDropped = 0;
  let lastError = '';
  const syncFilter = `${TOPIC_ROOT}/${options.site}/ext/+/sync/req`;

  client.on('connect', () => {
    if (offlineDropped > 0) logger.info(`Broker ${shown} back: ${offlineDropped} message(s) were dropped meanwhile`);
    offlineQueued = 0;
    offlineDropped = 0;
    backoff = 1000;
    client.options.reconnectPeriod = backoff;
    logger.info(`Connected to the broker ${shown}`);
    // Agents' callback requests too (team.ts).
    client.subscribe([syncFilter, `${TOPIC_ROOT}/${options.site}/ext/+/callbacks/req`], { qos: 1 }, (err, granted) => {
      if (err || granted?.some((g) => g.qos >= 128)) logger.error(`The broker refused the hub's subscription to ${syncFilter}: check the hub user's ACL (readwrite on ${TOPIC_ROOT}/${options.site}/#).`);
    });
    options.onConnect();
  });
  client.on('message', (topic, payload) => options.onClientPublish(topic, payload));
  client.on('error', (e: Error & { code?: number | string }) => {
    const line = `Broker ${shown}: ${e.message}`;
    if (line !== lastError) logger.warn(line);
    lastError = line;
  });
  client.on('close', () => {
    // Backoff with jitter: 1 s doubling to 30 s (MQTT.js reads reconnectPeriod before each attempt).
    backoff = Math.min(30_000, backoff * 2);
    client.options.reconnectPeriod = Math.round(backoff * (0.75 + Math.random() * 0.5));
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      logger.warn(`Broker ${shown} not reachable yet; webhooks are logged meanwhile and published once it is.`);
      resolve();
    }, options.firstConnectMs ?? 10_000);
    const onConnect = (): void => {
      cleanup();
      resolve();
    };
    const onError = (e: Error & { code?: number | string }): void => {
      if (typeof e.code === 'number' && fatalCodes.has(e.code)) {
        cleanup();
        client.end(true);
        reject(new BrokerRefusedError(`The broker ${shown} refused the hub's credentials (${e.message}). Check --broker-user and --broker-password-file.`));
      }
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
  });

  return {
    url: shown,
    get connected() {
      return client.connected;
    },
    publish(topic, payload, opts) {
      // While disconnected MQTT.js queues the message (in memory) and sends it on reconnect. A long
      // outage on a busy PBX must not grow that without bound: past MAX_OFFLINE_QUEUE messages the
      // rest are dropped; they are in the hub's log, and clients sync when the hub is back online.
      if (!client.connected) {
        if (offlineQueued >= maxQueue) {
          if (offlineDropped++ === 0) logger.warn(`Broker ${shown} unreachable: ${maxQueue} messages queued, dropping the rest until it is back (clients catch up from the hub's log)`);
          return Promise.resolve();
        }
        offlineQueued++;
      }
      return new Promise((resolve, reject) => client.publish(topic, payload, opts, (e) => (e ? reject(e) : resolve())));
    },
    async close() {
      await client.endAsync();
    },
  };
}

/** The URL without any user:password part (for printing). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
