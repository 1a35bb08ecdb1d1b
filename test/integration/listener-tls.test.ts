// The listener serving HTTPS with a real certificate made by openssl, driven on loopback.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startListener, webhookUrlsFor, type Listener } from '../../main/core/listener/listener';
import type { RawWebhook } from '../../shared/webhook/event';
import { selfSignedCert } from '../support/self-signed-cert';

const secret = 'tlsSecretAbcdefghijklmnop';
const ringing = JSON.stringify({ Event: 'ringing', Callerid: '05551239988', User: '202', Usertype: 'ext', Did: '', Id: '230307114903_10-0' });

let dir = '';
let cert = '';
let key = '';
let otherKey = '';
let encryptedKey = '';
let listener: Listener | null = null;
const received: RawWebhook[] = [];
const closers: (() => void)[] = [];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callpop-tls-'));
  selfSignedCert(dir);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.pem']);
  openssl(['pkey', '-in', 'key.pem', '-aes256', '-passout', 'pass:secret', '-out', 'encrypted.pem']);
  encryptedKey = readFileSync(join(dir, 'encrypted.pem'), 'utf8');
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  key = readFileSync(join(dir, 'key.pem'), 'utf8');
  otherKey = readFileSync(join(dir, 'other.pem'), 'utf8');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await listener?.close();
  listener = null;
});

async function start(): Promise<Listener> {
  received.length = 0;
  listener = await startListener({
    host: '127.0.0.1',
    port: 0,
    secret,
    tls: { cert, key },
    onWebhook: async (raw) => {
      received.push(raw);
      return { status: 'ok' };
    },
  });
  return listener;
}

/** POST over HTTPS trusting exactly the test certificate. */
function postHttps(port: number, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, method: 'POST', path: `/webhook/${secret}`, ca: cert, agent: false, headers: { 'Content-Type': 'application/json', Connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A TCP relay on loopback that records every byte in both directions. */
async function tap(target: number): Promise<{ port: number; bytes: () => Buffer }> {
  const seen: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (c: Buffer) => seen.push(c));
    upstream.on('data', (c: Buffer) => seen.push(c));
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, bytes: () => Buffer.concat(seen) };
}

describe('listener over HTTPS', () => {
  it('accepts a real HTTPS webhook and says https in its scheme and URLs', async () => {
    const l = await start();
    expect(l.scheme).toBe('https');
    const r = await postHttps(l.port, ringing);
    expect(r.status).toBe(200);
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe(ringing);
    expect(webhookUrlsFor('127.0.0.1', l.port, secret, l.scheme)).toEqual([`https://127.0.0.1:${l.port}/webhook/${secret}`]);
  });

  it('sends the secret path only encrypted: a tap between PBX and listener never sees it', async () => {
    const l = await start();
    const relay = await tap(l.port);
    const r = await postHttps(relay.port, ringing);
    expect(r.status).toBe(200);
    expect(received).toHaveLength(1);
    const wire = relay.bytes();
    expect(wire.length).toBeGreaterThan(200);
    expect(wire.includes(Buffer.from(secret))).toBe(false);
    expect(wire.includes(Buffer.from('ringing'))).toBe(false);
  });

  it('refuses plain HTTP on the TLS port and keeps serving HTTPS', async () => {
    const l = await start();
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: l.port, method: 'POST', path: `/webhook/${secret}`, agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(`failed ${e.code ?? e.message}`));
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.end(ringing);
    });
    expect(outcome).toMatch(/^failed /);
    expect(received).toHaveLength(0);
    expect((await postHttps(l.port, ringing)).status).toBe(200);
  });

  it('refuses to start with a key that does not belong to the certificate, an encrypted key, or no PEM, in plain words', async () => {
    const base = { host: '127.0.0.1', port: 0, secret, onWebhook: async () => ({ status: 'ok' as const }) };
    await expect(startListener({ ...base, tls: { cert, key: otherKey } })).rejects.toThrow('Cannot serve HTTPS: the private key does not belong to the certificate.');
    await expect(startListener({ ...base, tls: { cert: 'not a certificate', key } })).rejects.toThrow('Cannot serve HTTPS: the certificate is not a PEM certificate.');
    await expect(startListener({ ...base, tls: { cert: key, key: cert } })).rejects.toThrow('Cannot serve HTTPS: the certificate is not a PEM certificate.');
    await expect(startListener({ ...base, tls: { cert, key: cert } })).rejects.toThrow('Cannot serve HTTPS: the private key is not a PEM private key.');
    await expect(startListener({ ...base, tls: { cert, key: encryptedKey } })).rejects.toThrow('Cannot serve HTTPS: the private key is encrypted; give it without a passphrase.');
    await expect(startListener({ ...base, tls: { cert, key: '' } })).rejects.toThrow('Cannot serve HTTPS: the private key is empty.');
  });
});
