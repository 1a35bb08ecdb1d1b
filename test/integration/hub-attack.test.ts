// The hub under attack (issue #16), on real sockets on loopback: the attacker connects from 127.0.0.2,
// the PBX and the genuine agents from 127.0.0.1. Each case is bounded in count and time and stops
// everything it started. The figures (latencies, memory) are in bench/hub-attack.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { agentClientId, syncResponseSchema, topics } from '../../shared/hub-protocol';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { sendWebhook } from '../../main/core/listener/test-call';
import { HubHarness, collect, grantedQos, sleep, until } from './hub-helpers';
import { publishPacket, rawConnect, rawConnectSocket } from '../support/mqtt-raw';
import { selfSignedCert } from '../support/self-signed-cert';
import { slowloris } from '../support/slowloris';

const attacker = '127.0.0.2';
const h = new HubHarness();
let certDir = '';

beforeEach(() => h.init());
afterEach(async () => {
  await h.cleanup();
  if (certDir) await rm(certDir, { recursive: true, force: true });
  certDir = '';
});

const brokerPort = (): number => Number(new URL(h.hub!.brokerUrl).port);

/** The PBX: `calls` calls (ringing + missed end) to `ext`, one every `everyMs`; resolves with every webhook's HTTP status (0 = no answer). */
async function pbx(ext: string, calls: number, everyMs: number, stamp0: number): Promise<number[]> {
  const flow = findSeedFlow('incoming-missed')!;
  const all: Promise<number>[] = [];
  for (let i = 0; i < calls; i++) {
    const reqs = flowRequests(flow, { freshIds: { stamp: String(stamp0 + i) }, extension: ext });
    all.push(
      (async () => {
        let last = 0;
        for (const raw of reqs) last = await sendWebhook(h.hub!.webhookUrl, raw).then((r) => (last === 0 || last === 200 ? r.status : last), () => 0);
        return last;
      })(),
    );
    await sleep(everyMs);
  }
  return Promise.all(all);
}

describe('hub under attack: a flood of wrong passwords', () => {
  it('acknowledges every webhook and lets the real agent in while 127.0.0.2 sends 100 wrong CONNECTs/s for 10 s naming her; the flood is throttled with few log lines', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start();
    const port = brokerPort();
    const codes = new Map<number, number>();
    const flood = (async () => {
      const pending: Promise<void>[] = [];
      const t0 = Date.now();
      for (let i = 0; i < 1000; i++) {
        const wait = t0 + i * 10 - Date.now();
        if (wait > 0) await sleep(wait);
        pending.push(rawConnect({ port, localAddress: attacker, clientId: agentClientId('anna'), username: 'anna', password: `guess-${i}` }).then(({ code }) => void codes.set(code, (codes.get(code) ?? 0) + 1)));
      }
      await Promise.all(pending);
    })();
    await sleep(2000);
    // The PBX posts throughout; the genuine agent logs in from another address in the middle of it.
    const [statuses, login] = await Promise.all([
      pbx('202', 60, 120, 261207100000),
      (async () => {
        await sleep(2000);
        for (let attempt = 0; attempt < 10; attempt++) {
          const r = await rawConnect({ port, clientId: agentClientId('anna'), username: 'anna', password: anna.password });
          if (r.code === 0) return { code: 0, attempt };
          await sleep(1000);
        }
        return { code: -1, attempt: 10 };
      })(),
    ]);
    await flood;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(login.code).toBe(0);
    // Most guesses were refused without a check ("server unavailable"), never accepted.
    expect(codes.get(0)).toBeUndefined();
    expect(codes.get(3) ?? 0).toBeGreaterThan(500);
    expect(codes.get(4) ?? 0).toBeLessThan(200);
    expect(h.logs.some((l) => /Broker refused client .* from 127\.0\.0\.2 as "anna" without checking: (\d+ failed logins from 127\.0\.0\.2|its source has logins being checked)/.test(l))).toBe(true);
    // Rate-limited: a few lines per 10 s, not one per guess.
    expect(h.logs.filter((l) => l.includes('127.0.0.2')).length).toBeLessThan(40);
  }, 60_000);

  it('refuses an unknown name exactly as a wrong password of a known one (code 4, after a password check), and counts both', async () => {
    await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start({ broker: { kind: 'embedded', host: '127.0.0.1', port: 0 } });
    const port = brokerPort();
    const known = await rawConnect({ port, localAddress: attacker, clientId: agentClientId('anna'), username: 'anna', password: 'wrong-password' });
    const unknown = await rawConnect({ port, localAddress: attacker, clientId: agentClientId('nobody'), username: 'nobody', password: 'wrong-password' });
    expect([known.code, unknown.code]).toEqual([4, 4]);
    // Both went through scrypt (tens of ms), not an instant refusal that tells names apart.
    expect(h.logs.some((l) => /unknown agent "nobody"/.test(l))).toBe(true);
    expect(h.logs.some((l) => /wrong password for agent anna/.test(l))).toBe(true);
  });

  it('throttles a name guessed from many addresses to one check a second, but not for the address the agent logged in from', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start();
    const port = brokerPort();
    // Anna logs in once from 127.0.0.1: that address is hers from now on.
    expect((await rawConnect({ port, clientId: agentClientId('anna'), username: 'anna', password: anna.password })).code).toBe(0);
    // 30 guesses at once from 30 addresses (a botnet): the name is throttled once 20 have failed.
    const guesses = await Promise.all(Array.from({ length: 30 }, (_, i) => rawConnect({ port, localAddress: `127.0.3.${i + 1}`, clientId: agentClientId('anna'), username: 'anna', password: `guess-${i}` })));
    expect(guesses.every((g) => g.code === 4 || g.code === 3)).toBe(true);
    const more = await Promise.all(Array.from({ length: 10 }, (_, i) => rawConnect({ port, localAddress: `127.0.4.${i + 1}`, clientId: agentClientId('anna'), username: 'anna', password: `guess-${i}` })));
    expect(more.filter((g) => g.code === 3).length).toBeGreaterThanOrEqual(9);
    expect(h.logs.some((l) => /failed logins as "anna"; one check a second/.test(l))).toBe(true);
    // Her own address is not throttled by name.
    expect((await rawConnect({ port, clientId: agentClientId('anna'), username: 'anna', password: anna.password })).code).toBe(0);
  });
});

