// The hub's second connection to an external broker, for what must never wait behind the broker's
// storage: QoS-0 messages that are not retained (call changes, sync answers, extension heads, callback
// changes, the live heartbeat). The first connection (./external-broker.ts) keeps the will, the
// subscriptions, and what the broker stores (retained state, QoS-1 answers).
//
// Why two (issue #22): a NATS node stores every QoS-1 and every retained MQTT publish in JetStream and
// waits for the store inside the publishing connection's read loop (nats-server v2.9.10,
// server/mqtt.go: mqttProcessPub and mqttHandlePubRetain call jsa.storeMsg, a request that times out
// after 4 s, "timeout for request type MS"). While a stream has no leader every later packet of that
// connection waits too: with one connection, each retained open list held every pop behind it for up
// to 4 s, and a reconnect's ~100 retained messages held them for minutes. A QoS-0 message that is not
// retained is only forwarded, so on its own connection nothing is ever stored and nothing waits. Its
// completeness does not rest on the broker anyway: clients follow the seq chain and the heads, and sync.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../../../shared/diagnostics-log';
import { RateLimitedLog } from '../../rate-limited-log';
import { NodeBackoff, OfflineBound } from './reconnect';

export interface LiveConnection {
  readonly connected: boolean;
  /** QoS 0, not retained; resolves once written (or queued while disconnected, up to the bound). */
  publish(topic: string, payload: string | Buffer): Promise<void>;
  close(ms: number): Promise<void>;
}

export interface LiveConnectionOptions {
  url: string;
  /** The first connection's options (servers, credentials, TLS): the same node list and user. */
  base: IClientOptions;
  nodes: number;
  logger: Logger;
  maxOfflineQueue: number;
  /** The node this connection is on, for log lines. */
  label: (client: MqttClient) => string;
}

export function openLiveConnection(o: LiveConnectionOptions): LiveConnection {
  const { will: _will, ...rest } = o.base;
  const client = mqtt.connect(o.url, { ...rest, clientId: `${String(o.base.clientId)}-live`, clean: true });
  const backoff = new NodeBackoff(client, o.nodes);
  const bound = new OfflineBound(o.maxOfflineQueue, o.logger, () => o.label(client));
  const disconnects = new RateLimitedLog(o.logger, 'live connection losses');
  let up = false;
  let closing = false;
  let lastError = '';
  client.on('connect', () => {
    // No Nagle: nothing here gets a reply that would flush a held segment.
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    up = true;
    backoff.connected();
    bound.connected();
    o.logger.info(`Live connection to the broker ${o.label(client)} up`);
  });
  client.on('error', (e: Error) => {
    const line = `Broker ${o.label(client)} (live connection): ${e.message}`;
    if (line !== lastError) o.logger.warn(line);
    lastError = line;
  });
  client.on('close', () => {
    if (up && !closing) disconnects.note(`Lost the live connection to the broker ${o.label(client)}${lastError ? ` (${lastError})` : ''}; ${o.nodes > 1 ? 'trying the next node' : 'reconnecting'}`);
    up = false;
    backoff.closed();
  });
  return {
    get connected() {
      return client.connected;
    },
    publish(topic, payload) {
      if (!bound.admit(client.connected)) return Promise.resolve();
      return new Promise((resolve, reject) => client.publish(topic, payload, { qos: 0, retain: false }, (e) => (e ? reject(e) : resolve())));
    },
    async close(ms) {
      closing = true;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
      await Promise.race([client.connected ? client.endAsync(false).catch(() => {}) : Promise.resolve(), late]);
      clearTimeout(timer);
      client.end(true);
      client.stream?.destroy();
    },
  };
}
