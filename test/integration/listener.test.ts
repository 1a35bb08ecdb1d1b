// The real listener on 127.0.0.1:0, driven over HTTP with the inputs a hostile LAN could send.
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { startListener, buildAllowList, normalizeAddress, type Listener, type ListenerOptions } from '../../main/core/listener/listener';
import { parseWebhook } from '../../shared/webhook/parse';
import type { RawWebhook } from '../../shared/webhook/event';
import type { Logger } from '../../shared/diagnostics-log';
import { RateLimitedLog } from '../../main/core/rate-limited-log';

const secret = 'abcdefghijklmnopqrstuvwx';
const ringing = JSON.stringify({ Event: 'ringing', Callerid: '05551239988', User: '202', Usertype: 'ext', Did: '', Id: '230307114903_10-0' });

let listener: Listener | null = null;
const received: RawWebhook[] = [];

async function start(extra: Partial<ListenerOptions> = {}): Promise<Listener> {
  received.length = 0;
  listener = await startListener({
    host: '127.0.0.1',
    port: 0,
    secret,
    onWebhook: async (raw) => {
      const r = parseWebhook(raw);
      if (!r.ok) return { status: 'invalid', reason: r.error };
      received.push(raw);
      return { status: 'ok' };
    },
    ...extra,
  });
  return listener;
}

