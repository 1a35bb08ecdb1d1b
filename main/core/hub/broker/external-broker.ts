// Publishing to an external broker (Mosquitto, a NATS cluster's MQTT gateway, EMQX, VerneMQ,
// HiveMQ…) through MQTT.js, speaking MQTT 3.1.1 (which every MQTT 5 broker also accepts). The hub
// connects as its own broker user with a retained last will "offline" on its status topic, subscribes
// to the sync requests of its site, and reconnects with backoff (1 s doubling to 30 s, with jitter)
// for as long as it runs; each (re)connect republishes the retained state (the broker may have
// restarted without persistence).
//
// Several URLs (the nodes of a cluster) are one MQTT.js server list: each reconnect tries the next
// node, so losing a node moves the hub to another within seconds.
//
// What a cluster taught (issue #22): a broker may close the connection of whoever publishes something
// it refuses (NATS 2.9: a `.` in a topic), and MQTT.js resends an unacknowledged QoS-1 message first
// on every reconnect, before it even reports the connection: a loop that kept the hub offline. So
// topics and payloads are checked before publishing (see publishable), a message in flight when the
// broker closed the connection twice is dropped with a log line, every disconnect is logged, a broker
// that stops confirming is reported as stalled, and close() is bounded whatever the broker does.
// QoS-0 messages that are not retained (the pops) go through a second connection that the broker never
// stores anything for (./live-connection.ts: why).
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from '../../../../shared/diagnostics-log';
import { TOPIC_ROOT } from '../../../../shared/hub-protocol';
import { RateLimitedLog } from '../../rate-limited-log';
import { openLiveConnection } from './live-connection';
import { NodeBackoff, OfflineBound } from './reconnect';

export interface ExternalBrokerOptions {
  /** The broker's URL, or several (the nodes of one cluster: tried in turn). */
  url: string | readonly string[];
  username?: string;
  password?: string;
  site: string;
  /** Retained will on the hub's status topic. */
  will: { topic: string; payload: string };
  logger: Logger;
  /** After every (re)connect: publish the retained state. */
  onConnect: () => void;
  onClientPublish: (topic: string, payload: Buffer, retain: boolean) => void;
  /** The broker's state changed (connected, stalled: connected but not confirming, disconnected). */
  onState?: (state: BrokerState) => void;
  /** CA certificate(s) for mqtts:// with a private CA. */
  ca?: string | Buffer;
  /** Messages kept in memory while the broker is unreachable (default MAX_OFFLINE_QUEUE). */
  maxOfflineQueue?: number;
  /** Largest payload the hub publishes (default MAX_PAYLOAD); a bigger one is refused with a log line. */
  maxPayload?: number;
  /** How long start waits for the first connection before going on (it keeps retrying). Default 10 s. */
  firstConnectMs?: number;
  /** Ends the wait for the first connection early (a SIGTERM during start). */
  signal?: AbortSignal;
  /** A message not confirmed within this long means the broker is stalled. Default STALL_MS. */
  stallMs?: number;
}

export type BrokerState = 'connected' | 'stalled' | 'disconnected';

export interface ExternalBroker {
  /** The broker URL(s), without credentials, comma-separated. */
  readonly url: string;
  readonly connected: boolean;
  readonly state: BrokerState;
  /** The live connection (./live-connection.ts) is up: QoS-0 messages that are not retained go out now. */
  readonly liveUp: boolean;
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /** Ends the connection within `ms` (default CLOSE_MS) whatever the broker does; logs what was not confirmed. */
  close(ms?: number): Promise<void>;
}

/** Messages queued in memory while the broker is unreachable; beyond, they are dropped (see publish). */
export const MAX_OFFLINE_QUEUE = 10_000;
/** NATS's default max_payload (1 MB); Mosquitto and the others accept at least this much. */
export const MAX_PAYLOAD = 1024 * 1024;
/** Largest message the hub takes from a client (a sync request is ~150 bytes). */
export const MAX_REQUEST = 4096;
/** A QoS-1 message unconfirmed this long: the broker is stalled (a cluster that lost a stream leader). */
export const STALL_MS = 5000;
/** A stalled node that confirms nothing for this many STALL_MS is left for the next one (several nodes only). */
export const MOVE_AFTER_STALLS = 2;
/** With several nodes, a node that has not answered CONNECT within this long is left for the next. */
export const NODE_CONNECT_MS = 5000;
/** close() gives the broker this long to confirm what is in flight. */
export const CLOSE_MS = 2500;
/**
 * Topic levels every broker accepts: NATS 2.9 closes the connection on `.` or a space (2.10 maps
 * `.`), and `+ # /` would change the topic's shape. The hub's own topics are built from these only.
 */
