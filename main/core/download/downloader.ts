// Download one recording from the PBX into a folder, safely:
// - only URLs on the configured PBX host (checked before any DNS lookup or connection);
// - fetched with a strict minimal HTTP/1.1 client (./http1-client) that reads into reused buffers;
// - TLS verified normally, or pinned to one certificate fingerprint (./tls-pin);
// - streamed to a hidden temp file in the destination folder, fsynced, then published under a
//   never-existing final name (./unique-file), so no partial file ever carries the final name;
// - bounded retries with backoff for 5xx / connection errors, resuming with Range + If-Range;
// - hostile servers: size cap, idle timeout, a deadline for the head and a minimum rate for the
//   body, at most 10 interim 1xx answers, short bodies detected, at most 3 redirects;
// - Basic credentials only over https (or http if the admin allows it), only to the exact origin
//   of the announced URL on the PBX's configured port, never after a redirect elsewhere;
// - on failure or cancel the temp file is removed.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../../../shared/diagnostics-log';
import type { Logger } from '../../../shared/diagnostics-log';
import { sanitizeFileName } from '../../../shared/recording-file-name';
import { DownloadError, canceledError, fileError, httpStatusError, networkError } from './errors';
import { FileSink } from './file-sink';
import { Http1Exchange } from './http1-client';
import type { Http1Response } from './http1-client';
import { normalizeFingerprint } from './tls-pin';
import { publishFile } from './unique-file';
import { checkRecordingUrl, checkRedirect, credentialsRefusal, parsePbxHost } from './url-policy';
import type { PbxTarget } from './url-policy';

export interface Credentials {
  username: string;
  password: string;
}

export interface ByteProgress {
  receivedBytes: number;
  totalBytes: number | null;
}

export interface DownloadRecordingOptions {
  /** The pbxHost setting; only URLs on this host (and port, if given) are fetched. */
  pbxHost: string;
  /** Trust exactly this certificate (SHA-256 fingerprint); "" or absent = normal TLS verification. */
  fingerprint?: string | undefined;
  /** Existing folder to save into. */
  destDir: string;
  /** Wanted file name (sanitized again here); a free variant "name (1).mp3" is used if it exists. */
  fileName: string;
  credentials?: Credentials | null | undefined;
  /** Send the credentials over plain http too (the recordingAllowHttpCredentials setting). Default false. */
  allowHttpCredentials?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Called at most every `progressIntervalMs` while bytes arrive. */
  onProgress?: ((p: ByteProgress) => void) | undefined;
  logger?: Logger | undefined;
  /** Total tries for 5xx and connection errors. Default 3. */
  maxTries?: number | undefined;
  /** First backoff; doubled after each failed try. Default 1000 ms. */
  retryDelayMs?: number | undefined;
  /** The server may stay silent this long (connect, headers or body). Default 30 s. */
  idleTimeoutMs?: number | undefined;
  /** Connect, send and receive the whole response head within this. Default 60 s. */
  headTimeoutMs?: number | undefined;
  /** The body must average at least this over every rateWindowMs. Default 1 KiB/s. */
  minBytesPerSec?: number | undefined;
  /** Default 30 s. */
  rateWindowMs?: number | undefined;
  /** Refuse recordings larger than this. Default 2 GiB. */
  maxBytes?: number | undefined;
  progressIntervalMs?: number | undefined;
}

export interface DownloadResult {
  path: string;
  bytes: number;
}

const maxRedirects = 3;
const defaultMaxBytes = 2 * 1024 ** 3;
// A PBX answers a recording GET in well under a second; 60 s leaves room for a PBX under load
// behind a slow VPN while bounding what a server trickling its head can hold.
const defaultHeadTimeoutMs = 60_000;
// 1 KiB/s (8 kbit/s) is a thirtieth of the slowest office uplink (256 kbit/s); averaged over 30 s
// so a Wi-Fi roam or a busy PBX disk does not trip it, while a 1 byte/s trickle fails in 30 s.
const defaultMinBytesPerSec = 1024;
const defaultRateWindowMs = 30_000;

/** The validated request plan, built synchronously so that refusals never touch the network. */
export interface DownloadPlan {
  url: URL;
  pbx: PbxTarget;
  fingerprint: string | null;
}

/** Validate URL, PBX host and fingerprint; throws a DownloadError without any I/O. */
export function planDownload(rawUrl: string, pbxHost: string, fingerprint?: string): DownloadPlan {
  const pbx = parsePbxHost(pbxHost);
  const url = checkRecordingUrl(rawUrl, pbx);
  const fp = fingerprint && fingerprint.trim() !== '' ? normalizeFingerprint(fingerprint) : null;
  return { url, pbx, fingerprint: fp };
}

interface ResumeState {
  /** Bytes of the recording already in the temp file. */
  offset: number;
  /** Validator of the representation being resumed: strong ETag, else Last-Modified. */
  validator: string | null;
  totalBytes: number | null;
}

