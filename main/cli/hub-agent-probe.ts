// Before `callpop serve --hub` follows anything, one short MQTT connection as the agent answers what
// would otherwise fail in silence: a certificate this PC does not trust (said in one line with what to
// do: --hub-ca or --hub-fingerprint), a refused password, and which extensions are this agent's (the
// hub's retained directory lists them): an extension given that is not the agent's is said in one
// line, and with no --extension every extension of the agent is followed. A broker that cannot be
// reached is retried (as the client itself does), never a reason to give up.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { agentClientId, decodePayload, directoryMessageSchema, topics } from '../../shared/hub-protocol';
import { certificateProblem } from '../core/hub-client/certificate-problem';

export type ProbeResult =
  /** `extensions`: the agent's, from the hub's directory; null when the hub does not say (an older hub, none published yet). */
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
  url: string;
  user: string;
  password: string;
  site: string;
  mqtt?: Partial<IClientOptions>;
  connect?: (url: string, opts: IClientOptions) => MqttClient;
  signal?: AbortSignal;
  /** Called once when the broker cannot be reached yet (it is retried every 2 s), with why. */
  onWaiting?: (reason: string) => void;
  /** How long to wait for the retained directory once subscribed. Default 3 s. */
  directoryMs?: number;
}

export function probeAgent(o: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const client = (o.connect ?? connect)(o.url, {
      ...o.mqtt,
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
      const cert = certificateProblem(e, `the hub's certificate at ${o.url}`, { ca: '--hub-ca FILE', pin: '--hub-fingerprint SHA256' });
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
    client.on('message', (_topic, payload) => {
      const m = decodePayload(directoryMessageSchema, payload);
      if (!m.ok) return;
      const users = m.value.users;
      finish({ kind: 'ok', extensions: users ? Object.keys(users).filter((ext) => users[ext]!.includes(o.user)) : null });
    });
    client.on('connect', () => {
      client.subscribe(topics.directory(o.site), { qos: 1 }, () => {
        timer ??= setTimeout(() => finish({ kind: 'ok', extensions: null }), o.directoryMs ?? 3000);
      });
    });
  });
}
