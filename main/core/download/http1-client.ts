// A minimal, strict HTTP/1.1 client for the one GET a recording download needs, over a plain or
// TLS socket that reads into ONE reused buffer (`onread`), so the body goes from the socket
// straight into the file sink without a Buffer per read. The PBX is untrusted: the status line,
// header names and values, chunk sizes and lengths are checked, the head is capped at 16 KiB,
// and anything malformed fails the try with a one-line DownloadError (never a crash).
// A hostile or broken PBX cannot hold a download (or the event loop) either: interim 1xx answers
// are capped in number and bytes, the head has an overall deadline, the body a minimum rate, and
// after every MiB read the socket pauses until the event loop has run once (setImmediate).
import net from 'node:net';
import tls from 'node:tls';
import { DownloadError, canceledError, certMismatchMessage, networkError } from './errors';
import { peerMatchesPin } from './tls-pin';

const readBufferSize = 256 * 1024;
export const maxHeadBytes = 16 * 1024;
const maxChunkLine = 1024;
/** Interim answers (100 Continue, 103 Early Hints) before the real one: a real server sends one or two. */
export const maxInterimResponses = 10;
export const maxInterimBytes = 16 * 1024;
/** Bytes read before the socket pauses until setImmediate, so other work (timers, webhooks) runs first. */
const yieldEveryBytes = 1024 * 1024;

export interface Http1Response {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", " (Content-Length must agree). */
  headers: ReadonlyMap<string, string>;
}

/** Receives the body in pieces of the reused read buffer; see FileSink.push. */
export interface BodySink {
  push(src: Buffer, start: number, end: number): Promise<void> | null;
}

export interface Http1Options {
  url: URL;
  headers: Record<string, string>;
  /** Normalized SHA-256 fingerprint to pin (https only), or null for normal verification. */
  pin: string | null;
  idleTimeoutMs: number;
  /** From connect to the end of the final response head, whatever trickles in meanwhile. */
  headTimeoutMs: number;
  /** The body must bring at least bytesPerSec on average over every windowMs (not counted while our disk is behind). */
  minRate: { bytesPerSec: number; windowMs: number };
  signal: AbortSignal | undefined;
}