export async function downloadRecording(rawUrl: string, opts: DownloadRecordingOptions): Promise<DownloadResult> {
  const plan = planDownload(rawUrl, opts.pbxHost, opts.fingerprint);
  const signal = opts.signal;
  if (signal?.aborted) throw canceledError();
  const log = opts.logger ?? silentLogger;
  const maxTries = Math.max(1, opts.maxTries ?? 3);
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
  const maxBytes = opts.maxBytes ?? defaultMaxBytes;
  const finalName = sanitizeFileName(opts.fileName);
  const destDir = opts.destDir;

  try {
    const st = await fs.stat(destDir);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (err) {
    throw fileError(err, destDir);
  }

  const tempPath = path.join(destDir, `.${finalName}.${randomBytes(4).toString('hex')}.part`);
  let fh: FileHandle;
  try {
    fh = await fs.open(tempPath, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600);
  } catch (err) {
    throw fileError(err, destDir);
  }

  const state: ResumeState = { offset: 0, validator: null, totalBytes: null };
  let closed = false;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await fetchOnce(plan, state, {
          fh,
          credentials: opts.credentials ?? null,
          allowHttpCredentials: opts.allowHttpCredentials ?? false,
          signal,
          idleTimeoutMs,
          headTimeoutMs: opts.headTimeoutMs ?? defaultHeadTimeoutMs,
          minRate: { bytesPerSec: opts.minBytesPerSec ?? defaultMinBytesPerSec, windowMs: opts.rateWindowMs ?? defaultRateWindowMs },
          maxBytes,
          onProgress: opts.onProgress,
          progressIntervalMs: opts.progressIntervalMs ?? 100,
          destDir,
        });
        break;
      } catch (err) {
        const e = err instanceof DownloadError ? err : networkError(err);
        if (signal?.aborted) throw canceledError();
        if (!e.retryable || attempt >= maxTries) {
          if (e.retryable && attempt > 1) throw new DownloadError(e.code, `${e.message}, after ${attempt} tries`, { cause: e });
          throw e;
        }
        // Resume from what actually reached the file, whatever the stream counted.
        state.offset = (await fh.stat()).size;
        log.warn(`download: try ${attempt} failed (${e.message}); retrying from byte ${state.offset}`);
        await sleep(retryDelayMs * 2 ** (attempt - 1), signal);
      }
    }
    const bodyDone = performance.now();
    try {
      await fh.sync();
      await fh.close();
      closed = true;
    } catch (err) {
      throw fileError(err, destDir);
    }
    if (signal?.aborted) throw canceledError();
    let finalPath: string;
    try {
      finalPath = await publishFile(tempPath, destDir, finalName);
    } catch (err) {
      throw fileError(err, destDir);
    }
    log.info(`download: saved ${state.offset} bytes as ${path.basename(finalPath)} (fsync + rename ${Math.round(performance.now() - bodyDone)} ms)`);
    return { path: finalPath, bytes: state.offset };
  } catch (err) {
    if (!closed) await fh.close().catch(() => undefined);
    await fs.rm(tempPath, { force: true }).catch(() => undefined);
    throw err instanceof DownloadError ? err : fileError(err, destDir);
  }
}

interface FetchContext {
  fh: FileHandle;
  credentials: Credentials | null;
  allowHttpCredentials: boolean;
  signal: AbortSignal | undefined;
  idleTimeoutMs: number;
  headTimeoutMs: number;
  minRate: { bytesPerSec: number; windowMs: number };
  maxBytes: number;
  onProgress: ((p: ByteProgress) => void) | undefined;
  progressIntervalMs: number;
  destDir: string;
}

