// Trusting exactly one PBX certificate by its SHA-256 fingerprint. The normal chain check is off
// for that connection only, and replaced by a stricter one: the HTTP client (./http1-client)
// writes its request only after the handshake, and only when the peer certificate's fingerprint
// equals the configured one, so not a byte of it (headers, credentials) can reach a wrong server.
// A different certificate is refused even if a public CA signed it. No session is reused, so the
// certificate exchange always happens.
import type tls from 'node:tls';
import { fingerprintPattern } from '../../../shared/settings';
import { DownloadError } from './errors';

/** "ab:cd:…" / "ABCD…" → "ABCD…" (64 hex digits); throws on anything else. */
export function normalizeFingerprint(fp: string): string {
  const t = fp.trim();
  if (!fingerprintPattern.test(t)) throw new DownloadError('cert-mismatch', 'The trusted certificate fingerprint is not 64 hex digits');
  return t.replace(/:/g, '').toUpperCase();
}

/** Whether the peer's certificate is exactly the pinned one (checked after the handshake, before any request byte). */
export function peerMatchesPin(socket: tls.TLSSocket, pin: string): boolean {
  const cert = socket.getPeerCertificate();
  const actual = typeof cert.fingerprint256 === 'string' ? cert.fingerprint256.replace(/:/g, '').toUpperCase() : '';
  return actual !== '' && actual === pin;
}