const invalid = (what: string): DownloadError => new DownloadError('connection', `The PBX sent an invalid HTTP response (${what})`);
const statusLine = /^HTTP\/1\.[01] ([1-9]\d{2})(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const headerLine = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t ]*([\t\x20-\x7e\x80-\xff]*?)[\t ]*$/;
const chunkLine = /^([0-9A-Fa-f]{1,13})[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?$/;

type Framing = { kind: 'length'; left: number } | { kind: 'close' } | { kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailer'; left: number; line: string; trailerBytes: number };

/** One request/response exchange on its own connection (Connection: close). */
export class Http1Exchange {
  readonly #socket: net.Socket;
  readonly #opts: Http1Options;
  #phase: 'connecting' | 'head' | 'held' | 'body' | 'done' = 'connecting';
  #head: Buffer = Buffer.alloc(0);
  #framing: Framing = { kind: 'close' };
  #sink: BodySink | null = null;
  /** Bytes that arrived while the sink was busy (or before the body was asked for), copied aside. */
  #queue: Buffer[] = [];
  #blocked = false;
  #bodyDone = false;
  readonly #readBuffers: [Buffer, Buffer] = [Buffer.allocUnsafe(readBufferSize), Buffer.allocUnsafe(readBufferSize)];
  /** Read buffers that queued bytes or a waiting sink still refer to. */
  readonly #pinned = new Set<Buffer>();
  #endSeen = false;
  #failure: DownloadError | null = null;
  #interimCount = 0;
  #interimBytes = 0;
  #headTimer: NodeJS.Timeout | null = null;
  #rateTimer: NodeJS.Timeout | null = null;
  /** Body bytes read in the current rate window, and whether the sink held the socket back during it. */
  #windowBytes = 0;
  #sinkBusyInWindow = false;
  #turnBytes = 0;
  #yielding = false;
  #onHead: { resolve: (r: Http1Response) => void; reject: (e: DownloadError) => void } | null = null;
  #onBody: { resolve: () => void; reject: (e: DownloadError) => void } | null = null;
  readonly response: Promise<Http1Response>;
  readonly #onAbort = (): void => this.fail(canceledError());

  constructor(opts: Http1Options) {
    this.#opts = opts;
    this.response = new Promise((resolve, reject) => (this.#onHead = { resolve, reject }));
    this.response.catch(() => undefined);
    const { url } = opts;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const onread = { buffer: () => this.#nextReadBuffer(), callback: (n: number, buf: Buffer): boolean => this.#data(buf, 0, n) };
    if (url.protocol === 'https:') {
      const pinned = opts.pin !== null;
      this.#socket = tls.connect({
        host,
        port: Number(url.port || 443),
        ...(net.isIP(host) ? {} : { servername: host }),
        // With a pin, the fingerprint check on 'secureConnect' replaces the chain check.
        rejectUnauthorized: !pinned,
        ...(pinned ? { checkServerIdentity: () => undefined } : {}),
        onread,
      } as tls.ConnectionOptions);
      this.#socket.once('secureConnect', () => {
        if (opts.pin !== null && !peerMatchesPin(this.#socket as tls.TLSSocket, opts.pin)) {
          return this.fail(new DownloadError('cert-mismatch', certMismatchMessage));
        }
        this.#send();
      });
    } else {
      this.#socket = net.connect({ host, port: Number(url.port || 80), onread });
      this.#socket.once('connect', () => this.#send());
    }
    this.#socket.setTimeout(opts.idleTimeoutMs, () => this.fail(new DownloadError('timeout', `The PBX sent nothing for ${seconds(opts.idleTimeoutMs)} s`)));
    // The idle timeout alone lets a server trickle a byte at a time forever.
    this.#headTimer = setTimeout(() => this.fail(new DownloadError('timeout', `The PBX did not answer within ${seconds(opts.headTimeoutMs)} s`)), opts.headTimeoutMs);
    this.#socket.on('error', (err) => this.fail(networkError(err)));
    this.#socket.on('end', () => this.#ended());
    this.#socket.on('close', () => this.#ended());
    if (opts.signal?.aborted) this.fail(canceledError());
    else opts.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  #send(): void {
    if (this.#failure) return;
    const { url, headers } = this.#opts;
    const target = `${url.pathname}${url.search}`;
    const lines = [`GET ${target} HTTP/1.1`, `Host: ${url.host}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    lines.push('Connection: close', '', '');
    const text = lines.join('\r\n');
    // Nothing from the URL or a server-given validator may break the request's framing.
    if (/[^\x20-\x7e\r\n]/.test(target + url.host) || lines.slice(0, -2).some((l) => /[\r\n]/.test(l))) {
      return this.fail(new DownloadError('bad-url', 'The recording address has characters that cannot be sent'));
    }
    this.#phase = 'head';
    this.#socket.write(text, 'latin1');
  }

  /** The body, pushed into `sink` until it is complete; rejects on any failure. */
  readBody(sink: BodySink): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const done = new Promise<void>((resolve, reject) => (this.#onBody = { resolve, reject }));
    this.#sink = sink;
    this.#phase = 'body';
    this.#startRateCheck();
    if (this.#framing.kind === 'length' && this.#framing.left === 0) this.#bodyComplete();
    else this.#drain();
    return done;
  }

  /** Stop: close the connection (a redirect, an error status, a refused body). */
  destroy(): void {
    this.#finish();
  }

  fail(e: DownloadError): void {
    if (this.#phase === 'done') return;
    this.#failure ??= e;
    this.#onHead?.reject(this.#failure);
    this.#onBody?.reject(this.#failure);
    this.#finish();
  }

  #finish(): void {
    this.#phase = 'done';
    this.#queue = [];
    if (this.#headTimer) clearTimeout(this.#headTimer);
    if (this.#rateTimer) clearInterval(this.#rateTimer);
    this.#opts.signal?.removeEventListener('abort', this.#onAbort);
    this.#socket.destroy();
  }

  /** The peer closed its side: fine for a close-delimited body once every queued byte is in. */
  #ended(): void {
    if (this.#phase === 'done') return;
    if (this.#phase === 'connecting' || this.#phase === 'head') {
      return this.fail(networkError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    }
    if (this.#phase === 'held' || this.#blocked || this.#queue.length > 0) {
      this.#endSeen = true;
      return;
    }
    if (this.#framing.kind === 'close') return this.#complete();
    this.fail(networkError(Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })));
  }

  #complete(): void {
    const body = this.#onBody;
    this.#finish();
    body?.resolve();
  }

  /**
   * Where the socket reads next: one of two reused buffers, never one that queued bytes or a busy
   * sink still point into (a read can still land after pause()); a fresh one only if both are.
   */
  #nextReadBuffer(): Buffer {
    for (const b of this.#readBuffers) if (!this.#pinned.has(b)) return b;
    return Buffer.allocUnsafe(64 * 1024);
  }

  /** Judge each window of the body: too few bytes while our side was ready to take them fails the try. */
  #startRateCheck(): void {
    const { bytesPerSec, windowMs } = this.#opts.minRate;
    const least = (bytesPerSec * windowMs) / 1000;
    this.#sinkBusyInWindow = this.#blocked;
    this.#rateTimer = setInterval(() => {
      if (this.#phase !== 'body') return;
      if (!this.#sinkBusyInWindow && this.#windowBytes < least) {
        return this.fail(new DownloadError('timeout', `The PBX sent the recording too slowly (under ${formatRate(bytesPerSec)} for ${seconds(windowMs)} s)`));
      }
      this.#windowBytes = 0;
      this.#sinkBusyInWindow = this.#blocked;
    }, windowMs);
  }

  /**
   * Give the event loop a turn after every MiB read: the socket pauses and resumes on
   * setImmediate, so timers, webhooks and other sockets run between big bursts.
   */
  #countTurn(n: number): void {
    this.#turnBytes += n;
    if (this.#turnBytes < yieldEveryBytes || this.#yielding) return;
    this.#yielding = true;
    this.#socket.pause();
    setImmediate(() => {
      this.#yielding = false;
      this.#turnBytes = 0;
      if (this.#phase === 'head' || this.#phase === 'connecting') this.#socket.resume();
      else if (this.#phase === 'body' && !this.#blocked) this.#drain();
    });
  }

  /** onread callback: `buf` is reused by a later read unless it is pinned here. */
  #data(buf: Buffer, start: number, end: number): boolean {
    if (this.#phase === 'done') return false;
    this.#countTurn(end - start);
    if (this.#phase === 'head' || this.#phase === 'connecting') {
      this.#readHead(buf, start, end);
      return true;
    }
    this.#windowBytes += end - start;
    if (this.#phase === 'held' || this.#blocked) {
      this.#queue.push(buf.subarray(start, end));
      this.#pinned.add(buf);
      this.#socket.pause();
      return true;
    }
    if (this.#phase === 'body') this.#feed(buf, start, end);
    return true;
  }

  #readHead(buf: Buffer, start: number, end: number): void {
    this.#head = Buffer.concat([this.#head, buf.subarray(start, end)]);
    for (;;) {
      const at = this.#head.indexOf('\r\n\r\n', 0, 'latin1');
      if (at < 0) {
        if (this.#head.length > maxHeadBytes) this.fail(invalid('headers larger than 16 KiB'));
        return;
      }
      if (at + 4 > maxHeadBytes) return this.fail(invalid('headers larger than 16 KiB'));
      const text = this.#head.toString('latin1', 0, at);
      const rest = this.#head.subarray(at + 4);
      let res: Http1Response;
      try {
        res = parseHead(text);
      } catch (e) {
        return this.fail(e as DownloadError);
      }
      if (res.status < 200) {
        // 1xx interim answers (100 Continue, 103) are skipped; 101 would switch protocols. Capped:
        // an endless stream of them would otherwise hold the download (and this loop) forever.
        if (res.status === 101) return this.fail(invalid('unexpected 101'));
        this.#interimCount++;
        this.#interimBytes += at + 4;
        if (this.#interimCount > maxInterimResponses) return this.fail(invalid(`more than ${maxInterimResponses} interim 1xx responses`));
        if (this.#interimBytes > maxInterimBytes) return this.fail(invalid('interim 1xx responses larger than 16 KiB'));
        this.#head = Buffer.from(rest);
        continue;
      }
      try {
        this.#framing = framingOf(res);
      } catch (e) {
        return this.fail(e as DownloadError);
      }
      this.#head = Buffer.alloc(0);
      if (this.#headTimer) clearTimeout(this.#headTimer);
      this.#headTimer = null;
      if (rest.length > 0) this.#queue.push(rest);
      this.#windowBytes += rest.length;
      this.#phase = 'held';
      this.#socket.pause();
      this.#onHead?.resolve(res);
      return;
    }
  }

  /** Consume queued bytes, then let the socket read again. */
  #drain(): void {
    while (this.#queue.length > 0 && !this.#blocked && !this.#bodyDone && this.#phase === 'body') {
      const b = this.#queue.shift() as Buffer;
      this.#feed(b, 0, b.length);
    }
    if (this.#phase !== 'body' || this.#blocked) return;
    this.#pinned.clear();
    if (this.#bodyDone) return this.#complete();
    if (this.#endSeen) {
      this.#endSeen = false;
      return this.#ended();
    }
    if (!this.#yielding) this.#socket.resume();
  }

  /** The framing says the body is complete; done once the sink has taken it all. */
  #bodyComplete(): void {
    if (this.#phase !== 'body') return;
    this.#bodyDone = true;
    this.#queue = [];
    if (!this.#blocked) this.#complete();
  }

  #push(buf: Buffer, start: number, end: number): boolean {
    let wait: Promise<void> | null;
    try {
      wait = (this.#sink as BodySink).push(buf, start, end);
    } catch (e) {
      this.fail(networkError(e));
      return false;
    }
    if (wait === null) return true;
    this.#pinned.add(buf);
    this.#blocked = true;
    this.#sinkBusyInWindow = true;
    this.#socket.pause();
    wait.then(
      () => {
        this.#blocked = false;
        this.#drain();
      },
      (e: unknown) => this.fail(networkError(e)),
    );
    return false;
  }

  /** Body bytes through the framing into the sink; stops (copying the rest aside) if the sink is busy. */
  #feed(buf: Buffer, start: number, end: number): void {
    let s = start;
    const f = this.#framing;
    const hold = (): void => {
      if (s < end && this.#phase === 'body') {
        this.#queue.unshift(buf.subarray(s, end));
        this.#pinned.add(buf);
      }
    };
    while (s < end && this.#phase === 'body' && !this.#bodyDone) {
      if (f.kind === 'close') {
        const ok = this.#push(buf, s, end);
        s = end;
        if (!ok) return;
      } else if (f.kind === 'length') {
        const n = Math.min(f.left, end - s);
        f.left -= n;
        const ok = n > 0 ? this.#push(buf, s, s + n) : true;
        s += n;
        if (f.left === 0) return this.#bodyComplete();
        if (!ok) return hold();
      } else {
        if (f.state === 'data') {
          const n = Math.min(f.left, end - s);
          f.left -= n;
          const ok = this.#push(buf, s, s + n);
          s += n;
          if (f.left === 0) {
            f.state = 'data-end';
            f.line = '';
          }
          if (!ok) return hold();
          continue;
        }
        // Line-oriented states: size line, CRLF after data, trailer lines.
        const nl = buf.indexOf(0x0a, s);
        const stop = nl < 0 || nl >= end ? end : nl;
        f.line += buf.toString('latin1', s, stop);
        if (f.state === 'trailer') f.trailerBytes += stop - s;
        if (f.line.length > maxChunkLine || f.trailerBytes > maxHeadBytes) return this.fail(invalid('chunk line too long'));
        s = stop;
        if (nl < 0 || nl >= end) continue;
        s = nl + 1;
        if (!f.line.endsWith('\r')) return this.fail(invalid('bare LF in chunked body'));
        const line = f.line.slice(0, -1);
        f.line = '';
        if (f.state === 'data-end') {
          if (line !== '') return this.fail(invalid('missing CRLF after a chunk'));
          f.state = 'size';
        } else if (f.state === 'size') {
          const m = chunkLine.exec(line);
          if (!m) return this.fail(invalid('bad chunk size'));
          f.left = parseInt(m[1] as string, 16);
          f.state = f.left === 0 ? 'trailer' : 'data';
        } else if (line === '') {
          return this.#bodyComplete();
        }
      }
    }
  }
}

const seconds = (ms: number): string => String(Math.round(ms / 100) / 10);
const formatRate = (bytesPerSec: number): string => (bytesPerSec >= 1024 ? `${Math.round(bytesPerSec / 102.4) / 10} KB/s` : `${bytesPerSec} bytes/s`);

function parseHead(text: string): Http1Response {
  const lines = text.split('\r\n');
  const m = statusLine.exec(lines[0] as string);
  if (!m) throw invalid('bad status line');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const h = headerLine.exec(line);
    if (!h) throw invalid('bad header line');
    const name = (h[1] as string).toLowerCase();
    const value = h[2] as string;
    const prev = headers.get(name);
    if (prev !== undefined && name === 'content-length' && prev !== value) throw invalid('conflicting Content-Length');
    headers.set(name, prev === undefined || name === 'content-length' ? value : `${prev}, ${value}`);
  }
  return { status: Number(m[1]), headers };
}

function framingOf(res: Http1Response): Framing {
  const te = res.headers.get('transfer-encoding');
  const cl = res.headers.get('content-length');
  if (te !== undefined) {
    if (te.toLowerCase() !== 'chunked') throw invalid(`unsupported Transfer-Encoding`);
    if (cl !== undefined) throw invalid('both Transfer-Encoding and Content-Length');
    return { kind: 'chunked', state: 'size', left: 0, line: '', trailerBytes: 0 };
  }
  if (cl !== undefined) {
    if (!/^\d{1,16}$/.test(cl)) throw invalid('bad Content-Length');
    return { kind: 'length', left: Number(cl) };
  }
  if (res.status === 204 || res.status === 304) return { kind: 'length', left: 0 };
  return { kind: 'close' };
}