describe('hub under attack: connections that never finish', () => {
  it('closes 1,500 silent sockets to the mqtts port from one address (most refused at once, the rest at the 10 s deadline) while an agent from another address logs in', async () => {
    certDir = await mkdtemp(join(tmpdir(), 'callpop-attack-cert-'));
    const cert = selfSignedCert(certDir);
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start({ tls: { cert: cert.cert, key: cert.key } });
    expect(h.hub!.brokerUrl.startsWith('mqtts://')).toBe(true);
    // In waves of 100: opened all at once in one process with the hub, the kernel's accept queue (511)
    // overflows, and a silent socket the hub never accepted looks open to its client for ever.
    const waves: ReturnType<typeof slowloris>[] = [];
    const closed = (): number => waves.reduce((n, w) => n + w.closed(), 0);
    try {
      for (let i = 0; i < 15; i++) {
        const wave = slowloris({ port: brokerPort(), sources: [attacker], perSource: 100, mode: 'silent' });
        waves.push(wave);
        await wave.settled();
        await sleep(20);
      }
      const c = await h.connect('anna', anna.password, { rejectUnauthorized: false });
      expect(c.connected).toBe(true);
      // The bound is generous (a loaded machine); the figure is bench/hub-attack.ts's (10 s).
      await until(() => closed() === 1500, 'every silent socket closed', 30_000).catch((e: Error) => {
        throw new Error(`${e.message}: ${closed()} of 1500 closed`);
      });
      // The agent that logged in is not closed by the deadline.
      await sleep(500);
      expect(c.connected).toBe(true);
      expect(h.logs.some((l) => /Broker refused a connection from 127\.0\.0\.2: more than 64 connections from this source/.test(l))).toBe(true);
      expect(h.logs.some((l) => /Broker closed a connection from 127\.0\.0\.2: no successful login within 10 s/.test(l))).toBe(true);
    } finally {
      for (const w of waves) await w.stop();
    }
  }, 60_000);

  it('keeps slots for an address an agent logged in from: with every other slot held by silent strangers, her next PC still gets in', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    // Small limits, so the test fills them: 40 slots, 10 per source, the last 10 for sources agents logged in from.
    await h.start({ broker: { kind: 'embedded', host: '127.0.0.1', port: 0, connectionLimits: { max: 40, perSource: 10, reserved: 10 } } });
    const port = brokerPort();
    // Anna logs in once from 127.0.0.1 (from then on a trusted source).
    const first = await h.connect('anna', anna.password);
    expect(first.connected).toBe(true);
    // Strangers from 10 addresses, 10 silent sockets each: they fill the 29 untrusted slots and keep
    // pushing each other out (the oldest silent one is dropped for a newcomer).
    const attack = slowloris({ port, sources: Array.from({ length: 10 }, (_, i) => `127.0.5.${i + 1}`), perSource: 10, mode: 'silent' });
    try {
      await attack.settled();
      await sleep(200);
      for (let i = 0; i < 5; i++) {
        const pc = await h.connect('anna', anna.password, { clientId: agentClientId('anna', `pc${i}`) });
        expect(pc.connected).toBe(true);
      }
      expect(first.connected).toBe(true);
      // The strangers held no more than the untrusted slots: the rest were dropped for newcomers.
      expect(attack.open()).toBeLessThanOrEqual(29);
      expect(attack.closed()).toBeGreaterThanOrEqual(100 - 29);
    } finally {
      await attack.stop();
    }
  });

  it('closes a plain mqtt, a ws and an HTTPS webhook connection that stays silent, within the deadline', async () => {
    certDir = await mkdtemp(join(tmpdir(), 'callpop-attack-cert-'));
    const cert = selfSignedCert(certDir);
    await h.start({ tls: { cert: cert.cert, key: cert.key }, broker: { kind: 'embedded', host: '127.0.0.1', port: 0, wsPort: 0 } });
    const ports = [brokerPort(), Number(new URL(h.hub!.brokerWsUrl!).port), h.hub!.port];
    // An agent logged in over wss is not closed by the deadline.
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['203'] });
    await until(() => h.logs.some((l) => l.includes('added anna')), 'reload');
    const wss = await mqtt.connectAsync(h.hub!.brokerWsUrl!, { username: 'anna', password: anna.password, clientId: agentClientId('anna'), rejectUnauthorized: false, reconnectPeriod: 0 });
    h.clients.push(wss);
    const closedAfter = await Promise.all(
      ports.map(
        (port) =>
          new Promise<number>((resolve) => {
            const t0 = Date.now();
            const s = tcpConnect({ host: '127.0.0.1', port, localAddress: attacker });
            s.on('error', () => {});
            s.once('close', () => resolve(Date.now() - t0));
          }),
      ),
    );
    // Closed by the hub (the test never closes them), not before the deadline's order of magnitude.
    for (const ms of closedAfter) expect(ms).toBeGreaterThan(5000);
    expect(wss.connected).toBe(true);
  }, 40_000);
});

