// Before `callpop serve --hub` follows anything, one short MQTT connection as the agent answers what
// would otherwise fail in silence: a certificate this PC does not trust (said in one line with what to
// do: --hub-ca or --hub-fingerprint), a refused password, and which extensions are this agent's (the
// hub's retained directory lists them): an extension given that is not the agent's is said in one
// line, and with no --extension every extension of the agent is followed. A broker that cannot be
// reached is retried (as the client itself does), never a reason to give up.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { decodePayload, directoryMessageSchema, topics } from '../../shared/hub-protocol';

export type ProbeResult =
  /** `extensions`: the agent's, from the hub's directory; null when the hub does not say (an older hub, none published yet). */
  | { kind: 'ok'; extensions: string[] | null }
  | { kind: 'refused'; reason: string }
  | { kind: 'certificate'; message: string }
  | { kind: 'aborted' };

/** Node's and the pin's codes for "this certificate is not trusted", each with the words an administrator acts on. */
const certificateCodes: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'it is signed by a CA this PC does not trust',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is signed by a CA this PC does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is signed by a CA this PC does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'it is signed by a CA this PC does not trust',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet (check both clocks)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it is not made out to this host name',
  ERR_CERT_PIN_MISMATCH: 'it is not the one --hub-fingerprint pins',
};

/** One line for a certificate error (with what to do), or null when `e` is not one. */
export function certificateProblem(e: Error & { code?: unknown }, url: string): string | null {
  const why = typeof e.code === 'string' ? certificateCodes[e.code] : undefined;
  if (!why) return null;
  const fix =
    e.code === 'ERR_CERT_PIN_MISMATCH'
      ? 'If the hub got a new certificate, pin the new one (openssl x509 -in cert.pem -noout -fingerprint -sha256 on the hub).'
      : e.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'Use the host name the certificate names in --hub, or pin the certificate with --hub-fingerprint.'
        : e.code === 'CERT_HAS_EXPIRED' || e.code === 'CERT_NOT_YET_VALID'
          ? "Renew the hub's certificate (the hub picks up a renewed one without a restart)."
          : "Trust its CA with --hub-ca FILE (PEM), or pin it with --hub-fingerprint SHA256 (openssl x509 -in cert.pem -noout -fingerprint -sha256 on the hub).";
  return `the hub's certificate at ${url} is not trusted: ${why} (${e.code}). ${fix}`;
}

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
  /** How long to wait for the retained directory once subscribed. Default 3 s. */
  directoryMs?: number;
}

export function probeAgent(o: ProbeOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const client = (o.connect ?? connect)(o.url, {
      ...o.mqtt,
      username: o.user,
      password: o.password,
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
      const cert = certificateProblem(e, o.url);
      if (cert) finish({ kind: 'certificate', message: cert });
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
