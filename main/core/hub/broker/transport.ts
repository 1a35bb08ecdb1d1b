// The hub's one broker, whichever it is: the embedded one (started here, agents log in to it) or an
// external one (Mosquitto, a NATS cluster: connected to, agents log in there), behind one Transport
// that startHub (../hub.ts) publishes through. What the hub does when an external broker (re)connects
// or changes state is the hub's: this file only reports it.
import type { Logger } from '../../../../shared/diagnostics-log';
import type { ListenerTls } from '../../listener/listener';
import type { ConnectionLimits } from '../../listener/connection-gate';
import type { Agent } from '../accounts/agents';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker';
import { connectExternalBroker, type BrokerState } from './external-broker';

export type BrokerConfig =
  | { kind: 'embedded'; host?: string; port: number; wsPort?: number | null; maxPendingLogins?: number; connectionLimits?: Partial<ConnectionLimits> }
  /** `url`: one broker, or the nodes of one cluster (tried in turn). */
  | { kind: 'external'; url: string | readonly string[]; username?: string; password?: string; ca?: string | Buffer; maxOfflineQueue?: number; stallMs?: number };

export interface Transport {
  url: string;
  wsUrl: string | null;
  /** A Buffer payload is sent as is: one message fanned out to many topics is one Buffer, not one copy per topic. */
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /**
   * The retained message later subscribers get on `topic`, without sending it to the current ones
   * (they hold it already, by the change messages). The embedded broker stores it and sends nothing;
   * MQTT has no such publish, so an external broker gets a retained QoS-1 publish, which its current
   * subscribers receive too.
   */
  keepRetained(topic: string, payload: Buffer): Promise<void>;
  /** QoS-0 messages that are not retained reach the broker now (an external broker's live connection is up). */
  readonly liveUp: boolean;
  disconnectAgents(names: ReadonlySet<string>): void;
  close(): Promise<void>;
}

export interface HubBrokerOptions {
  config: BrokerConfig;
  site: string;
  /** The embedded broker's address when its config names none (the webhook listener's). */
  host?: string;
  /** TLS for the embedded broker (TCP and WebSocket). */
  tls: ListenerTls | null;
  /** Aborting it ends the wait for an external broker's first connection. */
  signal?: AbortSignal;
  logger: Logger;
  /** The current agent of a name (the embedded broker's logins). */
  agent(name: string): Agent | undefined;
  /** A message an agent published that the broker let through; `clientId` where the broker says who (embedded). */
  onClientPublish(topic: string, payload: Buffer, clientId: string | null, retain: boolean): void;
  onClientGone(clientId: string): void;
  onPresence(): void;
  /** The external broker's will: the hub's "offline" status. */
  will: { topic: string; payload: string };
  /** The external broker connected, stalled or was lost. */
  onState(state: BrokerState): void;
  /** The external broker connected; `count`: connects so far (1 = the first). */
  onConnect(count: number): void;
}

export interface HubBroker {
  transport: Transport;
  /** The embedded broker (the board and the team's presence need it); null for an external one. */
  embedded: EmbeddedBroker | null;
  /** The embedded broker's certificate swap; null for an external one. */
  setTls: ((tls: ListenerTls) => void) | null;
  /** Connected when it was returned (the first onConnect came before the transport was there). */
  connected: boolean;
}

export async function openHubBroker(o: HubBrokerOptions): Promise<HubBroker> {
  const { config, site, logger } = o;
  if (config.kind === 'embedded') {
    const b: EmbeddedBroker = await startEmbeddedBroker({
      site,
      host: config.host ?? o.host ?? '0.0.0.0',
      port: config.port,
      wsPort: config.wsPort ?? null,
      maxPendingLogins: config.maxPendingLogins,
      connectionLimits: config.connectionLimits,
      tls: o.tls,
      agent: o.agent,
      logger,
      onClientPublish: o.onClientPublish,
      onClientGone: o.onClientGone,
      onPresence: o.onPresence,
    });
    return { transport: b, embedded: b, setTls: (tls) => b.setTls(tls), connected: true };
  }
  let connects = 0;
  const b = await connectExternalBroker({
    url: config.url,
    signal: o.signal,
    stallMs: config.stallMs,
    onState: o.onState,
    username: config.username,
    password: config.password,
    ca: config.ca,
    maxOfflineQueue: config.maxOfflineQueue,
    site,
    will: o.will,
    logger,
    onConnect: () => o.onConnect(++connects),
    onClientPublish: (topic, payload, retain) => o.onClientPublish(topic, payload, null, retain),
  });
  const transport: Transport = {
    url: b.url,
    wsUrl: null,
    publish: (t, p, opts) => b.publish(t, p, opts),
    keepRetained: (t, p) => b.publish(t, p, { qos: 1, retain: true }),
    get liveUp() {
      return b.liveUp;
    },
    disconnectAgents: () => {},
    close: () => b.close(),
  };
  return { transport, embedded: null, setTls: null, connected: b.connected };
}
