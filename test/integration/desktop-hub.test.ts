// The desktop core (createCoreBackend, as the app's utility process and the e2e bridge run it) as a hub
// client, against a REAL `callpop hub` (startHub, embedded broker) on loopback: live pops, status,
// directory names, switching source without losing or doubling the log, a refused password not retried,
// the catch-up after the PC was off, two PCs of one agent, reconnect on demand, certificate pinning.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, createServer, type Socket } from 'node:net';
import tls from 'node:tls';
import type { PushChannel, PushMap, ServiceState } from '../../shared/ipc/contract';
import { defaultSettings, type Settings } from '../../shared/settings';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { sendWebhook } from '../../main/core/listener/test-call';
import { createCoreBackend } from '../../main/core/desktop/create-core-backend';
import { openCallLogStore } from '../../main/core/call-log/store';
import { callLogDir } from '../../main/core/config/paths';
import type { CallRecord } from '../../shared/call-record';
import type { CoreBackend } from '../../main/core/desktop/core-backend';
import { HubHarness, sleep, until } from './hub-helpers';
import { selfSignedCert } from '../support/self-signed-cert';

const h = new HubHarness();
const cleanups: (() => Promise<void>)[] = [];
let stampSerial = 0;

beforeEach(() => h.init());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  await h.cleanup();
});

interface Core {
  backend: CoreBackend;
  pushes: { channel: PushChannel; payload: unknown }[];
  states: ServiceState[];
  dataDir: string;
  settings: Settings;
}

async function core(more: Partial<Settings>, password: string | null, dataDir?: string): Promise<Core> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'callpop-desktop-hub-')));
  if (!dataDir) cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const pushes: Core['pushes'] = [];
  const states: ServiceState[] = [];
  const settings: Settings = { ...defaultSettings(), listenHost: '127.0.0.1', listenPort: 0, webhookSecret: 'desktophubsecret_0123456789', extension: '117', ...more };
  const c: Core = { backend: null as never, pushes, states, dataDir: dir, settings };
  c.backend = await createCoreBackend({
    dataDir: dir,
    defaultDownloadDir: dir,
    settings,
    hubPassword: password,
    push: (channel, payload) => {
      pushes.push({ channel, payload });
      if (channel === 'push:status') states.push((payload as PushMap['push:status']).service);
    },
    hub: { reconnect: { initialMs: 30, maxMs: 200 }, syncTimeoutMs: 3000 },
  });
  cleanups.push(() => c.backend.close());
  return c;
}

const hubSettings = (agent = 'anna'): Partial<Settings> => ({ source: 'hub', hubUrl: h.hub!.brokerUrl, hubAgent: agent });
const updates = (c: Core) => c.pushes.filter((p) => p.channel === 'push:callUpdate').map((p) => p.payload as PushMap['push:callUpdate']);

/** Plays a seed flow as extension `ext` with fresh ids to `url`; returns the record id. */
async function play(url: string, flow: string, ext = '117', steps?: number): Promise<string> {
  const stamp = '261201' + String(Date.now() % 1_000_000).padStart(6, '0');
  const reqs = flowRequests(findSeedFlow(flow)!, { extension: ext, validJson: true, freshIds: { stamp, serial: ++stampSerial * 1000 } });
  for (const raw of reqs.slice(0, steps ?? reqs.length)) expect((await sendWebhook(url, raw)).status).toBe(200);
  const first = JSON.parse(reqs[0]!.body) as { Id: string };
  return first.Id.replace(/-\d+$/, '');
}

async function agents(): Promise<{ anna: string; ben: string }> {
  const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'], displayName: 'Anna' });
  const ben = await addAgent(h.dataDir, { name: 'ben', extensions: ['204'], displayName: 'Ben' });
  return { anna: anna.password, ben: ben.password };
}

