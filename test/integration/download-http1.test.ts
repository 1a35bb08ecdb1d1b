// The downloader's own HTTP/1.1 client against a raw TCP "PBX" on 127.0.0.1 that answers with
// hand-written (often malformed) responses: strict parsing, limits, clear errors, no crash.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadRecording } from '../../main/core/download/downloader';
import { DownloadError } from '../../main/core/download/errors';

interface RawServer {
  host: string;
  url: string;
  requests: string[];
  close: () => Promise<void>;
}

let dir: string;
const servers: RawServer[] = [];

/** A TCP server that reads one request head, then writes `answer(n)` (the n-th request, from 1) and closes. */
async function rawServer(answer: (n: number, head: string) => Buffer | string): Promise<RawServer> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let head = '';
    sock.on('data', (d: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      requests.push(head);
      sock.end(answer(requests.length, head));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const s: RawServer = {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/rec.mp3`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const sock of sockets) sock.destroy();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callpop-dl-h1-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const files = (): string[] => fs.readdirSync(dir).sort();
const opts = (s: RawServer) => ({ pbxHost: s.host, destDir: dir, fileName: 'a.mp3', retryDelayMs: 5, idleTimeoutMs: 5_000, maxTries: 2 });

async function failure(p: Promise<unknown>): Promise<DownloadError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  return err as DownloadError;
}

function chunked(data: Buffer, sizes: number[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const n of sizes) {
    parts.push(Buffer.from(`${n.toString(16)};ext=1\r\n`), data.subarray(at, at + n), Buffer.from('\r\n'));
    at += n;
  }
  parts.push(Buffer.from('0\r\nX-Trailer: yes\r\n\r\n'));
  return Buffer.concat(parts);
}

describe('the downloader HTTP/1.1 client', () => {
  it('writes a strict request and saves a chunked body byte-identical', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 77);
    const sizes = [1, 4096, 1024 * 1024, data.length - 1 - 4096 - 1024 * 1024];
    const s = await rawServer(() => Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: audio/mpeg\r\n\r\n'), chunked(data, sizes)]));
    const r = await downloadRecording(s.url, opts(s));
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
    expect(s.requests[0]).toMatch(/^GET \/rec\.mp3 HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
    expect(s.requests[0]).toContain('\r\nConnection: close\r\n');
  });

  it('a close-delimited body (no length, no chunking) is saved whole', async () => {
    const data = randomBytes(300_000);
    const s = await rawServer(() => Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), data]));
    const r = await downloadRecording(s.url, opts(s));
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
  });

  it('skips a 100 Continue before the real answer', async () => {
    const s = await rawServer(() => 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    const r = await downloadRecording(s.url, opts(s));
    expect(fs.readFileSync(r.path, 'latin1')).toBe('hello');
  });

  it.each([
    ['garbage instead of a status line', 'SSH-2.0-OpenSSH\r\n\r\n', 'bad status line'],
    ['a status line without a code', 'HTTP/1.1 OK\r\n\r\n', 'bad status line'],
    ['HTTP/2 framing', 'HTTP/2 200\r\n\r\n', 'bad status line'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello', 'bad header line'],
    ['a folded header', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 5\r\n\r\nhello', 'bad header line'],
    ['a control byte in a header value', 'HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 5\r\n\r\nhello', 'bad header line'],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 'conflicting Content-Length'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello', 'bad Content-Length'],
    ['Content-Length with Transfer-Encoding', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 'both Transfer-Encoding'],
    ['an unknown Transfer-Encoding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello', 'unsupported Transfer-Encoding'],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 'bad chunk size'],
    ['a negative chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n', 'bad chunk size'],
    ['a huge chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n', 'bad chunk size'],
    ['a chunk longer than announced', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n', 'missing CRLF after a chunk'],
    ['an endless chunk-size line', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'1'.repeat(5000)}`, 'chunk line too long'],
  ])('%s → one clear error, retried, nothing saved', async (_name, answer, detail) => {
    const s = await rawServer(() => answer);
    const e = await failure(downloadRecording(s.url, opts(s)));
    expect(e.code).toBe('connection');
    expect(e.message).toContain('The PBX sent an invalid HTTP response');
    expect(e.message).toContain(detail);
    expect(s.requests).toHaveLength(2);
    expect(files()).toEqual([]);
  });

  it('response headers over 16 KiB are refused', async () => {
    const s = await rawServer(() => `HTTP/1.1 200 OK\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(400)}Content-Length: 5\r\n\r\nhello`);
    const e = await failure(downloadRecording(s.url, opts(s)));
    expect(e.message).toContain('headers larger than 16 KiB');
    expect(files()).toEqual([]);
  });

  it('an endless head without its blank line stops at 16 KiB', async () => {
    const s = await rawServer(() => `HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(100_000)}`);
    const e = await failure(downloadRecording(s.url, opts(s)));
    expect(e.message).toContain('headers larger than 16 KiB');
  });

  it('Content-Length that lies (longer body than announced) → only the announced bytes are kept', async () => {
    const s = await rawServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more junk');
    const r = await downloadRecording(s.url, opts(s));
    expect(fs.readFileSync(r.path, 'latin1')).toBe('hello');
  });

  it('Content-Length that lies (short body, then close) and a cut chunked body fail as lost connections', async () => {
    const short = await rawServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhello');
    expect((await failure(downloadRecording(short.url, opts(short)))).code).toBe('connection');
    const cut = await rawServer(() => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    expect((await failure(downloadRecording(cut.url, opts(cut)))).code).toBe('connection');
    expect(files()).toEqual([]);
  });

  it('a server closing before any answer is a lost connection', async () => {
    const s = await rawServer(() => '');
    const e = await failure(downloadRecording(s.url, opts(s)));
    expect(e.code).toBe('connection');
    expect(s.requests).toHaveLength(2);
  });

  it('a chunked body beyond the size cap is stopped', async () => {
    const data = randomBytes(200_000);
    const s = await rawServer(() => Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), chunked(data, [100_000, 100_000])]));
    const e = await failure(downloadRecording(s.url, { ...opts(s), maxBytes: 150_000 }));
    expect(e.code).toBe('too-large');
    expect(files()).toEqual([]);
  });
});