afterEach(async () => {
  await listener?.close();
  listener = null;
});

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request on its own connection (no keep-alive), so tests do not depend on pooling. */
function send(port: number, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { Connection: 'close', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

const post = (port: number, body: string | Buffer, path = `/webhook/${secret}`): Promise<Reply> =>
  send(port, 'POST', path, body, { 'Content-Type': 'application/json' });

describe('listener', () => {
  it('accepts a POST webhook and a GET webhook on the secret path', async () => {
    const l = await start();
    expect(l.port).toBeGreaterThan(0);
    const a = await post(l.port, ringing);
    expect(a.status).toBe(200);
    const b = await send(l.port, 'GET', `/webhook/${secret}?event=ringing&callerid=420774852629&user=102&usertype=ext&did=DID-420222000320&id=230102104542_15-0`);
    expect(b.status).toBe(200);
    expect(received.map((r) => r.method)).toEqual(['POST', 'GET']);
    expect(received[1]?.query).toContain('user=102');
  });

  it('answers 404 with no side effect for other paths and wrong secrets', async () => {
    const l = await start();
    for (const path of ['/', '/webhook', '/webhook/', `/webhook/${secret}x`, `/webhook/${secret.slice(0, -1)}`, `/hook/${secret}`, `/webhook/${secret}/extra`, '/favicon.ico']) {
      const r = await post(l.port, ringing, path);
      expect(r.status, path).toBe(404);
    }
    expect(received).toHaveLength(0);
  });

  it('answers 404 for a wrong secret of the same length, whichever character differs', async () => {
    const l = await start();
    const wrong = [`X${secret.slice(1)}`, `${secret.slice(0, -1)}X`, `${secret.slice(0, 12)}é${secret.slice(13)}`, secret.toUpperCase()];
    for (const s of wrong) {
      expect(s.length).toBe(secret.length);
      const r = await post(l.port, ringing, `/webhook/${encodeURI(s)}`);
      expect(r.status, s).toBe(404);
    }
    expect(received).toEqual([]);
    expect((await post(l.port, ringing)).status).toBe(200);
  });

  it('answers 405 with an Allow header for other methods', async () => {
    const l = await start();
    for (const method of ['PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD']) {
      const r = await send(l.port, method, `/webhook/${secret}`);
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, POST');
    }
    expect(received).toHaveLength(0);
  });

  it('answers 413 for a body over 64 KiB and keeps serving', async () => {
    const l = await start();
    const big = JSON.stringify({ Event: 'ringing', Callerid: 'x'.repeat(70 * 1024), User: '1', Usertype: 'ext', Id: '1_1-0' });
    const r = await post(l.port, big);
    expect(r.status).toBe(413);
    // Chunked (no Content-Length): cut off while streaming; the client sees 413 or a closed socket.
    const chunked = await new Promise<number | string>((resolve) => {
      const req = request({ host: '127.0.0.1', port: l.port, method: 'POST', path: `/webhook/${secret}`, agent: false }, (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(8 * 1024, 0x41));
      req.end();
    });
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(chunked);
    expect((await post(l.port, ringing)).status).toBe(200);
    expect(received).toHaveLength(1);
  });

  it('answers 400 with a one-line reason for malformed webhooks', async () => {
    const l = await start();
    const cases = ['', '{', '[]', '{"Event":"ringing"}', 'null', '{"Event":"ringing","User":"1","Usertype":"ext","Id":""}', '\u0000\u0001\u0002'];
    for (const body of cases) {
      const r = await post(l.port, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.trim().length).toBeGreaterThan(0);
      expect(r.body.trim()).not.toContain('\n');
    }
    const get = await send(l.port, 'GET', `/webhook/${secret}`);
    expect(get.status).toBe(400);
    expect(received).toHaveLength(0);
  });

  it('answers 503 only when the handler could not make the effect durable', async () => {
    listener = await startListener({
      host: '127.0.0.1',
      port: 0,
      secret,
      onWebhook: () => Promise.reject(new Error('disk full')),
    });
    const r = await post(listener.port, ringing);
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
  });

  it('on close, answers a webhook in flight on a keep-alive connection, then closes that connection', async () => {
    let release: () => void = () => {};
    let enter: () => void = () => {};
    const entered = new Promise<void>((resolve) => (enter = resolve));
    const { port } = await start({
      onWebhook: async () => {
        enter();
        await new Promise<void>((r) => (release = r));
        return { status: 'ok' };
      },
    });
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // A keep-alive request, as the PBX's HTTP client sends them.
    socket.write(`POST /webhook/${secret} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(ringing)}\r\n\r\n${ringing}`);
    await entered;
    const closed = listener!.close();
    release();
    await Promise.all([closed, ended]);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    // Told to close, rather than kept open until the listener's force timer cuts it.
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('applies the source allow-list (the connection is refused before any byte is read), IPv4-mapped addresses included', async () => {
    let l = await start({ allowedSources: ['192.0.2.10', '198.51.100.0/24'], allowLoopback: false });
    const refused = await post(l.port, ringing).then(
      (r) => `answered ${r.status}`,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refused).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(received).toHaveLength(0);
    await l.close();
    l = await start({ allowedSources: ['192.0.2.10', '127.0.0.0/8'], allowLoopback: false });
    expect((await post(l.port, ringing)).status).toBe(200);
    await l.close();
    // Loopback is allowed by default (the "Send test call" button posts over loopback).
    l = await start({ allowedSources: ['192.0.2.10'] });
    expect((await post(l.port, ringing)).status).toBe(200);

    expect(normalizeAddress('::ffff:192.0.2.10')).toBe('192.0.2.10');
    const list = buildAllowList(['::ffff:192.0.2.10', '2001:db8::/32']);
    expect(list.check('192.0.2.10', 'ipv4')).toBe(true);
    expect(list.check('2001:db8::1', 'ipv6')).toBe(true);
    expect(() => buildAllowList(['300.1.1.1'])).toThrow(/300\.1\.1\.1/);
    expect(() => buildAllowList(['10.0.0.0/40'])).toThrow(/prefix/);
  });

  it('does not let a slow client block others, and drops it after the header timeout', async () => {
    const l = await start({ timeouts: { headersMs: 500, requestMs: 1000, keepAliveMs: 500 } });
    const slow = connect(l.port, '127.0.0.1');
    await new Promise((r) => slow.once('connect', r));
    slow.write(`POST /webhook/${secret} HTTP/1.1\r\nHost: x\r\n`); // never finishes its head
    const closed = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    slow.on('error', () => {});
    let answer = '';
    slow.on('data', (d: Buffer) => (answer += d.toString()));
    // Others are served while the slow client hangs.
    for (let i = 0; i < 5; i++) expect((await post(l.port, ringing)).status).toBe(200);
    await closed; // bounded by the test timeout: the server hangs up on it
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('names the port and what to do when the port is in use', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(start({ port })).rejects.toThrow(new RegExp(`Port ${port} is already in use.*Settings.*--port`));
      listener = null;
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('never answers 5xx or crashes on garbage (bounded fuzz)', async () => {
    const l = await start();
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pieces = ['{', '}', '"Event"', ':', '"ringing"', ',', '"Id"', '"1_1-0"', '"User"', '"202"', '[', ']', 'null', 'true', '%', '&', '=', 'event=', 'https://x/', '\u00ff', '\\u0000', '"FileUrls"', '__proto__'];
    const statuses = new Set<number>();
    for (let i = 0; i < 200; i++) {
      let body: string | Buffer;
      if (i % 3 === 0) {
        body = Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
      } else {
        body = Array.from({ length: Math.floor(rand() * 30) }, () => pieces[Math.floor(rand() * pieces.length)]).join('');
      }
      const r = i % 5 === 0
        ? await send(l.port, 'GET', `/webhook/${secret}?${encodeURIComponent(body.toString()).slice(0, 500)}`)
        : await send(l.port, 'POST', `/webhook/${secret}`, body, { 'Content-Type': i % 2 ? 'application/json' : 'application/x-www-form-urlencoded' });
      statuses.add(r.status);
      expect(r.status, String(body)).toBeLessThan(500);
    }
    expect([...statuses].every((s) => s === 200 || s === 400)).toBe(true);
    expect((await post(l.port, ringing)).status).toBe(200);
  });
});

describe('RateLimitedLog (rejected webhook requests)', () => {
  it('logs at most N lines per window, then how many more', () => {
    const lines: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => lines.push(m), error() {} };
    let t = 0;
    const log = new RateLimitedLog(logger, 'rejected webhook requests', 5, 10_000, () => t);
    for (let i = 0; i < 50; i++) log.note(`rejected ${i}`);
    expect(lines).toHaveLength(5);
    t = 10_000;
    log.note('next window');
    expect(lines.slice(5)).toEqual(['45 more rejected webhook requests in the last 10 s', 'next window']);
  });
});

describe('webhook URLs', () => {
  it('lists this PC’s addresses for a wildcard host (IPv4 only for 0.0.0.0), else the host itself', async () => {
    const { webhookUrlsFor, reachableAddresses } = await import('../../main/core/listener/listener');
    expect(webhookUrlsFor('127.0.0.1', 8765, secret)).toEqual([`http://127.0.0.1:8765/webhook/${secret}`]);
    expect(webhookUrlsFor('fd00::5', 8765, secret)).toEqual([`http://[fd00::5]:8765/webhook/${secret}`]);
    const v4 = webhookUrlsFor('0.0.0.0', 8765, secret);
    expect(v4.length).toBeGreaterThan(0);
    for (const u of v4) expect(u).toMatch(/^http:\/\/\d+\.\d+\.\d+\.\d+:8765\/webhook\//);
    expect(v4).toEqual((reachableAddresses(true).length ? reachableAddresses(true) : ['127.0.0.1']).map((a) => `http://${a}:8765/webhook/${secret}`));
  });
});
