// Trusting exactly one PBX certificate by its SHA-256 fingerprint. The normal chain check is off
// for this one agent only, and replaced by a stricter one: the connection is handed to the HTTP
// request only after the handshake, and only when the peer certificate's fingerprint equals the
// configured one. Until then the request has no socket, so not a byte of it (headers, credentials)
// can be sent to a wrong server. A different certificate is refused even if a public CA signed it.
import https from 'node:https';
import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { fingerprintPattern } from '../../../shared/settings';
import { DownloadError, certMismatchMessage } from './errors';

/** "ab:cd:…" / "ABCD…" → "ABCD…" (64 hex digits); throws on anything else. */
export function normalizeFingerprint(fp: string): string {
  const t = fp.trim();
  if (!fingerprintPattern.test(t)) throw new DownloadError('cert-mismatch', 'The trusted certificate fingerprint is not 64 hex digits');
  return t.replace(/:/g, '').toUpperCase();
}

export class PinnedCertificateAgent extends https.Agent {
  readonly #pin: string;
  readonly #handshakeTimeoutMs: number;

  constructor(fingerprint: string, handshakeTimeoutMs: number) {
    // No session cache: a resumed session would skip the certificate exchange we check.
    super({ keepAlive: false, maxCachedSessions: 0 });
    this.#pin = normalizeFingerprint(fingerprint);
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    let settled = false;
    const done = (err: Error | null, socket: tls.TLSSocket): void => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      if (err) socket.destroy();
      callback?.(err, socket);
    };
    const socket = tls.connect({
      ...(options as tls.ConnectionOptions),
      // The chain is not checked here because the fingerprint check below replaces it.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      session: undefined,
    });
    socket.setTimeout(this.#handshakeTimeoutMs, () => {
      done(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' }), socket);
    });
    socket.on('error', (err) => done(err, socket));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const actual = typeof cert.fingerprint256 === 'string' ? cert.fingerprint256.replace(/:/g, '').toUpperCase() : '';
      if (actual !== '' && actual === this.#pin) done(null, socket);
      else done(new DownloadError('cert-mismatch', certMismatchMessage), socket);
    });
    // Returning nothing makes the agent wait for the callback before giving the socket to the request.
    return undefined;
  }
}
