// The two custom protocols: app://callpop/ serves the built renderer (never file://, so pages get
// a real origin and a CSP header), callpop-media://recording/<downloadId> streams recordings the
// core downloaded, with HTTP Range support so <audio> can seek.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, relative, resolve, sep, isAbsolute } from 'node:path';
import { Readable } from 'node:stream';
import { APP_HOST, APP_SCHEME } from './ipc';

export const MEDIA_SCHEME = 'callpop-media';
export const MEDIA_HOST = 'recording';

/** Strict: only our own scripts and styles, recordings only from the media protocol, nothing framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  `media-src ${MEDIA_SCHEME}:`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** For protocol.registerSchemesAsPrivileged (before app ready). */
export const privilegedSchemes = [
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
];

const mimeTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
};

/**
 * The file under `root` an app:// URL names, or null when the URL leaves the root (path traversal,
 * encoded or not), names another host, or is malformed. "/" is index.html.
 */
export function resolveAppPath(root: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return null;
  if (pathname === '/' || pathname === '') pathname = '/index.html';
  const base = resolve(root);
  const target = resolve(base, `.${pathname}`);
  const rel = relative(base, target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) return null;
  return target;
}

const text = (status: number, body: string) => new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

/** protocol.handle('app', …) */
export function createAppProtocolHandler(root: string) {
  return async (request: Request): Promise<Response> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'Method not allowed');
    const path = resolveAppPath(root, request.url);
    if (!path) return text(404, 'Not found');
    let body: Buffer;
    try {
      body = await readFile(path);
    } catch {
      return text(404, 'Not found');
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers: {
        'content-type': mimeTypes[extname(path).toLowerCase()] ?? 'application/octet-stream',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      },
    });
  };
}

export const mediaUrl = (downloadId: string) => `${MEDIA_SCHEME}://${MEDIA_HOST}/${encodeURIComponent(downloadId)}`;

/** "bytes=a-b" / "bytes=a-" / "bytes=-n" → inclusive range, or null when unsatisfiable. */
export function parseRange(header: string, size: number): { start: number; end: number } | null | 'ignore' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'ignore'; // malformed or multi-range: send it all
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return null;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return null;
  return { start, end };
}

/** protocol.handle('callpop-media', …): `lookup` maps a downloadId to a file the core finished. */
export function createMediaProtocolHandler(lookup: (downloadId: string) => string | null | Promise<string | null>) {
  return async (request: Request): Promise<Response> => {
    let u: URL;
    try {
      u = new URL(request.url);
    } catch {
      return text(400, 'Bad request');
    }
    if (u.protocol !== `${MEDIA_SCHEME}:` || u.host !== MEDIA_HOST) return text(404, 'Not found');
    let id: string;
    try {
      id = decodeURIComponent(u.pathname.slice(1));
    } catch {
      return text(404, 'Not found');
    }
    const path = id ? await lookup(id) : null;
    if (!path) return text(404, 'Not found');
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) return text(404, 'Not found');
      size = s.size;
    } catch {
      return text(404, 'Not found');
    }
    const headers: Record<string, string> = {
      'content-type': mimeTypes[extname(path).toLowerCase()] ?? 'audio/mpeg',
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    };
    const rangeHeader = request.headers.get('range');
    const range = rangeHeader ? parseRange(rangeHeader, size) : 'ignore';
    if (range === null) return new Response(null, { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` } });
    const { start, end } = range === 'ignore' ? { start: 0, end: size - 1 } : range;
    const length = size === 0 ? 0 : end - start + 1;
    headers['content-length'] = String(length);
    if (range !== 'ignore') headers['content-range'] = `bytes ${start}-${end}/${size}`;
    const body = request.method === 'HEAD' || length === 0 ? null : (Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream<Uint8Array>);
    return new Response(body, { status: range === 'ignore' ? 200 : 206, headers });
  };
}
