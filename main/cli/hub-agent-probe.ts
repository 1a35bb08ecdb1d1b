// Before `callpop serve --hub` follows anything, one short MQTT connection as the agent answers what
// would otherwise fail in silence: a certificate this PC does not trust (said in one line with what to
// do: --hub-ca or --hub-fingerprint), a refused password, and which extensions are this agent's (the
// hub's retained per-agent topic, which only this agent may read, lists them): an extension given
// that is not the agent's is said in one line, and with no --extension every extension of the agent
// is followed. A broker that cannot be
// reached is retried (as the client itself does), never a reason to give up.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { agentClientId } from '../../shared/hub-protocol';
import { agentExtensionsTopic, readAgentExtensions } from '../core/hub-client/agent-extensions';
import { certificateProblem } from '../core/hub-client/certificate-problem';

export type ProbeResult =
  /** `extensions`: the agent's, from the hub's agent topic; null when the hub does not say (an older hub, none published yet). */
  | { kind: 'ok'; extensions: string[] | null }
  | { kind: 'refused'; reason: string }
  | { kind: 'certificate'; message: string }
  | { kind: 'aborted' };

const refusalCodes: Record<number, string> = {
  4: 'the hub refused the user name or password',
  5: 'the hub refused the agent name or password (not authorized)',
  134: 'the hub refused the user name or password',
  135: 'the hub refused the agent name or password (not authorized)',
};

export interface ProbeOptions {
  /** The hub's broker, or the nodes of a cluster: a node that cannot be reached gives way to the next. */
  urls: readonly string[];
  user: string;
  password: string;
  site: string;
  mqtt?: Partial<IClientOptions>;
  connect?: (url: string, opts: IClientOptions) => MqttClient;
  signal?: AbortSignal;
  /** Called once when the broker cannot be reached yet (it is retried every 2 s), with why. */
  onWaiting?: (reason: string) => void;
  /** How long to wait for the retained agent topic once subscribed. Default 3 s. */
  answerMs?: number;
}

export function probeAgent(o: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const url = o.urls[0]!;
    const client = (o.connect ?? connect)(url, {
      ...o.mqtt,
      // MQTT.js tries the next server on each reconnect (TCP/TLS nodes; a custom connect, the pinned one,
      // and WebSocket URLs with their paths keep to the first).
      ...(o.urls.length > 1 && !o.connect && o.urls.every((u) => /^mqtts?:/.test(u)) && { servers: o.urls.map(serverOf) }),
      username: o.user,
      password: o.password,
      // A throw-away id of the agent's own (the hub refuses a client id that is not the agent's).
      clientId: agentClientId(o.user),
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
    });
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      client.end(true);
      resolve(r);
    };
    const onAbort = (): void => finish({ kind: 'aborted' });
    if (o.signal?.aborted) return finish({ kind: 'aborted' });
    o.signal?.addEventListener('abort', onAbort, { once: true });
    client.on('error', (e: Error & { code?: unknown }) => {
      const refused = typeof e.code === 'number' ? refusalCodes[e.code] : undefined;
      if (refused) return finish({ kind: 'refused', reason: refused });
      const cert = certificateProblem(e, `the hub's certificate at ${url}`, { ca: '--hub-ca FILE', pin: '--hub-fingerprint SHA256' });
      if (cert) return finish({ kind: 'certificate', message: cert });
      lastError = typeof e.code === 'string' ? e.code : e.message;
    });
    let lastError: string | null = null;
    let saidWaiting = false;
    client.on('close', () => {
      if (done || saidWaiting) return;
      saidWaiting = true;
      o.onWaiting?.(lastError ?? 'connection closed');
    });
    const topic = agentExtensionsTopic(o.site, o.user);
    client.on('message', (t, payload) => {
      const extensions = t === topic ? readAgentExtensions(payload) : null;
      if (extensions) finish({ kind: 'ok', extensions });
    });
    client.on('connect', () => {
      const noAnswer = (): void => {
        timer ??= setTimeout(() => finish({ kind: 'ok', extensions: null }), o.answerMs ?? 3000);
      };
      if (topic) client.subscribe(topic, { qos: 1 }, noAnswer);
      else noAnswer();
    });
  });
}

/** One URL as an MQTT.js server entry. */
function serverOf(u: string): { host: string; port: number; protocol: 'mqtt' | 'mqtts' } {
  const p = new URL(u);
  const protocol = p.protocol.slice(0, -1) as 'mqtt' | 'mqtts';
  const port = p.port ? Number(p.port) : protocol === 'mqtts' ? 8883 : 1883;
  return { host: p.hostname, port, protocol };
}
