// A hostile PBX that never finishes: endless 1xx answers, a head or a body trickled a byte at a
// time. Each download must end with a clear error, leave no temp file, and the process must stay
// responsive meanwhile (a timer keeps ticking and a loopback HTTP server in this same process keeps
// answering). Real TCP servers on 127.0.0.1; short injected limits keep each case to about a second.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadRecording } from '../../main/core/download/downloader';
import { DownloadError } from '../../main/core/download/errors';
import { maxInterimResponses } from '../../main/core/download/http1-client';

interface Hostile {
  host: string;
  url: string;
  /** Request heads received. */
  requests: number;
  /** Connections the client closed (or that ended) so far. */
  closed: number;
  close: () => Promise<void>;
}

let dir: string;
const cleanups: (() => Promise<void>)[] = [];

/** A TCP server that, once a request head is in, hands the socket to `behave` until it closes. */
async function hostile(behave: (sock: net.Socket) => void): Promise<Hostile> {
  const sockets = new Set<net.Socket>();
  const state = { requests: 0, closed: 0 };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      sockets.delete(sock);
      state.closed++;
    });
    let head = '';
    sock.on('data', (d: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      state.requests++;
      behave(sock);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  cleanups.push(close);
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}/rec.mp3`,
    get requests() {
      return state.requests;
    },
    get closed() {
      return state.closed;
    },
    close,
  };
}

/** Write `chunk` every `ms` until the socket closes. */
function trickle(sock: net.Socket, chunk: string, ms: number): void {
  const timer = setInterval(() => (sock.destroyed ? clearInterval(timer) : sock.write(chunk)), ms);
  sock.on('close', () => clearInterval(timer));
}

/** Write `chunk` as fast as the client reads it (backpressure-driven), until the socket closes. */
function flood(sock: net.Socket, chunk: Buffer): void {
  const pump = (): void => {
    while (!sock.destroyed && sock.write(chunk));
  };
  sock.on('drain', pump);
  pump();
}

/**
 * While `work` runs: a 10 ms timer records the longest gap between its ticks, and a loopback HTTP
 * server in this process is asked every 50 ms, recording the slowest answer.
 */
async function whileResponsive<T>(work: () => Promise<T>): Promise<{ result: T; maxTimerGapMs: number; probes: number; slowestProbeMs: number }> {
  const probe = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => probe.close(() => resolve())));
  const probeUrl = `http://127.0.0.1:${(probe.address() as net.AddressInfo).port}/`;
  let last = performance.now();
  let maxTimerGapMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxTimerGapMs = Math.max(maxTimerGapMs, now - last);
    last = now;
  }, 10);
  let done = false;
  let probes = 0;
  let slowestProbeMs = 0;
  const prober = (async () => {
    while (!done) {
      const t = performance.now();
      // A failed probe counts as infinitely slow (and cannot become an unhandled rejection).
      const ok = await fetch(probeUrl).then((r) => r.text()).then(() => true, () => false);
      slowestProbeMs = Math.max(slowestProbeMs, ok ? performance.now() - t : Infinity);
      probes++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const result = await work();
    return { result, maxTimerGapMs, probes, slowestProbeMs };
  } finally {
    done = true;
    clearInterval(ticker);
    await prober;
  }
}

async function failure(p: Promise<unknown>): Promise<DownloadError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  return err as DownloadError;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callpop-dl-limits-'));
});
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const files = (): string[] => fs.readdirSync(dir).sort();
const base = (s: Hostile) => ({ pbxHost: s.host, destDir: dir, fileName: 'a.mp3', retryDelayMs: 5, idleTimeoutMs: 10_000, maxTries: 2 });

// Generous bounds: a stalled loop (the bug) blocks for seconds; a busy 2-core machine for far less.
const responsive = (r: { maxTimerGapMs: number; probes: number; slowestProbeMs: number }): void => {
  expect(r.probes).toBeGreaterThan(0);
  expect(r.slowestProbeMs).toBeLessThan(1500);
  expect(r.maxTimerGapMs).toBeLessThan(1500);
};

describe('a PBX that never finishes its answer', () => {
  it('an endless stream of 100 Continue fails after the interim cap; the loop keeps serving', async () => {
    const s = await hostile((sock) => flood(sock, Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'.repeat(2600))));
    const r = await whileResponsive(() => failure(downloadRecording(s.url, { ...base(s), headTimeoutMs: 20_000 })));
    expect(r.result.code).toBe('connection');
    expect(r.result.message).toContain(`more than ${maxInterimResponses} interim 1xx responses`);
    expect(s.requests).toBe(2);
    expect(files()).toEqual([]);
    responsive(r);
  });

  it('large interim answers are capped by bytes too', async () => {
    const big = `HTTP/1.1 103 Early Hints\r\n${'Link: </a.css>; rel=preload\r\n'.repeat(300)}\r\n`;
    const s = await hostile((sock) => sock.end(`${big}${big}HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello`));
    const e = await failure(downloadRecording(s.url, { ...base(s), maxTries: 1 }));
    expect(e.message).toContain('interim 1xx responses larger than 16 KiB');
    expect(files()).toEqual([]);
  });

  it('a few interim answers before the real one are fine', async () => {
    const s = await hostile((sock) => sock.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'));
    const r = await downloadRecording(s.url, base(s));
    expect(fs.readFileSync(r.path, 'latin1')).toBe('hello');
  });

  it('a head trickled one line at a time fails at the head deadline; the loop keeps serving', async () => {
    const s = await hostile((sock) => {
      sock.write('HTTP/1.1 200 OK\r\n');
      trickle(sock, 'X-Slow: a\r\n', 20);
    });
    const r = await whileResponsive(() => failure(downloadRecording(s.url, { ...base(s), maxTries: 1, headTimeoutMs: 600 })));
    expect(r.result.code).toBe('timeout');
    expect(r.result.message).toBe('The PBX did not answer within 0.6 s');
    expect(s.requests).toBe(1);
    await expect.poll(() => s.closed).toBe(1);
    expect(files()).toEqual([]);
    responsive(r);
  });

  it('a body trickled below the minimum rate fails, with a retry, and leaves no temp file', async () => {
    const s = await hostile((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: 1000000\r\n\r\n');
      trickle(sock, 'x', 20);
    });
    const r = await whileResponsive(() => failure(downloadRecording(s.url, { ...base(s), minBytesPerSec: 2000, rateWindowMs: 400 })));
    expect(r.result.code).toBe('timeout');
    expect(r.result.message).toBe('The PBX sent the recording too slowly (under 2 KB/s for 0.4 s), after 2 tries');
    expect(s.requests).toBe(2);
    await expect.poll(() => s.closed).toBe(2);
    expect(files()).toEqual([]);
    responsive(r);
  });

  it('a slow but steady body above the minimum rate completes', async () => {
    const total = 24_000;
    const s = await hostile((sock) => {
      sock.write(`HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: ${total}\r\n\r\n`);
      let sent = 0;
      const timer = setInterval(() => {
        if (sock.destroyed || sent >= total) return clearInterval(timer);
        sock.write('y'.repeat(500));
        sent += 500;
      }, 20);
      sock.on('close', () => clearInterval(timer));
    });
    // 500 bytes / 20 ms = 25 KB/s for about a second, against a 5 KB/s minimum over 200 ms windows.
    const r = await downloadRecording(s.url, { ...base(s), maxTries: 1, minBytesPerSec: 5000, rateWindowMs: 200 });
    expect(fs.statSync(r.path).size).toBe(total);
  });
});
