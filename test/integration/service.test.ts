// WebhookReceiver end to end: real listener on 127.0.0.1:0, real call log in a temp dir, every seed
// flow posted over HTTP, then the log is checked against the flow's expected records.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord, CallUpdate } from '../../shared/call-record';
import { defaultSettings, type Settings } from '../../shared/settings';
import { asExpected, flowExpectations, flowRequests, seedFlows, findSeedFlow } from '../../shared/webhook/seed-flows';
import type { RawWebhook } from '../../shared/webhook/event';
import { openCallLogStore } from '../../main/core/call-log/store';
import { callLogDir } from '../../main/core/config/paths';
import { WebhookReceiver } from '../../main/core/receiver/webhook-receiver';
import { sendWebhook } from '../../main/core/listener/test-call';

const secret = 'testsecret_0123456789ABCDEF';
const dirs: string[] = [];
const services: WebhookReceiver[] = [];

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'callpop-service-'));
  dirs.push(d);
  return d;
}

function settingsFor(extension: string, more: Partial<Settings> = {}): Settings {
  return { ...defaultSettings(), extension, listenHost: '127.0.0.1', listenPort: 0, webhookSecret: secret, ...more };
}

async function startService(dataDir: string, extension: string, more: Partial<Settings> = {}): Promise<WebhookReceiver> {
  const s = await WebhookReceiver.start({ dataDir, settings: settingsFor(extension, more) });
  services.push(s);
  return s;
}

const urlOf = (s: WebhookReceiver): string => `http://127.0.0.1:${s.port}/webhook/${secret}`;

async function postAll(s: WebhookReceiver, requests: readonly RawWebhook[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const r of requests) statuses.push((await sendWebhook(urlOf(s), r)).status);
  return statuses;
}

const all = (s: WebhookReceiver): CallRecord[] => [...s.store.iterate({})];

afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('WebhookReceiver over HTTP', () => {
  for (const flow of seedFlows) {
    for (const extension of Object.keys(flow.expected)) {
      it(`${flow.name}: extension ${extension} gets exactly its expected record`, async () => {
        const s = await startService(await tempDir(), extension);
        const opts = { freshIds: { stamp: '261124120000' } };
        const statuses = await postAll(s, flowRequests(flow, opts));
        expect(statuses.every((c) => c === 200), String(statuses)).toBe(true);
        const expected = flowExpectations(flow, opts)[extension]!;
        const records = all(s);
        expect(records).toHaveLength(1);
        const r = records[0]!;
        expect(asExpected(r)).toEqual(expected);
        expect(r.status).toBe('ended');
        expect(r.extension).toBe(extension);
      });
    }
  }

  it('duplicate deliveries change nothing and emit nothing', async () => {
    const flow = findSeedFlow('incoming-attended-transfer')!;
    const s = await startService(await tempDir(), '117');
    const requests = flowRequests(flow, { freshIds: { stamp: '261124120500' } });
    await postAll(s, requests);
    const before = JSON.stringify(all(s));
    const updates: CallUpdate[] = [];
    s.onUpdates((u) => updates.push(...u));
    const again = await postAll(s, requests);
    expect(again.every((c) => c === 200)).toBe(true);
    expect(JSON.stringify(all(s))).toBe(before);
    expect(updates).toEqual([]);
  });

  it('acknowledges only after the record is durable (a second reader finds it right after the 200)', async () => {
    const dataDir = await tempDir();
    const s = await startService(dataDir, '202');
    const [ivr, queue, rings] = flowRequests(findSeedFlow('incoming-answered')!, { freshIds: { stamp: '261124121000' } });
    expect(await postAll(s, [ivr!, queue!])).toEqual([200, 200]);
    expect((await sendWebhook(urlOf(s), rings!)).status).toBe(200);
    const reader = await openCallLogStore(callLogDir(dataDir), { readOnly: true });
    try {
      const records = [...reader.iterate({})];
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ id: '261124121000_10', status: 'ringing', number: '05551239988', queue: '820' });
    } finally {
      await reader.close();
    }
  });

  for (const [when, sent, status] of [
    ['ringing', 3, 'ringing'],
    ['answered', 4, 'talking'],
  ] as const) {
    it(`survives a restart mid-call (after ${when}): later events close the same record`, async () => {
      const dataDir = await tempDir();
      const flow = findSeedFlow('incoming-answered')!;
      const requests = flowRequests(flow, { freshIds: { stamp: `26112412150${sent}` } });
      let s = await startService(dataDir, '202');
      expect(await postAll(s, requests.slice(0, sent))).toEqual(Array(sent).fill(200));
      expect(s.openCalls().map((c) => c.status)).toEqual([status]);
      await s.close();
      services.splice(services.indexOf(s), 1);

      s = await startService(dataDir, '202');
      expect(s.openCalls().map((c) => c.status)).toEqual([status]);
      expect(await postAll(s, requests.slice(sent))).toEqual(Array(requests.length - sent).fill(200)); // … end (other id), recording
      const records = all(s);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ id: `26112412150${sent}_10`, status: 'ended', result: 'answered', durationSec: 6, queue: '820' });
      expect(records[0]!.recordings).toHaveLength(1);
      expect(s.openCalls()).toEqual([]);
    });
  }

  it('answers 503 when the log write fails, and the PBX retry (a duplicate) makes it durable', async () => {
    const s = await startService(await tempDir(), '202');
    const realPut = s.store.put.bind(s.store);
    let failNext = true;
    s.store.put = (records) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('ENOSPC: no space left on device'));
      }
      return realPut(records);
    };
    const rings = flowRequests(findSeedFlow('incoming-answered')!, { freshIds: { stamp: '261124121900' } })[2]!;
    const first = await sendWebhook(urlOf(s), rings);
    expect(first.status).toBe(503);
    expect(all(s)).toEqual([]);
    const retry = await sendWebhook(urlOf(s), rings);
    expect(retry.status).toBe(200);
    expect(all(s).map((r) => [r.id, r.status])).toEqual([['261124121900_10', 'ringing']]);
  });

  it('a retry that arrives while the first delivery is still being written is not acknowledged before it (503 if that write fails)', async () => {
    const s = await startService(await tempDir(), '202');
    const realPut = s.store.put.bind(s.store);
    let failFirst: (e: Error) => void = () => {};
    let calls = 0;
    s.store.put = (records) => {
      // The first write hangs until the test fails it; later ones go through.
      if (calls++ === 0) return new Promise<void>((_, reject) => (failFirst = reject));
      return realPut(records);
    };
    const rings = flowRequests(findSeedFlow('incoming-answered')!, { freshIds: { stamp: '261124122100' } })[2]!;
    const first = s.ingest(rings);
    const retry = s.ingest(rings);
    let retryAnswered = false;
    void retry.finally(() => (retryAnswered = true)).catch(() => {});
    try {
      await new Promise((r) => setTimeout(r, 50));
      expect(retryAnswered).toBe(false);
    } finally {
      failFirst(new Error('EIO: i/o error'));
    }
    await expect(first).rejects.toThrow(/EIO/);
    // The retry wrote what the failed write left behind: durable when it resolves.
    expect(await retry).toEqual({ status: 'ok' });
    expect(all(s).map((r) => [r.id, r.status])).toEqual([['261124122100_10', 'ringing']]);
  });

  it('a record the log would refuse (a tracker bug) is dropped and logged, and does not block later webhooks', async () => {
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) };
    const s = await WebhookReceiver.start({ dataDir: await tempDir(), settings: settingsFor('202'), logger });
    services.push(s);
    const requests = flowRequests(findSeedFlow('incoming-missed')!, { freshIds: { stamp: '261124122200' } });
    const tracker = (s as unknown as { tracker: { apply: (e: unknown) => CallUpdate[] } }).tracker;
    const apply = tracker.apply.bind(tracker);
    // The tracker's update for the ringing call comes out with 17 recordings (the log allows 16).
    tracker.apply = (e) => apply(e).map((u) => ({ ...u, record: { ...u.record, recordings: Array.from({ length: 17 }, (_, i) => `https://pbx/${i}.mp3`) } }));
    expect(await postAll(s, requests.slice(0, 3))).toEqual([200, 200, 200]);
    expect(errors.join('\n')).toMatch(/invalid record for call "261124122200_12" \(recordings/);
    tracker.apply = apply;
    // Later webhooks are written as usual (nothing left queued that would fail every write).
    const other = flowRequests(findSeedFlow('incoming-missed')!, { freshIds: { stamp: '261124122300' } });
    expect(await postAll(s, other)).toEqual([200, 200, 200, 200]);
    expect(all(s).map((r) => [r.id, r.result])).toEqual([['261124122300_12', 'missed']]);
  });

  it('a missed incoming call stays unseen in the log (drives the badge); an answered one does not', async () => {
    const s = await startService(await tempDir(), '202');
    await postAll(s, flowRequests(findSeedFlow('incoming-missed')!, { freshIds: { stamp: '261124121700' } }));
    await postAll(s, flowRequests(findSeedFlow('incoming-answered')!, { freshIds: { stamp: '261124121800' } }));
    expect(s.store.missedUnseen()).toBe(1);
    expect(all(s).map((r) => [r.result, r.seen])).toEqual([
      ['answered', true],
      ['missed', false],
    ]);
  });

  it('events of other extensions are acknowledged and leave no record', async () => {
    const s = await startService(await tempDir(), '999');
    const statuses = await postAll(s, flowRequests(findSeedFlow('ringall-answered')!, { freshIds: { stamp: '261124122000' } }));
    expect(statuses.every((c) => c === 200)).toBe(true);
    expect(all(s)).toEqual([]);
  });

  it('answers 400 for malformed webhooks and stores nothing', async () => {
    const s = await startService(await tempDir(), '202');
    const r = await sendWebhook(urlOf(s), { method: 'POST', query: '', body: '{"Event":"ringing","User":"202"', contentType: 'application/json' });
    expect(r.status).toBe(400);
    expect(r.body.length).toBeGreaterThan(0);
    expect(all(s)).toEqual([]);
  });

  it('without an extension: acknowledges webhooks, tracks nothing, tells the user to set it', async () => {
    const s = await startService(await tempDir(), '');
    expect(s.status().notice).toMatch(/Set your extension/);
    expect(s.status().state.state).toBe('listening');
    const statuses = await postAll(s, flowRequests(findSeedFlow('incoming-answered')!));
    expect(statuses.every((c) => c === 200)).toBe(true);
    expect(all(s)).toEqual([]);
    // Setting it later starts tracking without a restart.
    await s.updateSettings(settingsFor('202'));
    expect(s.status().notice).toBeNull();
    await postAll(s, flowRequests(findSeedFlow('incoming-missed')!, { freshIds: { stamp: '261124122500' } }));
    expect(all(s).map((r) => r.result)).toEqual(['missed']);
  });

  it('rebinds only when the listening settings change and reports the new URL', async () => {
    const s = await startService(await tempDir(), '202');
    const firstPort = s.port!;
    const statuses: string[] = [];
    s.onStatus((st) => statuses.push(st.state.state === 'listening' ? st.state.url : st.state.state));
    await s.updateSettings(settingsFor('202', { popup: { ...defaultSettings().popup, enabled: false } }));
    expect(s.port).toBe(firstPort);
    const newSecret = 'another_secret_0123456789';
    await s.updateSettings(settingsFor('202', { webhookSecret: newSecret }));
    expect(s.status().state).toMatchObject({ state: 'listening', url: expect.stringContaining(`/webhook/${newSecret}`) });
    expect(statuses.at(-1)).toContain(newSecret);
    const ringing = flowRequests(findSeedFlow('incoming-missed')!)[2]!;
    expect((await sendWebhook(urlOf(s), ringing)).status).toBe(404);
    expect((await sendWebhook(`http://127.0.0.1:${s.port}/webhook/${newSecret}`, ringing)).status).toBe(200);
  });

  it('a call deleted while open stays deleted when the PBX later ends it, also after a restart', async () => {
    const dataDir = await tempDir();
    let s = await startService(dataDir, '202');
    const requests = flowRequests(findSeedFlow('incoming-answered')!, { freshIds: { stamp: '261124123100' } });
    // IVR, queue, ringing at 202, picked up: the call is talking.
    await postAll(s, requests.slice(0, 4));
    const [open] = s.openCalls();
    expect(open).toMatchObject({ status: 'talking' });
    const emitted: CallUpdate[] = [];
    s.onUpdates((u) => emitted.push(...u));
    expect(await s.store.delete([open!.id])).toBe(1);
    expect(s.openCalls()).toEqual([]);
    // The end event and the recording are acknowledged but neither brings the call back nor pops it.
    expect(await postAll(s, requests.slice(4))).toEqual([200, 200]);
    await s.flush();
    expect(all(s)).toEqual([]);
    expect(emitted).toEqual([]);
    // After a restart the tracker no longer knows the call: a late redelivery must not recreate it either.
    await s.close();
    services.splice(services.indexOf(s), 1);
    s = await startService(dataDir, '202');
    expect(await postAll(s, requests.slice(3))).toEqual([200, 200, 200]);
    await s.flush();
    expect(all(s)).toEqual([]);
    // Other calls are logged as usual.
    await postAll(s, flowRequests(findSeedFlow('incoming-missed')!, { freshIds: { stamp: '261124123200' } }));
    expect(all(s).map((r) => r.result)).toEqual(['missed']);
  });

  it("changing the extension ends the previous extension's open calls in the log (ringing → missed, talking → answered)", async () => {
    const dataDir = await tempDir();
    const s = await startService(dataDir, '117');
    // RingAll: rings 117 and 204; then an answered call of 117 left talking.
    const ringall = flowRequests(findSeedFlow('ringall-missed')!, { freshIds: { stamp: '261124123300' } });
    await postAll(s, ringall.slice(0, 3));
    const talking = flowRequests(findSeedFlow('hunt-answered')!, { freshIds: { stamp: '261124123400' } });
    await postAll(s, talking.slice(0, 3));
    expect(s.openCalls().map((r) => r.status).sort()).toEqual(['ringing', 'talking']);
    const emitted: CallUpdate[] = [];
    s.onUpdates((u) => emitted.push(...u));
    await s.updateSettings(settingsFor('204'));
    expect(s.openCalls()).toEqual([]);
    const logged = all(s);
    expect(logged.map((r) => [r.extension, r.status, r.result, r.seen]).sort()).toEqual([
      ['117', 'ended', 'answered', true],
      ['117', 'ended', 'missed', false],
    ]);
    expect(emitted.map((u) => u.change).sort()).toEqual(['ended', 'missed']);
    expect(s.store.openCalls()).toEqual([]);
    // The new extension is tracked from now on.
    await postAll(s, flowRequests(findSeedFlow('ringall-missed')!, { freshIds: { stamp: '261124123500' } }));
    expect(all(s).filter((r) => r.extension === '204').map((r) => r.result)).toEqual(['missed']);
  });

  it('a tracker change while webhooks are being written loses none of them (the new tracker restores them)', async () => {
    const s = await startService(await tempDir(), '202');
    const other = flowRequests(findSeedFlow('incoming-missed')!, { freshIds: { stamp: '261124123600' } });
    const call = flowRequests(findSeedFlow('incoming-missed')!, { freshIds: { stamp: '261124123700' } });
    for (const r of call.slice(0, 2)) await s.ingest(r);
    // One call's ringing is being written when the ring timeout (part of the tracker's key) changes,
    // and the next call's ringing arrives while the service waits for that write.
    const first = s.ingest(other[2]!);
    await new Promise((resolve) => setImmediate(resolve));
    const change = s.updateSettings(settingsFor('202', { ringTimeoutSec: 60 }));
    const second = s.ingest(call[2]!);
    await Promise.all([first, second, change]);
    // The end event names only the queue: only a tracker that knows the call rang 202 can end it.
    expect(await s.ingest(call[3]!)).toEqual({ status: 'ok' });
    await s.flush();
    // The other call still rings; this one is missed, not left ringing in the log with no tracker to end it.
    expect(all(s).map((r) => [r.status, r.result]).sort()).toEqual([
      ['ended', 'missed'],
      ['ringing', null],
    ]);
    expect(s.store.openCalls().map((r) => r.id)).toEqual(s.openCalls().map((r) => r.id));
  });

  it('overlapping settings changes rebind one after the other: one listener, on the last settings', async () => {
    const s = await startService(await tempDir(), '202');
    const ports = [s.port!];
    const secrets = ['second_secret_0123456789', 'third_secret_01234567890'];
    s.onStatus((st) => st.state.state === 'listening' && ports.push(st.state.port));
    await Promise.all(secrets.map((webhookSecret) => s.updateSettings(settingsFor('202', { webhookSecret }))));
    expect(s.status().state).toMatchObject({ state: 'listening', url: expect.stringContaining(secrets[1]!) });
    const ringing = flowRequests(findSeedFlow('incoming-missed')!)[2]!;
    expect((await sendWebhook(`http://127.0.0.1:${s.port}/webhook/${secrets[1]}`, ringing)).status).toBe(200);
    // Every earlier listener is closed (none left holding its port).
    for (const port of new Set(ports.filter((p) => p !== s.port))) {
      await expect(sendWebhook(`http://127.0.0.1:${port}/webhook/${secrets[1]}`, ringing)).rejects.toThrow();
    }
    // Closing while a change is under way leaves nothing listening either.
    const change = s.updateSettings(settingsFor('202', { webhookSecret: 'fourth_secret_0123456789' }));
    await s.close();
    await change;
    expect(s.port).toBeNull();
    for (const port of new Set(ports)) await expect(sendWebhook(`http://127.0.0.1:${port}/webhook/x`, ringing)).rejects.toThrow();
  });

  it('closes a call that keeps ringing as missed on the timer and persists it', async () => {
    let now = Date.parse('2026-11-24T12:00:00Z');
    const dataDir = await tempDir();
    const s = await WebhookReceiver.start({ dataDir, settings: settingsFor('202', { ringTimeoutSec: 10 }), now: () => now, tickMs: 50 });
    services.push(s);
    const requests = flowRequests(findSeedFlow('incoming-answered')!, { freshIds: { stamp: '261124123000' } });
    await postAll(s, requests.slice(0, 3));
    const missed = new Promise<CallUpdate>((resolve) => s.onUpdates((u) => u.forEach((x) => x.change === 'missed' && resolve(x))));
    now += 11_000;
    const update = await missed;
    expect(update.record).toMatchObject({ status: 'ended', result: 'missed' });
    await s.flush();
    expect(s.store.get(update.record.id)).toMatchObject({ status: 'ended', result: 'missed' });
  });
});