const safeTopic = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

/** CONNACK codes that retrying cannot fix (3.1.1: 4 bad user name or password, 5 not authorized; 5.0: 134, 135). */
const fatalCodes = new Set([4, 5, 134, 135]);

export class BrokerRefusedError extends Error {}

/** Why the hub will not publish this (null: fine); checked before anything reaches the broker. */
export function publishable(topic: string, payload: string | Buffer, maxPayload = MAX_PAYLOAD): string | null {
  if (!safeTopic.test(topic)) return `the topic ${JSON.stringify(topic.slice(0, 200))} holds a character some brokers refuse (only A-Z a-z 0-9 _ - between slashes)`;
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > maxPayload) return `the payload (${size} bytes) is over the limit of ${maxPayload} bytes`;
  return null;
}

/** MQTT.js's list of servers from URLs (each may have its own scheme and port). */
function serverList(urls: readonly string[]): NonNullable<IClientOptions['servers']> {
  return urls.map((u) => {
    const url = new URL(u);
    const protocol = url.protocol.replace(/:$/, '') as 'mqtt' | 'mqtts' | 'ws' | 'wss';
    const port = url.port ? Number(url.port) : { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 }[protocol];
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port, protocol };
  });
}

/** Connects (waiting for the first outcome); throws BrokerRefusedError when the broker refuses the credentials. */
export async function connectExternalBroker(options: ExternalBrokerOptions): Promise<ExternalBroker> {
  const { logger } = options;
  const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
  if (urls.length === 0) throw new Error('No broker URL given.');
  const shownAll = urls.map(safeUrl).join(',');
  const clientOptions: IClientOptions = {
    protocolVersion: 4,
    clientId: `callpop-hub-${options.site}-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    keepalive: 30,
    // A cluster node that takes the TCP connection but does not answer CONNECT (NATS: its session
    // stream has no leader yet) held a connection for the whole 10 s; the next node may answer now.
    connectTimeout: urls.length > 1 ? NODE_CONNECT_MS : 10_000,
    reconnectPeriod: 1000,
    // MQTT.js stops reconnecting for good after a refused CONNACK unless told otherwise; a cluster node
    // still starting answers "server unavailable" (NATS, JetStream not ready), and the hub stayed
    // disconnected from then on. A refusal at the first connect still ends the start (below).
    reconnectOnConnackError: true,
    username: options.username,
    password: options.password,
    will: { topic: options.will.topic, payload: Buffer.from(options.will.payload), qos: 1, retain: true },
    ...(urls.length > 1 && { servers: serverList(urls) }),
    ...(options.ca !== undefined && { ca: options.ca }),
  };
  const client: MqttClient = mqtt.connect(urls[0]!, clientOptions);
  /** The node a connection went to (MQTT.js rotates client.options host/port through the list). */
  const nodeOf = (c: MqttClient): string => {
    if (urls.length === 1) return safeUrl(urls[0]!);
    const o = c.options;
    return `${o.protocol ?? 'mqtt'}://${o.hostname ?? o.host}:${o.port}`;
  };
  const current = (): string => nodeOf(client);
  const maxQueue = options.maxOfflineQueue ?? MAX_OFFLINE_QUEUE;
  const live = openLiveConnection({ url: urls[0]!, base: clientOptions, nodes: urls.length, logger, maxOfflineQueue: maxQueue, label: nodeOf });
  const maxPayload = options.maxPayload ?? MAX_PAYLOAD;
  const stallMs = options.stallMs ?? STALL_MS;
  const refusedPublish = new RateLimitedLog(logger, 'messages not published');
  const disconnects = new RateLimitedLog(logger, 'broker disconnects');
  const ignoredRequests = new RateLimitedLog(logger, 'client messages ignored');
  const backoff = new NodeBackoff(client, urls.length);
  /** The connection is being left for the next node (a lasting stall). */
  let movingOn = false;
  /** When the broker last confirmed anything (or accepted the connection). */
  let lastConfirmAt = Date.now();
  const offline = new OfflineBound(maxQueue, logger, current);
  let lastError = '';
  let closing = false;
  /** CONNACK received on this connection (MQTT.js only says "connect" once its resends are through). */
  let session = false;
  let state: BrokerState = 'disconnected';
  const setState = (next: BrokerState): void => {
    if (next === state) return;
    state = next;
    options.onState?.(next);
  };
  const syncFilter = `${TOPIC_ROOT}/${options.site}/ext/+/sync/req`;

  // --- messages in flight: which one the broker closed the connection on --------------------------
  /** QoS-1 publishes sent and not yet confirmed, in the order sent on this connection. */
  const inFlight = new Map<number, { topic: string; sentAt: number }>();
  /** Times the broker closed the connection while a message was the oldest unconfirmed one. */
  const strikes = new Map<number, number>();
  client.on('packetsend', (p: Packet) => {
    if (p.cmd === 'publish' && p.qos > 0 && p.messageId !== undefined) {
      inFlight.delete(p.messageId);
      inFlight.set(p.messageId, { topic: p.topic, sentAt: Date.now() });
    }
  });
  client.on('packetreceive', (p: Packet) => {
    if (p.cmd === 'connack') {
      session = true;
      lastConfirmAt = Date.now();
    }
    if (p.cmd === 'puback' && p.messageId !== undefined) {
      lastConfirmAt = Date.now();
      inFlight.delete(p.messageId);
      strikes.delete(p.messageId);
      if (state === 'stalled' && oldestUnconfirmedMs() < stallMs) {
        logger.info(`Broker ${current()} confirms messages again`);
        setState('connected');
      }
    }
  });
  const oldestUnconfirmedMs = (): number => {
    const first = inFlight.values().next();
    return first.done ? 0 : Date.now() - first.value.sentAt;
  };
  // A broker that accepts the connection but stops confirming (a NATS stream leader lost: "timeout
  // for request type MS") holds every pop back: say so, in the log and the hub's state.
  const stallTimer = setInterval(
    () => {
      if (closing) return;
      const ms = oldestUnconfirmedMs();
      if (state === 'connected' && ms >= stallMs) {
        logger.warn(`Broker ${current()} stalled: a message has waited ${Math.round(ms / 1000)} s for its confirmation (${inFlight.size} waiting)`);
        setState('stalled');
      }
      // With several nodes, one that confirms nothing at all for a while is left for the next (a NATS
      // node whose streams lost their leader kept the hub for minutes, confirming a message now and then
      // while the backlog grew). A node working through a backlog, slowly, is not left.
      // What it never confirmed is dropped rather than sent again to the next node: retained state is
      // republished on connect, and changes are in the hub's log — the "offline" then "online" the hub
      // says on reconnecting makes every client catch up.
      if (state === 'stalled' && urls.length > 1 && Date.now() - lastConfirmAt >= MOVE_AFTER_STALLS * stallMs && !movingOn) {
        const ids = Object.keys(client.outgoing).map(Number);
        logger.warn(`Broker ${current()} confirmed nothing for ${Math.round((Date.now() - lastConfirmAt) / 1000)} s: moving to the next node; ${ids.length} unconfirmed message(s) dropped (they are in the hub's log; clients catch up when the hub is back)`);
        movingOn = true;
        for (const id of ids) client.removeOutgoingMessage(id);
        inFlight.clear();
        client.stream?.destroy();
      }
    },
    Math.min(1000, stallMs),
  );
  stallTimer.unref();

  client.on('connect', () => {
    // No Nagle: a QoS-0 message (callback changes) gets no reply, so the broker's delayed ACK held the
    // next publish (a pop) back up to 40 ms. TCP and TLS sockets have setNoDelay; a WebSocket does not.
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    offline.connected();
    backoff.connected();
    logger.info(`Connected to the broker ${current()}`);
    setState('connected');
    // QoS 0: a lost request is asked again by its client, and on a NATS cluster a QoS-1 subscription
    // is a JetStream consumer to create on every reconnect (seconds while a stream has no leader).
    // Agents' callback requests too (team.ts).
    client.subscribe([syncFilter, `${TOPIC_ROOT}/${options.site}/ext/+/callbacks/req`], { qos: 0 }, (err, granted) => {
      if (err || granted?.some((g) => g.qos >= 128)) logger.error(`The broker refused the hub's subscription to ${syncFilter}: check the hub user's ACL (readwrite on ${TOPIC_ROOT}/${options.site}/#).`);
    });
    if (!closing) options.onConnect();
  });
  client.on('message', (topic, payload, packet) => {
    // What agents publish is untrusted: nothing far bigger than a request is taken (NATS does not
    // enforce max_payload on MQTT publishes). The retained flag (which a broker such as NATS cannot
    // refuse, and replays on every reconnect) is passed on: the hub does not answer retained requests.
    if (payload.length > MAX_REQUEST) return ignoredRequests.note(`Ignored a message of ${payload.length} bytes on ${topic.slice(0, 200)} (over ${MAX_REQUEST})`);
    options.onClientPublish(topic, payload, packet.retain);
  });
  client.on('error', (e: Error & { code?: number | string }) => {
    const line = `Broker ${current()}: ${e.message}`;
    if (line !== lastError) logger.warn(line);
    lastError = line;
  });
  client.on('close', () => {
    const wasUp = session;
    session = false;
    // Our own move to the next node is no strike against a message.
    const moved = movingOn;
    movingOn = false;
    if (wasUp && !closing && !moved) {
      // The oldest unconfirmed message is the likeliest cause when a broker closes on what it refuses.
      const first = inFlight.keys().next();
      if (!first.done) {
        const id = first.value;
        const n = (strikes.get(id) ?? 0) + 1;
        strikes.set(id, n);
        if (n >= 2) {
          const topic = inFlight.get(id)?.topic ?? '?';
          strikes.delete(id);
          logger.error(`Dropped the message to ${topic}: the broker closed the connection twice while it was waiting for it (a topic or payload the broker refuses?); it stays in the hub's log`);
          client.removeOutgoingMessage(id);
        }
      }
      disconnects.note(`Lost the connection to the broker ${current()}${lastError ? ` (${lastError})` : ''}; ${urls.length > 1 ? 'trying the next node' : 'reconnecting'}`);
    }
    inFlight.clear();
    if (!closing) setState('disconnected');
    backoff.closed();
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      logger.warn(`Broker ${shownAll} not reachable yet; webhooks are logged meanwhile and published once it is.`);
      resolve();
    }, options.firstConnectMs ?? 10_000);
    const onConnect = (): void => {
      cleanup();
      resolve();
    };
    const onAbort = (): void => {
      cleanup();
      resolve();
    };
    const onError = (e: Error & { code?: number | string }): void => {
      if (typeof e.code === 'number' && fatalCodes.has(e.code)) {
        cleanup();
        clearInterval(stallTimer);
        client.end(true);
        void live.close(0);
        reject(new BrokerRefusedError(`The broker ${current()} refused the hub's credentials (${e.message}). Check --broker-user and --broker-password-file.`));
      }
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });

  return {
    url: shownAll,
    get connected() {
      return client.connected;
    },
    get state() {
      return state;
    },
    get liveUp() {
      return live.connected;
    },
    publish(topic, payload, opts) {
      const refused = publishable(topic, payload, maxPayload);
      if (refused) {
        // Published, a broker such as NATS 2.9 would close the hub's connection (and MQTT.js resend it).
        refusedPublish.note(`Not published: ${refused}`);
        return Promise.reject(new Error(`not published: ${refused}`));
      }
      if (opts.qos === 0 && !opts.retain) return live.publish(topic, payload);
      if (!offline.admit(client.connected)) return Promise.resolve();
      return new Promise((resolve, reject) => client.publish(topic, payload, opts, (e) => (e ? reject(e) : resolve())));
    },
    async close(ms = CLOSE_MS) {
      closing = true;
      clearInterval(stallTimer);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
      // A graceful end waits for every in-flight message; an unreachable or stalled broker never
      // confirms them, so the wait is bounded and the rest is counted, not waited for.
      const graceful = client.connected ? client.endAsync(false).then(() => true, () => true) : Promise.resolve(false);
      const [ended] = await Promise.all([Promise.race([graceful, late]), live.close(ms)]);
      clearTimeout(timer);
      const unconfirmed = Object.keys(client.outgoing).length + client.queue.length;
      if (!ended) {
        client.end(true);
        client.stream?.destroy();
      }
      if (unconfirmed > 0) logger.warn(`${unconfirmed} message(s) were not confirmed by the broker ${shownAll} before stopping (they are in the hub's log; clients catch up from it)`);
      setState('disconnected');
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
