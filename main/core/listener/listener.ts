// The embedded HTTP(S) listener the 3CX WebAPI add-on posts to (and the hub's). It is exposed to the
// LAN, so it trusts nothing: a secret path segment compared in constant time, an optional source
// allow-list applied when a connection arrives, connection slots rationed per source with room kept
// for the PBX (connection-gate.ts), a small body limit, tight timeouts, and no request can crash it
// or make it answer 5xx unless the webhook's effect could not be saved (then the PBX should retry).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { BlockList, isIP, type Server as NetServer, type Socket } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { createSecureContext } from 'node:tls';
import type { RawWebhook } from '../../../shared/webhook/event';
import { silentLogger, type Logger } from '../../../shared/diagnostics-log';
import { webhookUrl } from '../../../shared/settings';
import { ConnectionGate, defaultConnectionLimits } from './connection-gate';
import { RateLimitedLog } from '../rate-limited-log';

/** What the handler made of a webhook. A rejected promise means "not durable": 503, the PBX retries. */
export type WebhookOutcome = { status: 'ok' } | { status: 'invalid'; reason: string };
export type WebhookHandler = (raw: RawWebhook, from: string) => Promise<WebhookOutcome>;

export interface ListenerTimeouts {
  /** Whole request head must arrive within this. */
  headersMs: number;
  /** Whole request (head + body) must arrive within this. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
}

export interface ListenerOptions {
  host: string;
  /** 0 = any free port; the real one is on the returned listener. */
  port: number;
  secret: string;
  /** IPs or CIDR ranges; empty = anyone who knows the URL. */
  allowedSources?: readonly string[];
  /** Loopback may always post (the "Send test call" button replays through this listener). Default true. */
  allowLoopback?: boolean;
  onWebhook: WebhookHandler;
  logger?: Logger;
  bodyLimitBytes?: number;
  timeouts?: Partial<ListenerTimeouts>;
  /** Open connections in all (default 512). */
  maxConnections?: number;
  /** Open connections per untrusted source address (IPv6: per /64); trusted sources 4 times as many. Default 16. */
  maxConnectionsPerSource?: number;
  /**
   * Slots (of maxConnections) only trusted sources may use: those in allowedSources, and those that
   * recently posted a valid webhook with the secret (the PBX). Default 64.
   */
  reservedConnections?: number;
  /** PEM certificate (chain) and private key: serve HTTPS on the same routes and limits, so the secret in the URL is not sent in clear. */
  tls?: ListenerTls;
  /** Where the user chooses the port, for a listen error ("with --port" for the hub). Default: the app's Settings or --port. */
  portAdvice?: string;
}

export interface ListenerTls {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** "https" when started with `tls`. */
  readonly scheme: 'http' | 'https';
  /** Stop accepting, let requests in flight finish (bounded), then close every connection. */
  close(): Promise<void>;
  /** A renewed certificate and key for the connections from now on (HTTPS only); throws, keeping the old ones, when they are bad. */
  setTls(tls: ListenerTls): void;
}

export const defaultBodyLimit = 64 * 1024;
const defaultTimeouts: ListenerTimeouts = { headersMs: 10_000, requestMs: 15_000, keepAliveMs: 5_000 };
const allowedMethods = 'GET, POST';


/**
 * Puts a connection gate in front of a server (the webhook listener, every port of the hub's broker):
 * the listeners node:http / node:tls / node:net registered for 'connection' run only for admitted
 * sockets, so a refused one costs no parser. `admitted` runs first for each admitted socket.
 */
export function admitThroughGate(server: NetServer, gate: ConnectionGate, refused: (from: string, reason: string) => void, admitted?: (socket: Socket, from: string) => void): void {
  const protocolListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const from = normalizeAddress(socket.remoteAddress ?? '');
    const admission = from ? gate.admit(socket, from) : ({ ok: false, reason: 'connection already closed' } as const);
    if (!admission.ok) {
      refused(from, admission.reason);
      socket.resetAndDestroy();
      return;
    }
    admitted?.(socket, from);
    for (const listener of protocolListeners) listener.call(server, socket);
  });
}

