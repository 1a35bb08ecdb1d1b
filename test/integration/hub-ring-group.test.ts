// `callpop serve --hub` for an agent with several extensions keeps one call log for all of them. A call
// that rings two of them at once (a ring group, RingAll) has one PBX call id: keyed by call id alone the
// second extension's record overwrote the first's. Through a real hub (embedded broker on loopback) and
// the hub feed as serve runs it (hubKind, one HubClient per extension on one log), both records are
// kept, keyed per (call id, extension); a log written before (keyed by call id) is re-keyed when opened.
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../shared/settings';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { startHub } from '../../main/core/hub/hub';
import { callKeyPerExtension, hubKind, type HubFeed } from '../../main/core/hub-client/hub-feed';
import { openCallLogStore } from '../../main/core/call-log/store';
import { callLogDir } from '../../main/core/config/paths';
import { callRecord } from '../support/call-records';
import { testScope } from '../support/test-scope';

const { cleanups, tempDir } = testScope('callpop-ring-group-');
const secret = 'ringgroupsecret_0123456789A';

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('an agent with two extensions, one call log', () => {
  it('a ring-group call that rang both is two records, each missed, through a real hub', async () => {
    const hubDir = await tempDir();
    const { password } = await addAgent(hubDir, { name: 'anna', extensions: ['117', '204'] });
    const hub = await startHub({ dataDir: hubDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, secret, tickMs: 60_000, agentsPollMs: 100 });
    cleanups.push(() => hub.close());
    const pc = await tempDir();
    const feed = (await hubKind.start({
      dataDir: pc,
      settings: { ...defaultSettings(), source: 'hub', hubUrl: hub.brokerUrl, hubAgent: 'anna', extension: '117' },
      password,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      extra: { hub: { extensions: ['117', '204'], reconnect: { initialMs: 50, maxMs: 300 }, syncTimeoutMs: 2000 } },
    })) as HubFeed;
    cleanups.push(() => feed.close());
    await until('both connected', () => feed.clients.every((c) => c.currentStatus().state === 'connected'));

    // RingAll to 117 and 204: one call id; the PBX's end names 204 and ends it for both.
    const flow = findSeedFlow('ringall-missed')!;
    for (const raw of flowRequests(flow, { freshIds: { stamp: '261207130000' } })) {
      const res = await fetch(hub.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw.body });
      expect(res.status).toBe(200);
    }
    const missed = () => feed.store.query({ result: 'missed' }, { offset: 0, limit: 10 }).records;
    await until('both extensions missed in the log', () => missed().length === 2);
    await Promise.all(feed.clients.map((c) => c.flush()));
    const records = missed();
    expect(records.map((r) => r.extension).sort()).toEqual(['117', '204']);
    // The same PBX call id on both (the records keep it); the log tells them apart by extension.
    expect(new Set(records.map((r) => r.id)).size).toBe(1);
    const id = records[0]!.id;
    expect(feed.store.get(id)?.extension).toBe('117');
    expect(feed.store.get(`${id}@204`)?.extension).toBe('204');
    expect(feed.store.missedUnseen()).toBe(2);
  }, 30_000);

  it('a log keyed by call id alone (written before) is re-keyed when opened for several extensions; one extension keeps call ids', async () => {
    const dir = callLogDir(await tempDir());
    const a = callRecord({ id: '261207130100_1', extension: '117' });
    const b = callRecord({ id: '261207130100_2', extension: '204' });
    let store = await openCallLogStore(dir, { defaultCountry: 'TR' });
    await store.put([a, b]);
    await store.close();
    store = await openCallLogStore(dir, { defaultCountry: 'TR', keyOf: callKeyPerExtension('117') });
    expect(store.get(a.id)).toEqual(a);
    expect(store.get(b.id)).toBeUndefined();
    expect(store.get(`${b.id}@204`)).toEqual(b);
    // The same call now ringing 117 too is a record of its own.
    await store.put([{ ...b, extension: '117' }]);
    expect(store.size).toBe(3);
    await store.close();
    // Reopened keyed as before (the rewrite kept the keys); a reader without keyOf sees the same.
    store = await openCallLogStore(dir, { defaultCountry: 'TR', readOnly: true });
    expect(store.get(`${b.id}@204`)).toEqual(b);
    expect(store.get(b.id)).toEqual({ ...b, extension: '117' });
    await store.close();
  });
});
