// The hub's external-broker client when the broker misbehaves (issue #22 item 1, #21 item 2): a broker
// that closes the hub's connection on one message (as NATS 2.9 does on a `.` in a topic) gets it once
// more, then it is dropped with a log line and everything after it flows; a topic a broker would refuse
// is never sent; every disconnect is logged; a stalled broker is reported; and the built `callpop hub`
// stops within 5 s on SIGTERM/SIGINT whatever the broker does (unreachable, untrusted mqtts://,
// accepting but never confirming), exit 0, saying what was not confirmed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { connectExternalBroker, type ExternalBroker } from '../../main/core/hub/broker/external-broker';
import { selfSignedCert } from '../support/self-signed-cert';
import { until } from './hub-helpers';

const root = resolve(__dirname, '../..');
const bundle = join(root, 'out/cli/callpop.mjs');

interface TestBroker {
  url: string;
  /** Topics of every PUBLISH the broker received, in order (refused ones too). */
  seen: string[];
  close(): Promise<void>;
}

/** A real MQTT broker (aedes) on loopback that closes the connection of whoever publishes `poison`, and never confirms `stall` (until released). */
async function startTestBroker(): Promise<TestBroker & { release(): void; stallAll: boolean }> {
  const seen: string[] = [];
  const held: (() => void)[] = [];
  const state = { stallAll: false };
  const broker = await Aedes.createBroker({
    authorizePublish: (_client, packet, cb) => {
      seen.push(packet.topic);
      if (packet.topic.endsWith('/poison')) return cb(new Error('refused'));
      if (packet.topic.endsWith('/stall') || state.stallAll) return void held.push(() => cb(null));
      cb(null);
    },
  });
  const server: TcpServer = createTcpServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    seen,
    get stallAll() {
      return state.stallAll;
    },
    set stallAll(on: boolean) {
      state.stallAll = on;
    },
    release: () => held.splice(0).forEach((f) => f()),
    async close() {
      held.splice(0).forEach((f) => f());
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const logs: string[] = [];
const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
let broker: Awaited<ReturnType<typeof startTestBroker>> | null = null;
let hubBroker: ExternalBroker | null = null;
afterEach(async () => {
  await hubBroker?.close(500);
  hubBroker = null;
  await broker?.close();
  broker = null;
  logs.length = 0;
});

const connect = (url: string, more: { stallMs?: number; onState?: (s: string) => void } = {}) =>
  connectExternalBroker({ url, site: 's', will: { topic: 'callpop/v1/s/hub/status', payload: '{}' }, logger, onConnect: () => {}, onClientPublish: () => {}, ...more });

describe('hub external broker client', () => {
  it('drops a message the broker closes the connection on after one retry, logs it and every disconnect, and goes on publishing', async () => {
    broker = await startTestBroker();
    hubBroker = await connect(broker.url);
    expect(hubBroker.connected).toBe(true);
    const poisoned = hubBroker.publish('callpop/v1/s/ext/1/poison', 'x', { qos: 1, retain: false });
    await expect(poisoned).rejects.toThrow();
    expect(broker.seen.filter((t) => t.endsWith('/poison'))).toHaveLength(2);
    expect(logs.filter((l) => l.startsWith('Dropped the message to callpop/v1/s/ext/1/poison'))).toHaveLength(1);
    expect(logs.filter((l) => l.startsWith('Lost the connection to the broker'))).toHaveLength(2);
    // The connection comes back and carries the next message.
    await hubBroker.publish('callpop/v1/s/ext/1/calls', 'y', { qos: 1, retain: false });
    await until(() => hubBroker!.connected, 'reconnected');
    expect(broker.seen.filter((t) => t.endsWith('/poison'))).toHaveLength(2);
    expect(broker.seen).toContain('callpop/v1/s/ext/1/calls');
  });

  it('never sends a topic a broker would refuse, nor a payload over the limit, and stays connected', async () => {
    broker = await startTestBroker();
    hubBroker = await connect(broker.url);
    await expect(hubBroker.publish('callpop/v1/s/ext/1/sync/res/evil.x', '{}', { qos: 1, retain: false })).rejects.toThrow(/character some brokers refuse/);
    await expect(hubBroker.publish('callpop/v1/s/ext/1/sync/res/a b', '{}', { qos: 1, retain: false })).rejects.toThrow(/character/);
    await expect(hubBroker.publish('callpop/v1/s/ext/1/calls', 'x'.repeat(1024 * 1024 + 1), { qos: 1, retain: false })).rejects.toThrow(/over the limit/);
    await hubBroker.publish('callpop/v1/s/ext/1/calls', 'fine', { qos: 1, retain: false });
    expect(broker.seen).toEqual(['callpop/v1/s/ext/1/calls']);
    expect(logs.some((l) => l.startsWith('Lost the connection'))).toBe(false);
  });

  it('passes the retained flag on (the hub answers no retained request) and takes nothing over 4 KB from clients', async () => {
    broker = await startTestBroker();
    const agent = await mqtt.connectAsync(broker.url, { clientId: 'agent', reconnectPeriod: 0 });
    const req = 'callpop/v1/s/ext/1/sync/req';
    await agent.publishAsync(req, '{"retained":true}', { qos: 1, retain: true });
    const got: [string, boolean][] = [];
    hubBroker = await connectExternalBroker({ url: broker.url, site: 's', will: { topic: 'callpop/v1/s/hub/status', payload: '{}' }, logger, onConnect: () => {}, onClientPublish: (_t, p, retain) => got.push([p.toString(), retain]) });
    await agent.publishAsync(req, 'x'.repeat(4097), { qos: 1 });
    await agent.publishAsync(req, '{"fine":true}', { qos: 1 });
    await until(() => got.length > 1, 'the fine request');
    await agent.endAsync();
    expect(got).toEqual([
      ['{"retained":true}', true],
      ['{"fine":true}', false],
    ]);
    expect(logs.filter((l) => l.startsWith('Ignored a'))).toEqual(['Ignored a message of 4097 bytes on callpop/v1/s/ext/1/sync/req (over 4096)']);
  });

  it('reports a broker that stops confirming, and when it confirms again', async () => {
    broker = await startTestBroker();
    const states: string[] = [];
    hubBroker = await connect(broker.url, { stallMs: 300, onState: (s) => states.push(s) });
    const held = hubBroker.publish('callpop/v1/s/ext/1/stall', 'x', { qos: 1, retain: false });
    await until(() => states.includes('stalled'), 'stall reported');
    expect(logs.some((l) => /stalled: a message has waited \d+ s for its confirmation/.test(l))).toBe(true);
    broker.release();
    await held;
    await until(() => states.at(-1) === 'connected', 'back');
    expect(states).toEqual(['connected', 'stalled', 'connected']);
  });

  it('moves to the next node of a cluster when its node stays stalled, dropping what that node never confirmed', async () => {
    // A NATS node whose streams lost their leader kept the hub's connection for minutes, confirming a
    // message now and then, with a backlog that only grew (issue #22's kill matrix).
    broker = await startTestBroker();
    const second = await startTestBroker();
    const connects: string[] = [];
    try {
      hubBroker = await connectExternalBroker({ url: [broker.url, second.url], site: 's', will: { topic: 'callpop/v1/s/hub/status', payload: '{}' }, logger, onConnect: () => connects.push('connect'), onClientPublish: () => {}, stallMs: 300 });
      broker.stallAll = true;
      const stuck = [1, 2, 3].map((i) => hubBroker!.publish(`callpop/v1/s/ext/1/calls`, `{"n":${i}}`, { qos: 1, retain: false }).then(() => 'confirmed', () => 'dropped'));
      expect(await Promise.all(stuck)).toEqual(['dropped', 'dropped', 'dropped']);
      await until(() => connects.length === 2, 'connected to the second node', 10_000);
      expect(logs.some((l) => /confirmed nothing for \d+ s: moving to the next node; 3 unconfirmed message\(s\) dropped/.test(l))).toBe(true);
      await hubBroker.publish('callpop/v1/s/ext/1/calls', '{"after":true}', { qos: 1, retain: false });
      expect(second.seen).toContain('callpop/v1/s/ext/1/calls');
    } finally {
      await hubBroker?.close(500);
      hubBroker = null;
      await second.close();
    }
  });
});

/** Runs the built `callpop hub`, waits for `ready` on stderr/stdout (then runs `meanwhile`), sends `signal`, and waits at most `deadlineMs` for the exit. */
async function stopHubCli(
  args: string[],
  ready: RegExp,
  signal: NodeJS.Signals,
  deadlineMs: number,
  meanwhile: (output: () => string) => Promise<void> = async () => {},
): Promise<{ code: number | null; signal: string | null; out: string; err: string; killed: boolean }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callpop-hub-stop-'));
  const child = spawn(process.execPath, [join(root, 'bin/callpop.mjs'), 'hub', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, sig) => r({ code, signal: sig })));
  try {
    await until(() => ready.test(out + err), `hub output matching ${ready}`, 20_000);
    await meanwhile(() => out + err);
    child.kill(signal);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, deadlineMs);
    const r = await exited;
    clearTimeout(timer);
    return { ...r, out, err, killed };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('callpop hub (built) stops within 5 s whatever the broker does', () => {
  let dir = '';
  let tlsServer: ReturnType<typeof createTlsServer> | null = null;
  let silent: TcpServer | null = null;
  /** What the stand-in brokers accepted: destroyed in afterAll (close() waits for them). */
  const sockets = new Set<{ destroy(): void }>();
  beforeAll(async () => {
    if (!existsSync(bundle)) execFileSync(process.execPath, [join(root, 'scripts/build-cli.mjs')], { cwd: root, stdio: 'ignore' });
    dir = await mkdtemp(join(tmpdir(), 'callpop-hub-stop-tls-'));
  }, 120_000);
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    if (tlsServer) await new Promise<void>((r) => tlsServer!.close(() => r()));
    if (silent) await new Promise<void>((r) => silent!.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('unreachable broker (mqtt://127.0.0.1:9), %s while still waiting for it', async (signal) => {
    const r = await stopHubCli(['--broker', 'mqtt://127.0.0.1:9'], /ECONNREFUSED/, signal, 5000);
    expect([r.killed, r.code, r.signal], r.err).toEqual([false, 0, null]);
    expect(r.err).toMatch(/stopped\n$/);
  }, 30_000);

  it('unreachable broker after start: exits 0 and says what was not confirmed', async () => {
    const r = await stopHubCli(['--broker', 'mqtt://127.0.0.1:9'], /Listening on/, 'SIGTERM', 5000);
    expect([r.killed, r.code], r.err).toEqual([false, 0]);
    expect(r.err).toMatch(/message\(s\) were not confirmed by the broker mqtt:\/\/127\.0\.0\.1:9/);
  }, 30_000);

  it.each(['SIGTERM', 'SIGINT'] as const)('untrusted mqtts:// broker, %s', async (signal) => {
    const cert = selfSignedCert(dir, { cn: 'localhost', san: 'IP:127.0.0.1' });
    tlsServer ??= createTlsServer({ cert: cert.cert, key: cert.key }, (s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    if (!tlsServer.listening) await new Promise<void>((r) => tlsServer!.listen(0, '127.0.0.1', r));
    const port = (tlsServer.address() as { port: number }).port;
    const r = await stopHubCli(['--broker', `mqtts://127.0.0.1:${port}`], /self[- ]signed/i, signal, 5000);
    expect([r.killed, r.code, r.signal], r.err).toEqual([false, 0, null]);
  }, 30_000);

  it('a broker that stops confirming: "broker stalled" in the status lines and the log, and SIGTERM still stops it within 5 s', async () => {
    broker = await startTestBroker();
    const b = broker;
    const r = await stopHubCli(['--broker', b.url], /broker connected/, 'SIGTERM', 5000, async (output) => {
      b.stallAll = true;
      // The heartbeat (every 5 s) is the next publish; 5 s without its confirmation is a stall.
      await until(() => /broker stalled: not confirming messages/.test(output()), 'the stall line', 20_000);
    });
    expect([r.killed, r.code], r.err).toEqual([false, 0]);
    expect(r.out).toMatch(/^\d\d:\d\d:\d\d broker stalled: not confirming messages$/m);
    expect(r.err).toMatch(/warning: Broker mqtt:\/\/127\.0\.0\.1:\d+ stalled: a message has waited \d+ s for its confirmation/);
    expect(r.err).toMatch(/message\(s\) were not confirmed by the broker/);
  }, 40_000);

  it('a broker that accepts TCP and never answers, SIGTERM', async () => {
    silent = createTcpServer((s) => void sockets.add(s));
    await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const r = await stopHubCli(['--broker', `mqtt://127.0.0.1:${port}`, '--broker', 'mqtt://127.0.0.1:9'], /ECONNREFUSED|Listening on/, 'SIGTERM', 5000);
    expect([r.killed, r.code, r.signal], r.err).toEqual([false, 0, null]);
  }, 30_000);
});