/** "::ffff:192.0.2.1" → "192.0.2.1", so IPv4 sources match IPv4 allow-list entries on dual-stack sockets. */
export function normalizeAddress(address: string): string {
  // Only a mapped address starts with ":" (called for every webhook: skip the regex for the rest).
  if (address.charCodeAt(0) !== 58) return address;
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m?.[1] ?? address;
}

const ipType = (address: string): 'ipv4' | 'ipv6' | null => {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : null;
};

/** Build the allow-list; throws a one-line error naming a bad entry. */
export function buildAllowList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [addrPart = '', prefixPart] = entry.trim().split('/');
    const addr = normalizeAddress(addrPart);
    const type = ipType(addr);
    if (!type) throw new Error(`Allow-list entry "${entry}" is not an IP address or range.`);
    if (prefixPart === undefined) {
      list.addAddress(addr, type);
      continue;
    }
    const prefix = Number(prefixPart);
    const max = type === 'ipv4' ? 32 : 128;
    if (!/^\d{1,3}$/.test(prefixPart) || prefix > max) throw new Error(`Allow-list entry "${entry}" has a bad prefix length (0 to ${max}).`);
    list.addSubnet(addr, prefix, type);
  }
  return list;
}

const isLoopback = (addr: string): boolean => addr === '::1' || addr.startsWith('127.');

function sourceAllowed(list: BlockList | null, allowLoopback: boolean, remote: string): boolean {
  if (!list) return true;
  const addr = normalizeAddress(remote);
  if (allowLoopback && isLoopback(addr)) return true;
  const type = ipType(addr);
  return type !== null && list.check(addr, type);
}

let addressListError: string | null = null;

/** Why this machine's addresses could not be listed the last time they were asked for (e.g. a sandbox
 * without netlink sockets), or null. The URLs then show the host name instead. */
export function addressListProblem(): string | null {
  return addressListError;
}

/** Every address of this PC a PBX might use, best guess first (non-internal IPv4, then IPv6 unless
 * ipv4Only). Where the list cannot be read it is the host name: the URL is a display nicety, never a
 * reason not to start. */
export function reachableAddresses(ipv4Only = false): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  let interfaces: ReturnType<typeof networkInterfaces>;
  try {
    interfaces = networkInterfaces();
    addressListError = null;
  } catch (e) {
    addressListError = (e as Error).message;
    return [hostname()];
  }
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') v4.push(a.address);
      else if (!a.address.startsWith('fe80')) v6.push(a.address);
    }
  }
  return ipv4Only ? v4 : [...v4, ...v6];
}

/** The webhook URLs to show for a listener bound to `host`; for a wildcard host, one per address. */
export function webhookUrlsFor(host: string, port: number, secret: string, scheme: 'http' | 'https' = 'http'): string[] {
  // 0.0.0.0 listens on IPv4 only; "::" (dual stack) on both.
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const hosts = wildcard ? reachableAddresses(host === '0.0.0.0') : [host];
  if (hosts.length === 0) hosts.push('127.0.0.1');
  return hosts.map((h) => webhookUrl(h, port, secret, scheme));
}

/** A listen failure in words the user can act on. */
export function listenErrorMessage(err: NodeJS.ErrnoException, host: string, port: number, where = 'in Settings → Connection or with --port'): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `Port ${port} is already in use by another program (or another Callpop). Choose another port ${where}, or close the other program.`;
    case 'EACCES':
      return `Port ${port} may not be used by this user (ports below 1024 need administrator rights on some systems). Choose a port above 1024 ${where}.`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this PC. Use 0.0.0.0 to listen on every network, or one of this PC's addresses.`;
    default:
      return `Cannot listen on ${host}:${port}: ${err.message}`;
  }
}

const oneLine = (s: string): string => s.replace(/[\r\n\t]+/g, ' ').slice(0, 300);

