// HubClient on a real Mosquitto (test/support/mosquitto.ts), with the test playing the hub: it publishes
// protocol messages and answers sync requests from its own list of records. The flows through the real
// `callpop hub` are in hub-flows.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import type { CallRecord } from '../../shared/call-record';
import { syncRequestSchema, topics, decodePayload, type SyncResponse } from '../../shared/hub-protocol';
import type { Logger } from '../../shared/diagnostics-log';
import { openCallLogStore } from '../../main/core/call-log/store';
import { callLogDir } from '../../main/core/config/paths';
import { HubClient, type HubCallUpdate, type HubClientStatus } from '../../main/core/hub-client/hub-client';
import { mosquittoAvailable, startMosquitto, type RunningMosquitto } from '../support/mosquitto';
import { ringingRecord } from '../support/call-records';

const site = 'default';
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'callpop-hub-client-'));
  cleanups.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function mosquitto(opts: Parameters<typeof startMosquitto>[0] = {}): Promise<RunningMosquitto> {
  const m = await startMosquitto(opts);
  cleanups.push(() => m.stop());
  return m;
}

function ringing(id: string, ext = '117', startedAt = new Date().toISOString()): CallRecord {
  return ringingRecord({ id, extension: ext, queue: '820', startedAt });
}

function ended(r: CallRecord, result: 'answered' | 'missed' = 'missed'): CallRecord {
  const t = new Date(Date.parse(r.startedAt) + 5000).toISOString();
  return { ...r, status: 'ended', result, answeredAt: result === 'answered' ? r.startedAt : null, endedAt: t, durationSec: result === 'answered' ? 5 : null } as CallRecord;
}

/** The test's stand-in for `callpop hub`: publishes changes with seqs and answers sync requests. */
class FakeHub {
  seq = 0;
  readonly latest = new Map<string, { seq: number; record: CallRecord }>();
  readonly requests: { since: number; clientId: string }[] = [];
  answer = true;

  private constructor(readonly mqtt: MqttClient) {}

