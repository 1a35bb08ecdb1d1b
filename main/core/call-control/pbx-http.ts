// The PBX's address and one bounded HTTP(S) request to it, for the Call Control client: TLS verified
// (optionally against a given CA), plain http only to a loopback address (tests, a local proxy),
// answers capped in size and time, so a misbehaving PBX cannot stall or swell the process.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

export class PbxUrlError extends Error {}

const LOOPBACK_NAMES = new Set(['localhost', '[::1]', '::1']);
export const isLoopbackHost = (host: string): boolean =>
  LOOPBACK_NAMES.has(host) || (isIP(host) === 4 && host.startsWith('127.'));

/** `--pbx URL`: https://host[:port], or http:// to a loopback address. No path, credentials or query. */
export function parsePbxUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PbxUrlError(`--pbx must be a URL like https://pbx.example.com, got "${text}".`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PbxUrlError(`--pbx must start with https://, got "${text}".`);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new PbxUrlError('--pbx over http:// is accepted only for a loopback address (127.0.0.1, ::1, localhost): use https://.');
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new PbxUrlError('--pbx takes only the scheme, host and port (no path, credentials or query).');
  }
  return url;
}

export interface PbxHttpOptions {
  base: URL;
  /** PEM CA to trust for the PBX (self-signed or private CA). */
  ca?: string | Buffer | undefined;
  timeoutMs?: number;
  /** Keep-alive connections (pbxAgent): an entity GET per event must not pay a TLS handshake each. */
  agent?: HttpAgent | HttpsAgent | undefined;
}

/** One keep-alive agent per PBX client (a few sockets: events are fetched in parallel). */
export function pbxAgent(base: URL, ca?: string | Buffer): HttpAgent | HttpsAgent {
  return base.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 8, ...(ca ? { ca } : {}) }) : new HttpAgent({ keepAlive: true, maxSockets: 8 });
}

export interface PbxAnswer {
  status: number;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  json: unknown;
}

/** Bodies larger than this are refused (a 20,000-DN snapshot is a few MB). */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

export function pbxRequest(
  o: PbxHttpOptions,
  method: 'GET' | 'POST',
  path: string,
  opts: { token?: string; json?: unknown; form?: Record<string, string>; maxBytes?: number } = {},
): Promise<PbxAnswer> {
  const url = new URL(path, o.base);
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (opts.form) {
    body = new URLSearchParams(opts.form).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
  } else if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const max = opts.maxBytes ?? MAX_ANSWER_BYTES;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, ...(url.protocol === 'https:' && o.ca ? { ca: o.ca } : {}), ...(o.agent ? { agent: o.agent } : {}), timeout: o.timeoutMs ?? 10_000 }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) {
          req.destroy(new Error(`the PBX's answer to ${method} ${url.pathname} is larger than ${max} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        if (text) {
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`the PBX did not answer ${method} ${url.pathname} in time`)));
    req.on('error', reject);
    req.end(body);
  });
}