function replyHeaders(body: string, extra: Record<string, string>): Record<string, string | number> {
  return {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    ...extra,
  };
}

function reply(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = `${oneLine(text)}\n`;
  res.writeHead(status, replyHeaders(body, extra));
  res.end(body);
}

/** The 200 every accepted webhook gets, built once (node:http only reads the headers object). */
const okBody = 'OK\n';
const okHeaders = replyHeaders(okBody, {});

export async function startListener(options: ListenerOptions): Promise<Listener> {
  const logger = options.logger ?? silentLogger;
  const bodyLimit = options.bodyLimitBytes ?? defaultBodyLimit;
  const timeouts = { ...defaultTimeouts, ...options.timeouts };
  const allowList = options.allowedSources && options.allowedSources.length > 0 ? buildAllowList(options.allowedSources) : null;
  const allowLoopback = options.allowLoopback ?? true;
  const max = Math.max(1, options.maxConnections ?? defaultConnectionLimits.max);
  const limits = {
    max,
    perSource: Math.max(1, options.maxConnectionsPerSource ?? defaultConnectionLimits.perSource),
    // Untrusted sources keep at least one slot.
    reserved: Math.min(max - 1, options.reservedConnections ?? Math.min(defaultConnectionLimits.reserved, Math.floor(max / 8))),
  };
  const gate = new ConnectionGate(
    limits,
    allowList ? (addr) => sourceAllowed(allowList, false, addr) : null,
    (addr) => sourceAllowed(allowList, allowLoopback, addr),
  );
  const secret = options.secret;
  const rejects = new RateLimitedLog(logger, 'rejected webhook requests');
  const prefix = '/webhook/';
  let closing: Promise<void> | null = null;
  // Once closing, an answered keep-alive connection is closed at once: close() need not wait for the
  // PBX to go idle (or for the force timer), so shutdown and a rebind are not held up for seconds.
  const send = (res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void =>
    reply(res, status, text, closing ? { ...extra, Connection: 'close' } : extra);

  const secretMatches = (path: string): boolean => {
    if (!path.startsWith(prefix)) return false;
    let segment = path.slice(prefix.length);
    if (segment.endsWith('/')) segment = segment.slice(0, -1);
    // Constant time over the content; the length is no secret (every secret has the same format). The
    // same comparison as crypto.timingSafeEqual, over UTF-16 code units, without a Buffer per webhook:
    // every unit is compared and the differences OR-ed, never an early exit.
    if (segment.length !== secret.length) return false;
    let diff = 0;
    for (let i = 0; i < secret.length; i++) diff |= segment.charCodeAt(i) ^ secret.charCodeAt(i);
    return diff === 0;
  };

  const reject = (req: IncomingMessage, res: ServerResponse, status: number, reason: string, extra?: Record<string, string>): void => {
    rejects.note(`Webhook rejected (${status} ${reason}) from ${normalizeAddress(req.socket.remoteAddress ?? '?')}`);
    send(res, status, reason, extra);
  };

  // The request path is callbacks, not async functions: it runs for every webhook of the PBX (most of
  // them other extensions' calls), and each await and closure was a measurable part of its CPU time.
  const failed = (res: ServerResponse, e: unknown): void => {
    logger.error(`Webhook request failed: ${(e as Error)?.message ?? String(e)}`);
    // Reading the request failed (client went away); answer if the socket still can.
    send(res, 400, 'Bad request');
  };

  const deliver = (req: IncomingMessage, res: ServerResponse, raw: RawWebhook, from: string): void => {
    let pending: Promise<WebhookOutcome>;
    try {
      pending = options.onWebhook(raw, from);
    } catch (e) {
      notSaved(res, e);
      return;
    }
    pending.then(
      (outcome) => {
        try {
          if (outcome.status === 'invalid') return reject(req, res, 400, outcome.reason);
          gate.prove(from);
          if (closing) send(res, 200, 'OK');
          else if (!res.headersSent && !res.destroyed) res.writeHead(200, okHeaders).end(okBody);
        } catch (e) {
          failed(res, e);
        }
      },
      (e: unknown) => notSaved(res, e),
    );
  };

  const notSaved = (res: ServerResponse, e: unknown): void => {
    logger.error(`Webhook not saved, asking the PBX to retry: ${(e as Error).message}`);
    send(res, 503, 'Could not save the call; retry later', { 'Retry-After': '5' });
  };

  const handle = (req: IncomingMessage, res: ServerResponse, remote: string): void => {
    if (!sourceAllowed(allowList, allowLoopback, remote)) return reject(req, res, 403, 'Source address not allowed');
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? '' : url.slice(q + 1);
    if (!secretMatches(path)) return reject(req, res, 404, 'Not found');
    const method = req.method;
    if (method !== 'GET' && method !== 'POST') return reject(req, res, 405, 'Method not allowed; use GET or POST', { Allow: allowedMethods });
    const from = normalizeAddress(remote);
    if (method === 'GET') return deliver(req, res, { method, query, body: '', contentType: req.headers['content-type'] }, from);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > bodyLimit) return tooLarge(req, res);
    readBody(req, bodyLimit, (error, text) => {
      if (error) return failed(res, error);
      if (text === null) return tooLarge(req, res);
      deliver(req, res, { method, query, body: text, contentType: req.headers['content-type'] }, from);
    });
  };

  const tooLarge = (req: IncomingMessage, res: ServerResponse): void => {
    reject(req, res, 413, `Body larger than ${bodyLimit} bytes`, { Connection: 'close' });
    // Stop reading: the rest of an oversized body is not worth the bandwidth.
    res.once('finish', () => req.socket.destroy());
  };

  const httpOptions: ServerOptions = {
    maxHeaderSize: 16 * 1024,
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // Check the timeouts above often enough for them to mean something (Node's default is 30 s).
    connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    const { remoteAddress, remotePort } = socket;
    gate.setBusy(remoteAddress, remotePort, true, socket);
    // 'close' comes once per response ('on' spares once()'s wrapper).
    res.on('close', () => gate.setBusy(remoteAddress, remotePort, false, socket));
    try {
      handle(req, res, remoteAddress ?? '');
    } catch (e) {
      failed(res, e);
    }
  };
  const server: Server = options.tls
    ? createHttpsServer(
        {
          ...httpOptions,
          ...tlsContext(options.tls),
          // A client that never finishes the handshake holds a slot no longer than one stuck in its head.
          handshakeTimeout: timeouts.headersMs,
        },
        onRequest,
      )
    : createServer(httpOptions, onRequest);
  admitThroughGate(server, gate, (from, reason) => rejects.note(`Connection refused (${reason}) from ${from || '?'}`));
  // A backstop only: the gate enforces maxConnections, and refused sockets count here until they close.
  server.maxConnections = limits.max * 2;
  server.maxHeadersCount = 100;
  // Backstop for sockets idle between the parser's own checks.
  server.setTimeout(timeouts.requestMs + timeouts.keepAliveMs);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (err.code !== 'ECONNRESET') rejects.note(`Webhook rejected (${status}) from ${normalizeAddress(socket.remoteAddress ?? '?')}: ${err.code ?? err.message}`);
    if (socket.writable && !socket.destroyed) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  });
  // A failed handshake (plain HTTP to the TLS port, an untrusted client) is the client's problem: log, never throw.
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code !== 'ECONNRESET') rejects.note(`TLS handshake failed from ${normalizeAddress(socket.remoteAddress ?? '?')}: ${err.code ?? err.message}`);
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(Object.assign(new Error(listenErrorMessage(err, options.host, options.port, options.portAdvice)), { code: err.code }));
    server.once('error', onError);
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e) => logger.error(`Listener error: ${e.message}`));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  return {
    host: options.host,
    port,
    scheme: options.tls ? 'https' : 'http',
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 3000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
    setTls(tls: ListenerTls): void {
      if (!options.tls) throw new Error('This listener serves plain HTTP; start it with a certificate to serve HTTPS.');
      // Connections already open keep their session; new handshakes get the new certificate.
      (server as unknown as { setSecureContext(o: ListenerTls): void }).setSecureContext(tlsContext(tls));
    },
  };
}