  static async start(url: string, auth: { username?: string; password?: string } = {}): Promise<FakeHub> {
    const mqtt = await connectAsync(url, { protocolVersion: 4, clientId: `fakehub-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 200, ...auth });
    const hub = new FakeHub(mqtt);
    cleanups.push(() => mqtt.endAsync(true));
    await mqtt.subscribeAsync(`callpop/v1/${site}/ext/+/sync/req`, { qos: 1 });
    mqtt.on('message', (topic, payload) => {
      const ext = topic.split('/')[4]!;
      const req = decodePayload(syncRequestSchema, payload);
      if (!req.ok) return;
      hub.requests.push({ since: req.value.since, clientId: req.value.clientId });
      if (!hub.answer) return;
      const records = [...hub.latest.values()].filter((x) => x.record.extension === ext && x.seq > req.value.since).sort((a, b) => a.seq - b.seq);
      const res: SyncResponse = { v: 1, requestId: req.value.requestId, part: 0, records, done: true, headSeq: hub.seq, more: false };
      void mqtt.publishAsync(topics.syncResponse(site, ext, req.value.clientId), JSON.stringify(res), { qos: 1 });
    });
    return hub;
  }

  /** A record change: stored (for backfills) and, if `live`, published on the calls topic. */
  async change(record: CallRecord, change: string, live = true): Promise<number> {
    const seq = ++this.seq;
    this.latest.set(record.id, { seq, record });
    if (live) await this.mqtt.publishAsync(topics.calls(site, record.extension), JSON.stringify({ v: 1, seq, change, record }), { qos: 1 });
    return seq;
  }

  async raw(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.mqtt.publishAsync(topic, payload, { qos: 1, retain });
  }
}

interface Started {
  client: HubClient;
  live: HubCallUpdate[];
  durable: HubCallUpdate[];
  statuses: HubClientStatus[];
  logs: string[];
}

async function startClient(opts: { url: string | string[]; dataDir: string; user?: string; password?: string; extension?: string; logs?: string[] }): Promise<Started> {
  const logs = opts.logs ?? [];
  const logger: Logger = { debug() {}, info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) };
  const client = await HubClient.start({
    dataDir: opts.dataDir,
    url: opts.url,
    user: opts.user ?? 'anna',
    password: opts.password ?? 'secret',
    extension: opts.extension ?? '117',
    logger,
    reconnect: { initialMs: 100, maxMs: 400 },
    syncTimeoutMs: 1000,
  });
  cleanups.push(() => client.close());
  const s: Started = { client, live: [], durable: [], statuses: [], logs };
  client.onUpdates((u) => s.live.push(...u));
  client.onDurable((u) => s.durable.push(...u));
  client.onStatus((st) => s.statuses.push(st));
  return s;
}

async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const synced = (c: HubClient): boolean => {
  const s = c.currentStatus();
  return s.state === 'connected' && s.synced;
};
const all = (c: HubClient): CallRecord[] => [...c.store.iterate({})];

describe.skipIf(!mosquittoAvailable)('HubClient on a real Mosquitto', () => {
  it('mirrors live changes into the local log: live update first, durable after the write, same record', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const s = await startClient({ url: m.url, dataDir: await tempDir() });
    await until('synced', () => synced(s.client));
    const r = ringing('261201100000_1');
    await hub.change(r, 'ringing');
    await until('live ring', () => s.live.length === 1);
    expect(s.live[0]).toMatchObject({ change: 'ringing', backfill: false, seq: 1, record: r });
    await until('durable ring', () => s.durable.length === 1);
    expect(s.client.openCalls()).toEqual([r]);
    const e = ended(r);
    await hub.change(e, 'missed');
    await until('durable end', () => s.durable.length === 2);
    expect(s.durable[1]).toMatchObject({ change: 'missed', backfill: false });
    expect(all(s.client)).toEqual([e]);
    expect(s.client.openCalls()).toEqual([]);
  });

  it('a duplicate QoS-1 delivery or an older seq changes nothing and emits nothing', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const s = await startClient({ url: m.url, dataDir: await tempDir() });
    await until('synced', () => synced(s.client));
    const r = ringing('261201100100_1');
    const calls = topics.calls(site, '117');
    await hub.change(r, 'ringing');
    const e = ended(r);
    await hub.change(e, 'missed');
    await until('both', () => s.durable.length === 2);
    // The same message again (what a QoS-1 redelivery is), then the older ringing state again.
    await hub.raw(calls, JSON.stringify({ v: 1, seq: 2, change: 'missed', record: e }));
    await hub.raw(calls, JSON.stringify({ v: 1, seq: 1, change: 'ringing', record: r }));
    // A marker after them proves they were processed.
    const marker = ringing('261201100100_2');
    await hub.change(marker, 'ringing');
    await until('marker', () => s.durable.length === 3);
    expect(s.live.map((u) => u.record.id)).toEqual(['261201100100_1', '261201100100_1', '261201100100_2']);
    expect(s.client.store.get(r.id)).toEqual(e);
    expect(all(s.client)).toHaveLength(2);
  });

  it('malformed messages change nothing, crash nothing, and are logged rate-limited', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const s = await startClient({ url: m.url, dataDir: await tempDir() });
    await until('synced', () => synced(s.client));
    const calls = topics.calls(site, '117');
    const good = ringing('261201100200_1');
    const bad: (string | Buffer)[] = [
      'not json',
      Buffer.from([0xff, 0xfe, 0x00]),
      JSON.stringify({ v: 2, seq: 5, change: 'ringing', record: good }),
      JSON.stringify({ v: 1, seq: -1, change: 'ringing', record: good }),
      JSON.stringify({ v: 1, seq: 5, change: 'ringing', record: { ...good, status: 'talking' } }),
      JSON.stringify({ v: 1, seq: 5, change: 'exploded', record: good }),
      JSON.stringify({ v: 1, seq: 5, change: 'ringing', record: { ...good, extension: '204' } }),
      JSON.stringify(null),
      JSON.stringify([1, 2, 3]),
    ];
    for (const p of bad) await hub.raw(calls, p);
    await hub.raw(topics.syncResponse(site, '117', s.client.clientId), JSON.stringify({ v: 1, requestId: 'x', part: 0, records: 'no', done: true, headSeq: 1, more: false }));
    await hub.raw(topics.hubStatus(site), '{"v":1,"state":"sleeping"}');
    await hub.raw(topics.directory(site), JSON.stringify({ v: 1, agents: { '117': 'x'.repeat(500) } }));
    const marker = ringing('261201100200_9');
    await hub.change(marker, 'ringing');
    await until('marker', () => s.durable.length === 1);
    expect(all(s.client).map((r) => r.id)).toEqual([marker.id]);
    expect(s.live.map((u) => u.record.id)).toEqual([marker.id]);
    expect(s.client.currentStatus().state).toBe('connected');
    expect(s.client.directory()).toEqual({});
    // A few lines per 10 s (then one count), not one per message: 9 bad ones on this topic alone.
    const warnings = s.logs.filter((l) => l.startsWith('warn ') && l.includes('calls'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(3);
    expect(s.logs.join('\n')).toMatch(/extension "204"|malformed hub message/);
  });

  it('a client offline during 3 calls catches up on reconnect: the calls in the log once, no stale ring popped, missed flagged as backfill', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const dataDir = await tempDir();
    let s = await startClient({ url: m.url, dataDir });
    await until('synced', () => synced(s.client));
    const first = ringing('261201100300_1');
    await hub.change(first, 'ringing');
    await until('first', () => s.durable.length === 1);
    await s.client.close();

    // While it is off: a missed call, an answered one, and one still ringing since 2 minutes.
    const missed = ended(ringing('261201100300_2'));
    const answered = ended(ringing('261201100300_3'), 'answered');
    const old = ringing('261201100300_4', '117', new Date(Date.now() - 120_000).toISOString());
    await hub.change(ended(first), 'missed', false);
    for (const [r, c] of [
      [missed, 'missed'],
      [answered, 'ended'],
      [old, 'ringing'],
    ] as const) {
      await hub.change(r, c, false);
    }
    s = await startClient({ url: m.url, dataDir });
    await until('caught up', () => synced(s.client) && s.durable.length === 4);
    expect(hub.requests.at(-1)!.since).toBe(1);
    expect(s.live.every((u) => u.backfill)).toBe(true);
    expect(s.live.filter((u) => u.change === 'ringing' || u.change === 'dialing')).toEqual([]);
    expect(s.live.find((u) => u.record.id === old.id)!.change).toBe('updated');
    expect(s.live.filter((u) => u.change === 'missed').map((u) => u.record.id).sort()).toEqual([first.id, missed.id]);
    expect(all(s.client).map((r) => r.id).sort()).toEqual([first.id, missed.id, answered.id, old.id]);
    // A further connect asks from where it is, and nothing doubles.
    await s.client.close();
    s = await startClient({ url: m.url, dataDir });
    await until('synced again', () => synced(s.client));
    expect(hub.requests.at(-1)!.since).toBe(5);
    expect(s.live).toEqual([]);
    expect(all(s.client)).toHaveLength(4);
  });

  it('a fresh ring caught in a backfill still pops', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const r = ringing('261201100400_1');
    await hub.change(r, 'ringing', false);
    const s = await startClient({ url: m.url, dataDir: await tempDir() });
    await until('backfilled', () => s.live.length === 1);
    expect(s.live[0]).toMatchObject({ change: 'ringing', backfill: true });
  });

  it('a refused password ends it: status refused with a reason, no retries', async () => {
    const dir = await tempDir();
    const passwd = join(dir, 'passwd');
    await writeFile(passwd, '');
    execFileSync('mosquitto_passwd', ['-b', passwd, 'anna', 'right-password']);
    const m = await mosquitto({ passwordFile: passwd });
    const s = await startClient({ url: m.url, dataDir: await tempDir(), password: 'wrong' });
    await until('refused', () => s.client.currentStatus().state === 'refused');
    expect(s.client.currentStatus()).toMatchObject({ state: 'refused', reason: expect.stringMatching(/^the hub refused the (user|agent) name or password/) });
    // With 100 ms backoff a retry loop would have made several attempts by now.
    await new Promise((r) => setTimeout(r, 700));
    expect(s.statuses.filter((x) => x.state === 'reconnecting')).toEqual([]);
    // The right password connects.
    const ok = await startClient({ url: m.url, dataDir: await tempDir(), password: 'right-password' });
    await until('connected', () => ok.client.currentStatus().state === 'connected');
  });

  it('a live change whose prevSeq it never applied (dropped across a broker failover) makes it catch up instead of moving past the gap', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const s = await startClient({ url: m.url, dataDir: await tempDir() });
    await until('synced', () => synced(s.client));
    const first = ringing('261201100700_1');
    const seq1 = await hub.change(first, 'ringing');
    await until('first', () => s.live.length === 1);
    const requests = hub.requests.length;
    // The hub's change seq1+1 (a missed call) never reaches the client; the next one says it came before.
    const lost = ended(ringing('261201100701_1'));
    const seq2 = await hub.change(lost, 'missed', false);
    const next = ringing('261201100702_1');
    const seq3 = ++hub.seq;
    hub.latest.set(next.id, { seq: seq3, record: next });
    await hub.raw(topics.calls(site, '117'), JSON.stringify({ v: 1, seq: seq3, change: 'ringing', record: next, prevSeq: seq2 }));
    await until('the lost change backfilled', () => all(s.client).some((r) => r.id === lost.id) && synced(s.client));
    expect(hub.requests.length).toBe(requests + 1);
    expect(hub.requests.at(-1)!.since).toBeLessThanOrEqual(seq1);
    expect(s.logs.some((l) => l.includes(`Missed a hub change (seq ${seq2}, got ${seq3} next)`))).toBe(true);
    expect(s.client.syncedSeq).toBeGreaterThanOrEqual(seq3);
  });

  it('keeps one catch-up position per hub (its node list), not per address: a list grown from one address or reordered starts where it was', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const dataDir = await tempDir();
    const one = await startClient({ url: m.url, dataDir });
    await until('synced', () => synced(one.client));
    await hub.change(ringing('261201100800_1'), 'ringing');
    await until('applied', () => one.client.syncedSeq === hub.seq);
    await one.client.close();
    // The same hub, now as the first of a cluster's nodes (the others down): the sync starts from hub.seq.
    const dead = 'mqtt://127.0.0.1:9';
    const before = hub.requests.length;
    const listed = await startClient({ url: [m.url, dead], dataDir });
    await until('synced through the list', () => synced(listed.client));
    expect(hub.requests[before]!.since).toBe(hub.seq);
    await listed.client.close();
    const reordered = await startClient({ url: `${dead},${m.url}`, dataDir });
    await until('synced through the reordered list', () => synced(reordered.client), 10_000);
    expect(hub.requests.at(-1)!.since).toBe(hub.seq);
    expect(reordered.client.currentStatus()).toMatchObject({ state: 'connected', url: m.url });
  });

  it('broker restart: reconnecting since T, then connected again, backfills what it missed', async () => {
    let m = await mosquitto();
    const port = m.port;
    let hub = await FakeHub.start(m.url);
    const s = await startClient({ url: m.url, dataDir: await tempDir() });
    await until('synced', () => synced(s.client));
    await m.stop();
    await until('reconnecting', () => s.client.currentStatus().state === 'reconnecting');
    m = await mosquitto({ port });
    hub.seq = 0;
    const fresh = await FakeHub.start(m.url);
    fresh.seq = hub.seq;
    hub = fresh;
    const r = ended(ringing('261201100500_1'));
    await hub.change(r, 'missed', false);
    await until('backfilled after restart', () => s.durable.length === 1, 8000);
    expect(s.durable[0]).toMatchObject({ change: 'missed', backfill: true });
    const states = s.statuses.map((x) => x.state);
    expect(states.indexOf('reconnecting')).toBeGreaterThan(states.indexOf('connected'));
    expect(states.lastIndexOf('connected')).toBeGreaterThan(states.indexOf('reconnecting'));
  });

  it('hub offline (its last will) shows as hub-offline and its return triggers a new backfill', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const s = await startClient({ url: m.url, dataDir: await tempDir() });
    await until('synced', () => synced(s.client));
    const since = new Date().toISOString();
    await hub.raw(topics.hubStatus(site), JSON.stringify({ v: 1, state: 'offline', since, protocols: [1] }), true);
    await until('hub-offline', () => s.client.currentStatus().state === 'hub-offline');
    expect(s.client.currentStatus()).toMatchObject({ state: 'hub-offline', since });
    const before = hub.requests.length;
    await hub.change(ended(ringing('261201100600_1')), 'missed', false);
    await hub.raw(topics.hubStatus(site), JSON.stringify({ v: 1, state: 'online', since: new Date().toISOString(), protocols: [1] }), true);
    await until('connected + backfilled', () => s.client.currentStatus().state === 'connected' && s.durable.length === 1);
    expect(hub.requests.length).toBe(before + 1);
  });

  it('the client id is kept per agent in the data folder; two PCs of one agent both stay connected', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const pc1 = await tempDir();
    const a = await startClient({ url: m.url, dataDir: pc1 });
    const b = await startClient({ url: m.url, dataDir: await tempDir() });
    expect(a.client.clientId).toMatch(/^cp-anna-[0-9a-f]{12}$/);
    expect(b.client.clientId).not.toBe(a.client.clientId);
    const saved = JSON.parse(await readFile(join(pc1, 'hub-client.json'), 'utf8')) as { clientIds: Record<string, string> };
    expect(saved.clientIds.anna).toBe(a.client.clientId);
    await until('both synced', () => synced(a.client) && synced(b.client));
    await hub.change(ringing('261201100700_1'), 'ringing');
    await until('both got it', () => a.durable.length === 1 && b.durable.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect([...a.statuses, ...b.statuses].filter((x) => x.state === 'reconnecting')).toEqual([]);
    await a.client.close();
    const again = await startClient({ url: m.url, dataDir: pc1 });
    expect(again.client.clientId).toBe(a.client.clientId);
  });

  it('reconnectNow drops the connection and reconnects at once (resume from sleep)', async () => {
    const m = await mosquitto();
    await FakeHub.start(m.url);
    const s = await HubClient.start({ dataDir: await tempDir(), url: m.url, user: 'anna', password: 'x', extension: '117', reconnect: { initialMs: 30_000, maxMs: 60_000 }, syncTimeoutMs: 1000 });
    cleanups.push(() => s.close());
    await until('synced', () => synced(s));
    const first = s.currentStatus();
    await new Promise((r) => setTimeout(r, 5));
    s.reconnectNow();
    // With a 30 s backoff only the immediate path can reconnect within the wait.
    await until('reconnected', () => synced(s) && (s.currentStatus() as { since: string }).since !== (first as { since: string }).since, 3000);
  });

  it('a malformed sync answer or one for another request changes nothing; the watermark survives a restart', async () => {
    const m = await mosquitto();
    const hub = await FakeHub.start(m.url);
    const dataDir = await tempDir();
    const s = await startClient({ url: m.url, dataDir });
    await until('synced', () => synced(s.client));
    await hub.raw(
      topics.syncResponse(site, '117', s.client.clientId),
      JSON.stringify({ v: 1, requestId: 'not-mine', part: 0, records: [{ seq: 9, record: ringing('261201100800_1') }], done: true, headSeq: 9, more: false }),
    );
    await hub.change(ringing('261201100800_2'), 'ringing');
    await until('marker', () => s.durable.length === 1);
    expect(all(s.client).map((r) => r.id)).toEqual(['261201100800_2']);
    await s.client.close();
    const reader = await openCallLogStore(callLogDir(dataDir), { readOnly: true });
    expect([...reader.iterate({})].map((r) => r.id)).toEqual(['261201100800_2']);
    await reader.close();
    const saved = JSON.parse(await readFile(join(dataDir, 'hub-client.json'), 'utf8')) as { synced: Record<string, number> };
    expect(Object.values(saved.synced)).toEqual([1]);
  });
});