describe('hub under attack: one agent misbehaving', () => {
  it('answers only sync requests naming the connection\'s own client id; a colleague on the same extension sees neither the requests nor the answers, and cannot take the client id over', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    const carl = await addAgent(h.dataDir, { name: 'carl.d', extensions: ['202'] });
    await h.start();
    const flow = findSeedFlow('incoming-missed')!;
    for (const raw of flowRequests(flow, { freshIds: { stamp: '261207110001' } })) expect((await sendWebhook(h.hub!.webhookUrl, raw)).status).toBe(200);
    const annaId = agentClientId('anna', 'desk');
    const a = await h.connect('anna', anna.password, { clientId: annaId });
    // An agent name with '.' still works: its client id holds only [A-Za-z0-9_-].
    const carlId = agentClientId('carl.d', 'laptop');
    expect(carlId).toMatch(/^[A-Za-z0-9_-]+$/);
    const c = await h.connect('carl.d', carl.password, { clientId: carlId });
    const aGot = collect(a);
    const cGot = collect(c);
    expect(await grantedQos(a, topics.extensionTree('default', '202'))).toBe(1);
    expect(await grantedQos(c, topics.extensionTree('default', '202'))).toBe(1);
    const req = topics.syncRequest('default', '202');
    // Anna's own request is answered to her; one naming carl's client id is ignored with a log line.
    await a.publishAsync(req, JSON.stringify({ v: 1, since: 0, clientId: annaId, requestId: 'own' }), { qos: 1 });
    await a.publishAsync(req, JSON.stringify({ v: 1, since: 0, clientId: carlId, requestId: 'other' }), { qos: 1 });
    await until(() => aGot.some((m) => m.topic.endsWith(`/sync/res/${annaId}`)), 'anna answered');
    await sleep(200);
    expect(aGot.filter((m) => m.topic.includes('/sync/')).map((m) => syncResponseSchema.parse(m.json).requestId)).toEqual(['own']);
    expect(cGot.filter((m) => m.topic.includes('/sync/'))).toEqual([]);
    expect(h.logs.some((l) => l.includes(`names client id "${carlId}", not the publisher's own "${annaId}"`))).toBe(true);
    // Carl cannot connect with anna's client id (code 2); anna stays connected.
    const takeover = await mqtt.connectAsync(h.hub!.brokerUrl, { username: 'carl.d', password: carl.password, clientId: annaId, reconnectPeriod: 0 }).then(
      () => 0,
      (e: Error & { code?: number }) => e.code,
    );
    expect(takeover).toBe(2);
    await sleep(100);
    expect(a.connected).toBe(true);
  });

  it('closes a connection that publishes with QoS 2 or more than 32 publishes at once, caps connections per agent at 8, and grants no filter beyond the few forms of its own (no 100,000 subscriptions)', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start();
    const port = brokerPort();
    const { code, socket } = await rawConnectSocket({ port, localAddress: attacker, clientId: agentClientId('anna', 'q2'), username: 'anna', password: anna.password });
    expect(code).toBe(0);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.write(publishPacket(topics.syncRequest('default', '202'), JSON.stringify({ v: 1, since: 0, clientId: agentClientId('anna', 'q2'), requestId: 'x' }), 2));
    await closed;
    expect(h.logs.some((l) => /QoS 2 is not accepted/.test(l))).toBe(true);

    // 200 QoS 1 publishes in one write: aedes would handle them all at once; more than 32 in flight close the connection.
    const burst = await rawConnectSocket({ port, localAddress: attacker, clientId: agentClientId('anna', 'burst'), username: 'anna', password: anna.password });
    expect(burst.code).toBe(0);
    const burstClosed = new Promise<void>((r) => burst.socket.once('close', () => r()));
    const one = (i: number): Buffer => publishPacket(topics.syncRequest('default', '202'), JSON.stringify({ v: 1, since: 0, clientId: agentClientId('anna', 'burst'), requestId: `b${i}` }), 1, i + 1);
    burst.socket.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => one(i))));
    await burstClosed;
    expect(h.logs.some((l) => /more than 32 publishes in flight/.test(l))).toBe(true);

    const open = [];
    for (let i = 0; i < 8; i++) open.push(await h.connect('anna', anna.password, { clientId: agentClientId('anna', `pc${i}`) }));
    const ninth = await mqtt.connectAsync(h.hub!.brokerUrl, { username: 'anna', password: anna.password, clientId: agentClientId('anna', 'pc8'), reconnectPeriod: 0 }).then(
      () => 0,
      (e: Error & { code?: number }) => e.code,
    );
    expect(ninth).toBe(3);
    expect(h.logs.some((l) => /agent anna already has 8 connections/.test(l))).toBe(true);
    // The same client id again is a reconnect (it takes its old session over), not a ninth PC.
    const again = await h.connect('anna', anna.password, { clientId: agentClientId('anna', 'pc0') });
    expect(again.connected).toBe(true);

    // Every filter an agent may hold is one of 5 forms per extension plus 2: that is the cap per connection.
    const forms = [topics.calls('default', '202'), topics.open('default', '202'), topics.extensionTree('default', '202'), topics.hubStatus('default'), topics.directory('default'), `callpop/v1/default/ext/202/sync/res/+`, topics.syncResponse('default', '202', agentClientId('anna', 'pc1'))];
    for (const f of forms) expect(await grantedQos(open[1]!, f)).toBe(1);
    const others = await open[1]!.subscribeAsync(Array.from({ length: 100 }, (_, i) => topics.syncResponse('default', '202', agentClientId('anna', `x${i}`))), { qos: 1 }).catch((e: { packet?: { granted?: number[] } }) => e.packet?.granted?.map((qos) => ({ qos })) ?? []);
    expect(others.map((g) => g.qos)).toEqual(Array<number>(100).fill(128));
  });
});