const maxPemBytes = 1024 * 1024;

/**
 * Read the PEM certificate and key files named in the settings; null when neither is set. Throws one
 * line the user can act on (half a pair, a missing or unreadable file); startListener then checks
 * that they are PEM and belong together.
 */
export async function readTlsFiles(certFile: string, keyFile: string): Promise<ListenerTls | null> {
  if (!certFile && !keyFile) return null;
  if (!certFile || !keyFile) throw new Error(`Cannot serve HTTPS: the ${certFile ? 'private key' : 'certificate'} file is not set (set both files, or neither).`);
  const read = async (file: string, what: string): Promise<Buffer> => {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'does not exist' : err.code === 'EACCES' || err.code === 'EPERM' ? 'may not be read by this user' : err.code === 'EISDIR' ? 'is a folder' : err.message;
      throw new Error(`Cannot serve HTTPS: the ${what} file ${file} ${why}.`, { cause: e });
    }
    if (data.length > maxPemBytes) throw new Error(`Cannot serve HTTPS: the ${what} file ${file} is larger than 1 MiB; is it the right file?`);
    return data;
  };
  const [cert, key] = await Promise.all([read(certFile, 'certificate'), read(keyFile, 'private key')]);
  return { cert, key };
}

/** The certificate and key, checked up front so a bad pair fails with words the user can act on. */
function tlsContext(tls: ListenerTls): ListenerTls {
  const fail = (what: string, cause?: unknown): never => {
    throw Object.assign(new Error(`Cannot serve HTTPS: ${what}.`, { cause }), { code: 'ERR_LISTENER_TLS' });
  };
  // An empty key would silently give a server that fails every handshake.
  if (tls.cert.length === 0 || tls.key.length === 0) fail(`the ${tls.cert.length === 0 ? 'certificate' : 'private key'} is empty`);
  try {
    new X509Certificate(tls.cert);
  } catch (e) {
    fail('the certificate is not a PEM certificate', e);
  }
  try {
    createPrivateKey(tls.key);
  } catch (e) {
    const encrypted = /INTERRUPTED_OR_CANCELLED|BAD_DECRYPT|PASSPHRASE/i.test((e as NodeJS.ErrnoException).code ?? '');
    fail(encrypted ? 'the private key is encrypted; give it without a passphrase' : 'the private key is not a PEM private key', e);
  }
  try {
    createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    fail(/KEY_VALUES_MISMATCH|key values mismatch/i.test(`${err.code ?? ''} ${err.message}`) ? 'the private key does not belong to the certificate' : err.message, e);
  }
  return { cert: tls.cert, key: tls.key };
}

/** The body as UTF-8 text, or null once it exceeds `limit` bytes; `done` is called once. */
function readBody(req: IncomingMessage, limit: number, done: (error: Error | null, text: string | null) => void): void {
  // A webhook's body is nearly always one chunk: kept as is, no list and no copy.
  let first: Buffer | null = null;
  let more: Buffer[] | null = null;
  let size = 0;
  let finished = false;
  const finish = (error: Error | null, text: string | null): void => {
    if (finished) return;
    finished = true;
    done(error, text);
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > limit) {
      req.off('data', onData);
      req.pause();
      finish(null, null);
      return;
    }
    if (first === null) first = chunk;
    else (more ??= [first]).push(chunk);
  };
  // on(), not once(): `finish` already runs once, and once() costs a bound wrapper per listener.
  req.on('data', onData);
  req.on('end', () => finish(null, more ? Buffer.concat(more, size).toString('utf8') : first ? first.toString('utf8') : ''));
  req.on('error', (e: Error) => finish(e, null));
  req.on('aborted', () => finish(new Error('request aborted'), null));
}