/** One try: request (following redirects), then stream the body into the temp file at state.offset. */
async function fetchOnce(plan: DownloadPlan, state: ResumeState, ctx: FetchContext): Promise<void> {
  let url = plan.url;
  let ex: Http1Exchange;
  let res: Http1Response;
  // Why the credentials were not sent on the current request (null: sent, or none configured).
  let withheld: string | null;
  let leftOrigin = false;
  for (let redirects = 0; ; redirects++) {
    leftOrigin ||= url.origin !== plan.url.origin;
    withheld = ctx.credentials ? credentialsRefusal(url, plan, { leftOrigin, allowHttp: ctx.allowHttpCredentials }) : null;
    ex = sendRequest(url, plan, state, ctx, ctx.credentials !== null && withheld === null);
    res = await ex.response;
    const status = res.status;
    if ([301, 302, 303, 307, 308].includes(status)) {
      ex.destroy();
      const location = res.headers.get('location');
      if (!location) throw new DownloadError('redirect', `The PBX answered HTTP ${status} without a new address`);
      if (redirects >= maxRedirects) throw new DownloadError('redirect', `The PBX redirected more than ${maxRedirects} times`);
      url = checkRedirect(location, url, plan.pbx);
      continue;
    }
    break;
  }

  const status = res.status;
  let start: number;
  let total: number | null;
  const contentLength = parseLength(res.headers.get('content-length'));
  if (status === 200) {
    // A full body: either a first try, or the server ignored / refused our Range. Start over.
    if (state.offset !== 0) await restartFromZero(state, ctx.fh);
    start = 0;
    total = contentLength;
    state.validator = validatorOf(res);
  } else if (status === 206 && state.offset > 0) {
    const range = parseContentRange(res.headers.get('content-range'));
    const validator = validatorOf(res);
    if (range === null || range.start !== state.offset || (state.validator !== null && validator !== null && validator !== state.validator)) {
      ex.destroy();
      await restartFromZero(state, ctx.fh);
      throw new DownloadError('connection', 'The PBX sent a different part of the recording than asked');
    }
    start = state.offset;
    total = range.total ?? (contentLength !== null ? start + contentLength : null);
  } else if (status === 416) {
    ex.destroy();
    await restartFromZero(state, ctx.fh);
    throw new DownloadError('connection', 'The PBX refused to resume the download (416)');
  } else {
    ex.destroy();
    if (status === 401 && withheld !== null) {
      throw new DownloadError('unauthorized', `The PBX asks for a user name and password (401), but Callpop did not send them ${withheld}`);
    }
    throw httpStatusError(status);
  }
  if (total !== null && total > ctx.maxBytes) {
    ex.destroy();
    throw tooLarge(ctx.maxBytes);
  }
  // A login or error page served with 200 is not a recording.
  if (/^\s*text\/html\b/i.test(res.headers.get('content-type') ?? '')) {
    ex.destroy();
    throw new DownloadError('http', 'The PBX answered with a web page instead of the recording (are recording credentials needed?)');
  }
  state.totalBytes = total;

  let received = start;
  let lastReport = 0;
  // Counting, caps and progress run as each piece arrives, before it is written.
  const check = (length: number): Error | null => {
    received += length;
    if (received > ctx.maxBytes) return tooLarge(ctx.maxBytes);
    if (total !== null && received > total) return new DownloadError('connection', 'The PBX sent more data than announced');
    if (ctx.onProgress) {
      const now = Date.now();
      if (now - lastReport >= ctx.progressIntervalMs) {
        lastReport = now;
        ctx.onProgress({ receivedBytes: received, totalBytes: total });
      }
    }
    return null;
  };
  const out = new FileSink(ctx.fh.fd, start, check);
  try {
    await ex.readBody(out);
    await out.finish();
  } catch (err) {
    await out.settled();
    // A file-side error (disk full) wins over the network-side symptom it causes.
    if (out.failure !== null) throw fileError(out.failure, ctx.destDir);
    throw err instanceof DownloadError ? err : networkError(err);
  }
  state.offset = received;
  if (total !== null && received !== total) {
    throw new DownloadError('connection', `The connection to the PBX ended after ${received} of ${total} bytes`);
  }
  if (received === 0) throw new DownloadError('http', 'The PBX sent an empty recording');
}

function sendRequest(url: URL, plan: DownloadPlan, state: ResumeState, ctx: FetchContext, withCredentials: boolean): Http1Exchange {
  const headers: Record<string, string> = {
    'User-Agent': 'Callpop',
    Accept: '*/*',
    'Accept-Encoding': 'identity',
  };
  if (withCredentials && ctx.credentials) {
    headers.Authorization = `Basic ${Buffer.from(`${ctx.credentials.username}:${ctx.credentials.password}`, 'utf8').toString('base64')}`;
  }
  if (state.offset > 0) {
    headers.Range = `bytes=${state.offset}-`;
    if (state.validator !== null) headers['If-Range'] = state.validator;
  }
  return new Http1Exchange({
    url,
    headers,
    pin: url.protocol === 'https:' ? plan.fingerprint : null,
    idleTimeoutMs: ctx.idleTimeoutMs,
    headTimeoutMs: ctx.headTimeoutMs,
    minRate: ctx.minRate,
    signal: ctx.signal,
  });
}

async function restartFromZero(state: ResumeState, fh: FileHandle): Promise<void> {
  state.offset = 0;
  state.validator = null;
  state.totalBytes = null;
  await fh.truncate(0);
}

function tooLarge(maxBytes: number): DownloadError {
  return new DownloadError('too-large', `Refused: the recording is larger than ${Math.round(maxBytes / 1024 ** 2)} MB`);
}

function parseLength(v: string | undefined): number | null {
  if (v === undefined || !/^\d{1,16}$/.test(v.trim())) return null;
  return Number(v.trim());
}

/** "bytes 100-199/200" → {start 100, total 200}; "bytes 100-199/*" → total null. */
function parseContentRange(v: string | undefined): { start: number; total: number | null } | null {
  const m = v === undefined ? null : /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)$/.exec(v.trim());
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? null : Number(m[3]);
  if (end < start || (total !== null && end >= total)) return null;
  return { start, total };
}

/** If-Range needs a strong ETag; a weak one is useless, then Last-Modified is the fallback. */
function validatorOf(res: Http1Response): string | null {
  const etag = res.headers.get('etag');
  if (etag && !etag.startsWith('W/')) return etag;
  return res.headers.get('last-modified') ?? null;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(canceledError());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(canceledError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