describe('desktop core on a Callpop hub', () => {
  it('pops a ring posted to the hub, says "connected, extension 117", and names colleagues from the directory', async () => {
    const pw = await agents();
    await h.start();
    const c = await core(hubSettings(), pw.anna);
    await until(() => c.backend.status().state === 'hub-connected', 'connected');
    expect(c.backend.status()).toMatchObject({ state: 'hub-connected', extension: '117', url: h.hub!.brokerUrl });
    const id = await play(h.hub!.webhookUrl, 'incoming-attended-transfer', '117');
    await until(() => updates(c).some((u) => u.record.id === id && u.change === 'ringing'), 'the ring');
    await until(() => updates(c).some((u) => u.record.id === id && u.record.status === 'ended' && u.record.transferredTo === '204'), 'the transfer');
    const last = updates(c).filter((u) => u.record.id === id).at(-1)!;
    expect(last.record.extensionNames).toEqual({ '204': 'Ben' });
    expect(updates(c).every((u) => u.backfill !== true)).toBe(true);
    // Pushed live before the write (a pop never waits for the disk); in the log once written.
    await until(() => c.pushes.some((p) => p.channel === 'push:logChanged'), 'a write');
    expect((await c.backend.handle('log:query', { offset: 0, limit: 10 })).records.map((r) => r.id)).toEqual([id]);
  });

  it('switches listener → hub → listener without a restart, keeping every record and its id, doubling nothing', async () => {
    const pw = await agents();
    await h.start();
    const c = await core({}, null);
    const listening = c.backend.status();
    if (listening.state !== 'listening') throw new Error(`not listening: ${JSON.stringify(listening)}`);
    const localUrl = `http://127.0.0.1:${listening.port}/webhook/${c.settings.webhookSecret}`;
    // The same PBX call reached this PC's listener and the hub (IT moving the PBX over to the hub).
    const stamp = '261201' + String(Date.now() % 1_000_000).padStart(6, '0');
    const reqs = flowRequests(findSeedFlow('hunt-missed')!, { extension: '117', validJson: true, freshIds: { stamp } });
    for (const raw of reqs) {
      expect((await sendWebhook(localUrl, raw)).status).toBe(200);
      expect((await sendWebhook(h.hub!.webhookUrl, raw)).status).toBe(200);
    }
    const onlyListener = await play(localUrl, 'incoming-missed', '117');
    await until(() => updates(c).filter((u) => u.record.status === 'ended').length === 2, 'both calls ended locally');
    const before = await c.backend.handle('log:query', { offset: 0, limit: 10 });
    expect(before.total).toBe(2);

    await c.backend.updateSettings({ ...c.settings, ...hubSettings() }, pw.anna);
    await until(() => c.backend.status().state === 'hub-connected' && (c.backend.status() as { synced?: boolean }).synced === true, 'connected and synced');
    const onlyHub = await play(h.hub!.webhookUrl, 'hunt-missed', '117');
    await until(() => updates(c).some((u) => u.record.id === onlyHub && u.record.status === 'ended'), 'a hub call');
    // Pushed live before the write: wait for the log to hold it (and nothing more arrives later).
    for (let i = 0; i < 100 && (await c.backend.handle('log:query', { offset: 0, limit: 10 })).total < 3; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const inHub = await c.backend.handle('log:query', { offset: 0, limit: 10 });
    expect(inHub.total).toBe(3);
    const ids = inHub.records.map((r) => r.id).sort();
    expect(ids).toEqual([...before.records.map((r) => r.id), onlyHub].sort());
    expect(ids).toContain(onlyListener);
    // The shared call (backfilled) kept its record: same id, same outcome.
    const shared = before.records.find((r) => r.id !== onlyListener)!;
    expect(inHub.records.find((r) => r.id === shared.id)).toMatchObject({ id: shared.id, status: 'ended', result: 'missed' });

    await c.backend.updateSettings({ ...c.settings, source: 'listener' });
    expect(c.backend.status().state).toBe('listening');
    const back = await c.backend.handle('log:query', { offset: 0, limit: 10 });
    expect(back.records.map((r) => r.id).sort()).toEqual(ids);
  });

  it('shows a refused password once and does not retry it; a new password connects', async () => {
    const pw = await agents();
    await h.start();
    const c = await core(hubSettings(), 'not-the-password');
    await until(() => c.backend.status().state === 'hub-refused', 'refused');
    expect(c.backend.status()).toMatchObject({ state: 'hub-refused', reason: expect.stringMatching(/password/) });
    const seen = c.states.length;
    await new Promise((r) => setTimeout(r, 600)); // 20 backoff periods of the test's 30 ms
    expect(c.states.slice(seen).filter((s) => s.state !== 'hub-refused')).toEqual([]);
    expect(c.backend.status().state).toBe('hub-refused');
    await c.backend.updateSettings(c.settings, pw.anna);
    await until(() => c.backend.status().state === 'hub-connected', 'connected with the new password');
  });

  it('asks for what hub mode lacks instead of connecting (a preset PC asks for the password)', async () => {
    await agents();
    await h.start();
    const c = await core(hubSettings(), null);
    expect(c.backend.status()).toEqual({ state: 'hub-setup', message: 'Enter the hub password (Settings → Connection).' });
    await c.backend.updateSettings({ ...c.settings, ...hubSettings(), hubUrl: 'mqtt://127.0.0.1:1', hubFingerprint: 'AB'.repeat(32) }, 'x');
    expect(c.backend.status()).toEqual({ state: 'hub-setup', message: 'A certificate fingerprint pins a TLS hub: use an mqtts:// or wss:// address.' });
  });

  it('catches up after the PC was off: the missed calls arrive as backfill, none as a ring', async () => {
    const pw = await agents();
    await h.start();
    const first = await core(hubSettings(), pw.anna);
    await until(() => first.backend.status().state === 'hub-connected', 'connected');
    const dataDir = first.dataDir;
    await first.backend.close();
    const a = await play(h.hub!.webhookUrl, 'incoming-missed', '117');
    const b = await play(h.hub!.webhookUrl, 'hunt-missed', '117');
    const c = await core(hubSettings(), pw.anna, dataDir);
    await until(() => [a, b].every((id) => updates(c).some((u) => u.record.id === id && u.change === 'missed')), 'both missed calls');
    const mine = updates(c).filter((u) => u.record.id === a || u.record.id === b);
    expect(mine.every((u) => u.backfill === true)).toBe(true);
    expect(mine.some((u) => u.change === 'ringing')).toBe(false);
    // Pushed live before the write; the badge counts once both are in the log.
    await until(() => c.pushes.some((p) => p.channel === 'push:logChanged' && (p.payload as PushMap['push:logChanged']).missedUnseen === 2), 'the badge at 2');
    expect((await c.backend.handle('log:query', { result: 'missed', unseenOnly: true, offset: 0, limit: 10 })).total).toBe(2);
  });

  it('keeps settings.retentionDays in hub mode too', async () => {
    const pw = await agents();
    await h.start();
    const dir = await mkdtemp(join(tmpdir(), 'callpop-desktop-hub-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = await openCallLogStore(callLogDir(dir));
    const day = 86_400_000;
    const old = (id: string, daysAgo: number): CallRecord => {
      const at = new Date(Date.now() - daysAgo * day).toISOString();
      return { id, direction: 'incoming', number: '05551239988', extension: '117', queue: null, did: null, startedAt: at, durationSec: 5, transferType: null, transferredTo: null, transferredFrom: null, answeredBy: null, recordings: [], seen: true, status: 'ended', result: 'answered', answeredAt: at, endedAt: at };
    };
    await store.put([old('261101000000_1', 30), old('261129000000_2', 2)]);
    await store.close();
    const c = await core({ ...hubSettings(), retentionDays: 7 }, pw.anna, dir);
    expect((await c.backend.handle('log:query', { offset: 0, limit: 10 })).records.map((r) => r.id)).toEqual(['261129000000_2']);
  });

  it('a ring left in the log from before the PC was off is not an active call (the popup never restores it)', async () => {
    await agents();
    await h.start();
    const dir = await mkdtemp(join(tmpdir(), 'callpop-desktop-hub-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const store = await openCallLogStore(callLogDir(dir));
    const ring = (id: string, agoMs: number): CallRecord => ({ id, direction: 'incoming', number: '05551239988', extension: '117', queue: null, did: null, startedAt: new Date(Date.now() - agoMs).toISOString(), durationSec: null, transferType: null, transferredTo: null, transferredFrom: null, answeredBy: null, recordings: [], seen: false, status: 'ringing', result: null, answeredAt: null, endedAt: null });
    await store.put([ring('261201080000_1', 5 * 60_000), ring('261201080000_2', 10_000)]);
    await store.close();
    // Not connected (no password yet is the same as offline here): the log is all the core has.
    const c = await core({ ...hubSettings(), hubUrl: 'mqtt://127.0.0.1:1' }, 'pw-123456789', dir);
    expect((await c.backend.handle('calls:active', {})).map((r) => r.id)).toEqual(['261201080000_2']);
  });

  it('a switch while still connecting leaves no half-open connection behind', async () => {
    // A broker that accepts TCP and never answers: the core stays "connecting".
    const sockets = new Set<Socket>();
    const silent = createServer((sock) => {
      sock.resume(); // read to the end, so a client's close is seen
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const c = await core({ source: 'hub', hubUrl: `mqtt://127.0.0.1:${(silent.address() as AddressInfo).port}`, hubAgent: 'anna' }, 'pw-123456789');
    await until(() => sockets.size === 1, 'the connection attempt');
    expect(c.backend.status().state).toBe('hub-connecting');
    const switching = c.backend.updateSettings({ ...c.settings, source: 'listener' });
    await until(() => sockets.size === 0, 'the attempt closed', 3000);
    await switching;
    expect(c.backend.status().state).toBe('listening');
  });

  it('two PCs of one agent both get every call and do not kick each other off', async () => {
    const pw = await agents();
    await h.start();
    const laptop = await core(hubSettings(), pw.anna);
    const desk = await core(hubSettings(), pw.anna);
    await until(() => laptop.backend.status().state === 'hub-connected' && desk.backend.status().state === 'hub-connected', 'both connected');
    const id = await play(h.hub!.webhookUrl, 'hunt-answered', '117');
    for (const pc of [laptop, desk]) await until(() => updates(pc).some((u) => u.record.id === id && u.record.status === 'ended'), 'the call on both PCs');
    for (const pc of [laptop, desk]) {
      expect(updates(pc).filter((u) => u.record.id === id).map((u) => u.change)[0]).toBe('ringing');
      expect(pc.states.filter((s) => s.state === 'hub-reconnecting')).toEqual([]);
    }
  });

  it('reconnects at once when asked (resume from sleep, network change) and keeps popping', async () => {
    const pw = await agents();
    await h.start();
    const c = await core(hubSettings(), pw.anna);
    await until(() => c.backend.status().state === 'hub-connected', 'connected');
    const connects = () => c.states.filter((s) => s.state === 'hub-connected').length;
    const n = connects();
    c.backend.reconnectNow('resumed from sleep');
    await until(() => c.states.some((s, i) => i >= n && s.state === 'hub-reconnecting') && c.backend.status().state === 'hub-connected', 'reconnected', 2000);
    const id = await play(h.hub!.webhookUrl, 'hunt-missed', '117', 2);
    await until(() => updates(c).some((u) => u.record.id === id && u.change === 'ringing'), 'a ring after the reconnect');
  });
});

describe('desktop core on a hub with a self-signed certificate', () => {
  let certDir = '';
  let cert = '';
  let key = '';
  let fingerprint = '';
  beforeAll(() => {
    certDir = mkdtempSync(join(tmpdir(), 'callpop-desktop-hub-tls-'));
    ({ cert, key } = selfSignedCert(certDir));
    fingerprint = new X509Certificate(cert).fingerprint256;
  });
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));

  it('connects over mqtts:// and wss:// when the fingerprint matches', async () => {
    const pw = await agents();
    await h.start({ tls: { cert, key }, broker: { kind: 'embedded', host: '127.0.0.1', port: 0, wsPort: 0 } });
    for (const url of [h.hub!.brokerUrl, h.hub!.brokerWsUrl!]) {
      const c = await core({ ...hubSettings(), hubUrl: url, hubFingerprint: fingerprint }, pw.anna);
      await until(() => c.backend.status().state === 'hub-connected', `connected over ${url}`);
      await c.backend.close();
    }
  });

  it('sends not one byte (no password) to a server whose certificate is not the pinned one', async () => {
    await agents();
    // A TLS server with the right certificate's twin: another key, so another fingerprint.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k2.pem', '-out', 'c2.pem', '-days', '2', '-subj', '/CN=callpop-test', '-addext', 'subjectAltName=IP:127.0.0.1'], { cwd: certDir, stdio: 'pipe' });
    const received: Buffer[] = [];
    const server = tls.createServer({ cert: await readFile(join(certDir, 'c2.pem')), key: await readFile(join(certDir, 'k2.pem')) }, (s) => {
      s.on('data', (d: Buffer) => received.push(d));
      s.on('error', () => {});
    });
    let connections = 0;
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const url = `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = await core({ source: 'hub', hubUrl: url, hubAgent: 'anna', hubFingerprint: fingerprint }, 'secret-password-123');
    await until(() => connections >= 2, 'two connections (a retry)', 5000);
    await until(() => c.backend.status().state === 'hub-reconnecting' && (c.backend.status() as { error?: string | null }).error != null, 'reconnecting with the reason');
    expect(c.backend.status()).toMatchObject({ state: 'hub-reconnecting', error: expect.stringMatching(/not the pinned one/) });
    expect(Buffer.concat(received).length).toBe(0);
  });
});

// Issue #20 (first-run hub sign-in): an extension the hub does not give the agent. The hub's broker
// refuses the extension's topics; the client used to reconnect and be refused again forever. It reads
// the agent's own extensions topic and stops, saying which extensions are hers.
describe('desktop core on a Callpop hub: an extension that is not the agent’s', () => {
  /** A loopback TCP relay to the hub's broker that counts the connections made through it. */
  async function countingRelay(): Promise<{ url: string; connections: () => number }> {
    const target = new URL(h.hub!.brokerUrl);
    let connections = 0;
    const pairs = new Set<Socket>();
    const server = createServer((inbound) => {
      connections++;
      const outbound = createConnection(Number(target.port), target.hostname);
      for (const s of [inbound, outbound]) {
        pairs.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          pairs.delete(s);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of pairs) s.destroy();
          server.close(() => r());
        }),
    );
    return { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
  }

  it('ends in hub-refused saying which extensions are hers, stops reconnecting, and tries again when the extension changes', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['204'], displayName: 'Anna' });
    await h.start();
    const relay = await countingRelay();
    const c = await core({ source: 'hub', hubUrl: relay.url, hubAgent: 'anna', extension: '117' }, anna.password);
    await until(() => c.backend.status().state === 'hub-refused', 'refused', 10_000);
    expect(c.backend.status()).toEqual({
      state: 'hub-refused',
      url: relay.url,
      about: 'extension',
      reason: "The hub does not give anna extension 117 (anna's extensions there: 204). Check the extension in Settings or ask your administrator.",
    });
    // No more attempts: 20 backoff periods of the test's 30 ms (200 ms at most) later, still the same count.
    const attempts = relay.connections();
    expect(attempts).toBeLessThanOrEqual(3);
    await sleep(1500);
    expect(relay.connections()).toBe(attempts);
    expect(c.backend.status().state).toBe('hub-refused');
    // Her extension in Settings: connects.
    await c.backend.updateSettings({ ...c.settings, source: 'hub', hubUrl: relay.url, hubAgent: 'anna', extension: '204' }, anna.password);
    await until(() => c.backend.status().state === 'hub-connected', 'connected on her own extension');
    expect(c.backend.status()).toMatchObject({ state: 'hub-connected', extension: '204' });
  });

  it('the right extension still connects through the same reading, and a call pops', async () => {
    const pw = await agents();
    await h.start();
    const relay = await countingRelay();
    const c = await core({ source: 'hub', hubUrl: relay.url, hubAgent: 'anna' }, pw.anna);
    await until(() => c.backend.status().state === 'hub-connected', 'connected');
    const id = await play(h.hub!.webhookUrl, 'incoming-missed', '117');
    await until(() => updates(c).some((u) => u.record.id === id && u.change === 'ringing'), 'the ring');
    expect(relay.connections()).toBe(1);
  });
});
