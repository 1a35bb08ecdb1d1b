// Which recording URLs may be fetched. Recording URLs arrive in unauthenticated webhooks, so only
// http(s) URLs on the configured PBX host are allowed. This is pure string checking: a refused URL
// causes no DNS lookup and no connection.
import { hostPattern } from '../../../shared/settings';
import { DownloadError, notConfiguredMessage } from './errors';

export interface PbxTarget {
  /** Lower-case host name, IPv4 address or [IPv6] address, as URL.hostname gives it. */
  hostname: string;
  /** Required port, or null when the setting has none (then any port of that host is fine). */
  port: number | null;
}

const defaultPort = (protocol: string): number => (protocol === 'https:' ? 443 : 80);

/** Parse the pbxHost setting ("pbx.example.com", "pbx.example.com:5001", "[fd00::1]:5001"). */
export function parsePbxHost(pbxHost: string): PbxTarget {
  const trimmed = pbxHost.trim();
  if (trimmed === '') throw new DownloadError('not-configured', notConfiguredMessage);
  if (!hostPattern.test(trimmed)) throw new DownloadError('not-configured', `The PBX address "${trimmed.slice(0, 100)}" in Settings is not a host name`);
  const u = new URL(`http://${trimmed}`);
  // URL drops the port when it is 80; the setting said it explicitly, so keep it.
  const portMatch = /:(\d{1,5})$/.exec(trimmed);
  const port = portMatch ? Number(portMatch[1]) : null;
  if (port !== null && (port < 1 || port > 65535)) throw new DownloadError('not-configured', `The PBX port ${port} in Settings is not valid`);
  return { hostname: u.hostname.toLowerCase(), port };
}

/** Check a URL against the PBX rules; returns the parsed URL or throws a DownloadError. */
export function checkRecordingUrl(raw: string, pbx: PbxTarget | string): URL {
  const target = typeof pbx === 'string' ? parsePbxHost(pbx) : pbx;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError('bad-url', 'The recording address is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DownloadError('bad-url', `Refused: recordings are only downloaded over http or https, not ${url.protocol.slice(0, 20)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new DownloadError('userinfo', 'Refused: the recording address contains a user name or password');
  }
  const hostname = url.hostname.toLowerCase();
  const port = url.port === '' ? defaultPort(url.protocol) : Number(url.port);
  if (hostname !== target.hostname || (target.port !== null && port !== target.port)) {
    const wanted = target.port === null ? target.hostname : `${target.hostname}:${target.port}`;
    throw new DownloadError('wrong-host', `Refused: the recording is on ${url.host.slice(0, 260)}, not on the PBX (${wanted})`);
  }
  return url;
}

/** A redirect target: resolved against the current URL, same PBX rules, and never https → http. */
export function checkRedirect(location: string, from: URL, pbx: PbxTarget): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new DownloadError('redirect', 'The PBX redirected to an invalid address');
  }
  if (from.protocol === 'https:' && next.protocol !== 'https:') {
    throw new DownloadError('redirect', 'Refused: the PBX redirected from https to an insecure address');
  }
  try {
    return checkRecordingUrl(next.href, pbx);
  } catch (err) {
    if (err instanceof DownloadError) throw new DownloadError('redirect', `Redirect refused. ${err.message}`);
    throw err;
  }
}

/**
 * Why Basic credentials must not go with a request to `url` (a sentence ending the user's error
 * message), or null when they may. They go only over https (http only if the admin allows it),
 * only to the exact origin (scheme, host, port) of the announced recording URL, only on the PBX's
 * configured port (the scheme's default when the setting names none: another port of the same
 * host may be another service), and never once a redirect has left that origin.
 */
export function credentialsRefusal(url: URL, plan: { url: URL; pbx: PbxTarget }, o: { leftOrigin: boolean; allowHttp: boolean }): string | null {
  if (o.leftOrigin || url.origin !== plan.url.origin) return `after a redirect to another address (${url.origin.slice(0, 300)})`;
  if (url.protocol === 'http:' && !o.allowHttp) {
    return 'over plain http; use an https recording address, or have your admin allow it (recordingAllowHttpCredentials)';
  }
  const port = url.port === '' ? defaultPort(url.protocol) : Number(url.port);
  const wanted = plan.pbx.port ?? defaultPort(url.protocol);
  if (port !== wanted) return `to port ${port}; to send them there, put the port in the PBX address in Settings (${plan.pbx.hostname}:${port})`;
  return null;
}
