// Every way a recording download can fail, each with the one-line message the user sees and
// whether trying again (with Range resume) can help.

export type DownloadErrorCode =
  | 'not-configured'
  | 'bad-url'
  | 'wrong-host'
  | 'userinfo'
  | 'redirect'
  | 'not-found'
  | 'unauthorized'
  | 'forbidden'
  | 'server'
  | 'http'
  | 'connection'
  | 'host-not-found'
  | 'timeout'
  | 'cert-mismatch'
  | 'cert-untrusted'
  | 'too-large'
  | 'disk-full'
  | 'no-folder'
  | 'no-access'
  | 'file-system'
  | 'canceled';

const retryableCodes: ReadonlySet<DownloadErrorCode> = new Set(['server', 'connection', 'timeout']);

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  get retryable(): boolean {
    return retryableCodes.has(this.code);
  }
}

export const notConfiguredMessage = 'Set the PBX address in Settings before downloading recordings';
export const certMismatchMessage = 'The PBX certificate does not match the trusted fingerprint';

export function httpStatusError(status: number): DownloadError {
  if (status === 404 || status === 410) return new DownloadError('not-found', `The PBX has no recording at this address (${status})`);
  if (status === 401) return new DownloadError('unauthorized', 'The PBX asks for a user name and password for recordings (401); check the recording credentials in Settings');
  if (status === 403) return new DownloadError('forbidden', 'The PBX does not allow downloading this recording (403)');
  if (status >= 500) return new DownloadError('server', `The PBX failed to send the recording (HTTP ${status})`);
  return new DownloadError('http', `The PBX answered HTTP ${status} instead of the recording`);
}

const tlsTrustCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

const connectionCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
  'HPE_INVALID_CONSTANT',
]);

/** Map a network-side error (request/response/TLS) to a DownloadError. */
export function networkError(err: unknown): DownloadError {
  if (err instanceof DownloadError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const detail = err instanceof Error ? err.message : String(err);
  // The name does not exist (NXDOMAIN): trying again cannot help, unlike EAI_AGAIN (DNS unreachable).
  if (code === 'ENOTFOUND') {
    const raw = typeof err === 'object' && err !== null && 'hostname' in err ? String((err as { hostname: unknown }).hostname) : '';
    const host = raw.replace(/[^\w.:[\]-]/g, '?').slice(0, 260);
    return new DownloadError('host-not-found', `The PBX host ${host ? `${host} ` : ''}was not found (no such name in DNS); check the PBX address (and the VPN, for an internal name)`, { cause: err });
  }
  if (tlsTrustCodes.has(code)) {
    return new DownloadError(
      'cert-untrusted',
      `The PBX certificate is not trusted (${code}); for a self-signed PBX certificate, trust its SHA-256 fingerprint in Settings`,
      { cause: err },
    );
  }
  // Never connected: nothing was lost (the port is closed, the host unreachable).
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
    return new DownloadError('connection', `Could not connect to the PBX (${code}): check the URL's host and port, and that the PBX is up`, { cause: err });
  }
  if (connectionCodes.has(code) || code.startsWith('HPE_') || /socket hang up|aborted/i.test(detail)) {
    return new DownloadError('connection', `The connection to the PBX was lost (${code || detail})`, { cause: err });
  }
  return new DownloadError('connection', `Could not download from the PBX: ${detail}`, { cause: err });
}

/** Map a local file error (temp file, rename) to a DownloadError. */
export function fileError(err: unknown, dir: string): DownloadError {
  if (err instanceof DownloadError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  if (code === 'ENOSPC' || code === 'EDQUOT') return new DownloadError('disk-full', `Disk full: no space left in ${dir} for the recording`, { cause: err });
  if (code === 'ENOENT' || code === 'ENOTDIR') return new DownloadError('no-folder', `The download folder ${dir} does not exist`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new DownloadError('no-access', `Callpop may not write to the download folder ${dir} (${code})`, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new DownloadError('file-system', `Could not save the recording in ${dir}: ${detail}`, { cause: err });
}

export const canceledError = (): DownloadError => new DownloadError('canceled', 'Download canceled');
