// The hub client's recovery from what a broker cluster does when a node dies (issue #22), reproduced
// deterministically on a real broker (test/support/faulty-broker.ts, aedes on loopback) with a real
// hub publishing to it and a real HubClient into a real call log:
//   - the hub's node dies with its session (no will) while the agent keeps reconnecting (as agents on a
//     cluster do while its streams elect leaders): the agent shows the hub offline through its heartbeat
//     and says nothing else until the hub is back — an old heartbeat redelivered as retained on every
//     reconnect does not count as a new one;
//   - a change lost in flight after the hub's PUBACK, with no later change of that extension, is
//     recovered through the hub's per-extension head beat;
//   - live changes a broker delivers again after a reconnect (queued while the client was away) for
//     calls that already ended pop nothing and change nothing: the catch-up holds newer states;
//   - a broker whose store stalls (a NATS stream without a leader: each QoS-1 or retained publish
//     waits in its publisher's read loop, and so does everything that publisher sends after it) holds
//     no pop back and does not make the hub look gone: those go through the hub's live connection.
import { afterEach, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../shared/call-record';
import { topics } from '../../shared/hub-protocol';
import { asExpected, findSeedFlow, flowExpectations, flowRequests } from '../../shared/webhook/seed-flows';
import { addAgent, hubUserName } from '../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../main/core/hub/hub';
import { HubClient, type HubCallUpdate, type HubClientStatus } from '../../main/core/hub-client/hub-client';
import { sendWebhook } from '../../main/core/listener/test-call';
import { startFaultyBroker, type FaultyBroker } from '../support/faulty-broker';
import { testScope } from '../support/test-scope';
import { sleep, until } from './hub-helpers';

const { cleanups, tempDir } = testScope('callpop-recovery-');
const secret = 'recoverysecret_0123456789AB';
/** Short heartbeats keep the cases quick: a hub not heard for 3 periods (600 ms) is taken for gone. */
const HEARTBEAT_MS = 200;
let stamps = 0;
const nextStamp = (): string => `2612072${String(++stamps).padStart(5, '0')}`;

interface Setup {
  broker: FaultyBroker;
  hub: Hub;
  hubDir: string;
  client: HubClient;
  clientDir: string;
  password: string;
  live: HubCallUpdate[];
  statuses: HubClientStatus[];
  logs: string[];
}

async function setup(): Promise<Setup> {
  const broker = await startFaultyBroker();
  cleanups.push(() => broker.close());
  const hubDir = await tempDir();
  const { password } = await addAgent(hubDir, { name: 'anna', extensions: ['117'], displayName: 'Anna' });
  const hub = await startHub({ dataDir: hubDir, host: '127.0.0.1', port: 0, broker: { kind: 'external', url: broker.url, username: hubUserName, password: 'x' }, secret, tickMs: 60_000, heartbeatMs: HEARTBEAT_MS });
  cleanups.push(() => hub.close());
  const logs: string[] = [];
  const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
  const clientDir = await tempDir();
  const { client, live, statuses } = await startClient(broker, clientDir, password, logger);
  await until(() => ready(client), 'the agent connected and caught up');
  return { broker, hub, hubDir, client, clientDir, password, live, statuses, logs };
}

async function startClient(broker: FaultyBroker, dataDir: string, password: string, logger: { debug(): void; info(m: string): void; warn(m: string): void; error(m: string): void }) {
  const client = await HubClient.start({ dataDir, url: broker.url, user: 'anna', password, extension: '117', reconnect: { initialMs: 50, maxMs: 200 }, syncTimeoutMs: 2000, logger });
  cleanups.push(() => client.close());
  const live: HubCallUpdate[] = [];
  const statuses: HubClientStatus[] = [];
  client.onUpdates((u) => live.push(...u));
  client.onStatus((s) => statuses.push(s));
  return { client, live, statuses };
}

const callsTopic = topics.calls('default', '117');

const ready = (c: HubClient): boolean => {
  const s = c.currentStatus();
  return s.state === 'connected' && s.synced;
};

async function play(hub: Hub, flow: string, stamp: string, slice?: [number, number?]): Promise<void> {
  const all = flowRequests(findSeedFlow(flow)!, { freshIds: { stamp }, extension: '117' });
  for (const r of slice ? all.slice(...slice) : all) expect((await sendWebhook(hub.webhookUrl, r)).status).toBe(200);
}

const withStamp = (c: HubClient, stamp: string): CallRecord[] => [...c.store.iterate({})].filter((r) => r.id.startsWith(stamp));
const expected = (flow: string, stamp: string) => flowExpectations(findSeedFlow(flow)!, { freshIds: { stamp }, extension: '117' })['117'];

afterEach(() => {
  stamps += 10;
});

describe('hub client recovery from a broker that loses things', () => {
  it("a hub whose node died with its session shows as offline through its heartbeat, though each reconnect redelivers its last heartbeat, and as back when it is", async () => {
    const s = await setup();
    // The hub's node dies: its two connections are gone (the stored one and the live one), its will
    // with them, and it cannot log in again.
    s.broker.loseWillsOf.add('callpop-hub');
    s.broker.shutOut.add(hubUserName);
    expect(s.broker.cut('callpop-hub')).toBe(2);
    const lostAt = s.statuses.length;
    // Meanwhile the agent's connection is cut every 250 ms (less than the 3 heartbeats it waits for),
    // as agents on a cluster reconnect while its streams elect leaders: each reconnect brings the
    // retained status again, the hub's last heartbeat.
    let cutting = true;
    const cutter = (async () => {
      while (cutting) {
        await sleep(250);
        if (cutting) s.broker.cut(s.client.clientId);
      }
    })();
    cleanups.push(async () => {
      cutting = false;
      await cutter;
    });
    await until(() => s.client.currentStatus().state === 'hub-offline', 'the agent to show the hub offline', 10_000);
    expect(s.client.currentStatus()).toMatchObject({ state: 'hub-offline', silent: true });
    // Reconnecting after that never shows the hub as there again (a redelivered heartbeat is not a new one).
    await sleep(2000);
    const after = s.statuses.slice(lostAt);
    const firstOffline = after.findIndex((x) => x.state === 'hub-offline');
    expect(after.slice(firstOffline).filter((x) => x.state === 'connected')).toEqual([]);
    expect(after.slice(firstOffline).some((x) => x.state === 'reconnecting')).toBe(true);
    cutting = false;
    await cutter;
    // A call taken while the hub was cut off is on its disk; the hub's node comes back and the agent has it.
    const stamp = nextStamp();
    await play(s.hub, 'incoming-answered', stamp);
    s.broker.shutOut.delete(hubUserName);
    await until(() => ready(s.client) && withStamp(s.client, stamp).length === 1, 'the hub back and the call caught up', 15_000);
    expect(withStamp(s.client, stamp).map(asExpected)).toEqual([expected('incoming-answered', stamp)]);
  });

  it('a change lost in flight after the hub got its PUBACK, with no later change of that extension, is recovered through the head beat', async () => {
    const s = await setup();
    // Every live change of anna's extension is lost between the broker and her PC from now on.
    s.broker.dropDelivery = (clientId, topic) => clientId === s.client.clientId && topic === callsTopic;
    const before = s.broker.published(callsTopic).length;
    const at = s.statuses.length;
    const stamp = nextStamp();
    await play(s.hub, 'incoming-answered', stamp);
    // The hub published each change (the broker confirmed them); none reached her.
    expect(s.broker.published(callsTopic).length - before).toBeGreaterThan(0);
    await until(() => withStamp(s.client, stamp).length === 1 && JSON.stringify(asExpected(withStamp(s.client, stamp)[0]!)) === JSON.stringify(expected('incoming-answered', stamp)), 'the lost call recovered', 10_000).catch(() => {});
    expect(withStamp(s.client, stamp).map(asExpected)).toEqual([expected('incoming-answered', stamp)]);
    // Recovered by a sync on the same connection, not by a reconnect, and said in the log.
    expect(s.statuses.slice(at).filter((x) => x.state !== 'connected')).toEqual([]);
    expect(s.logs.some((l) => l.startsWith('Missed a hub change'))).toBe(true);
    await s.client.flush();
    // The watermark moved past it only once it was in the log: a restart does not fetch it again.
    expect(s.client.syncedSeq).toBe(s.hub.headSeq);
  });

  it('a broker whose store stalls holds back neither a pop nor the hub\'s heartbeat (they never wait behind a stored message)', async () => {
    const s = await setup();
    s.broker.holdStores(true);
    cleanups.push(async () => s.broker.holdStores(false));
    // The hub's next retained heartbeat is held, and with it every later packet of that connection.
    await until(() => s.broker.heldStores() > 0, 'a stored message held');
    const at = s.statuses.length;
    const seen = s.live.length;
    const stamp = nextStamp();
    // Up to the ring of anna's extension (the call comes through the IVR first).
    const ringAt = flowRequests(findSeedFlow('incoming-answered')!, { freshIds: { stamp }, extension: '117' }).findIndex((r) => r.body.includes('"Event":"ringing"') && r.body.includes('"User":"117"'));
    expect(ringAt).toBeGreaterThanOrEqual(0);
    await play(s.hub, 'incoming-answered', stamp, [0, ringAt + 1]);
    await until(() => s.live.slice(seen).some((u) => u.change === 'ringing' && u.record.id.startsWith(stamp)), 'the pop while stores are held');
    // Many heartbeat periods later the hub is still there for the agent, the stores still held.
    await sleep(HEARTBEAT_MS * 8);
    expect(s.broker.heldStores()).toBeGreaterThan(0);
    expect(s.statuses.slice(at).filter((x) => x.state !== 'connected')).toEqual([]);
    // The rest of the call too, and once the store is back what waited goes out.
    await play(s.hub, 'incoming-answered', stamp, [ringAt + 1]);
    await until(() => JSON.stringify(withStamp(s.client, stamp).map(asExpected)) === JSON.stringify([expected('incoming-answered', stamp)]), 'the call, answered and ended');
    s.broker.holdStores(false);
    await until(() => s.broker.published(topics.open('default', '117')).length > 0, 'the retained open list');
  });

  it('live changes a broker hands a returning client (queued while it was away) for calls that ended since pop nothing and change nothing', async () => {
    const s = await setup();
    await s.client.close();
    const before = s.broker.published(callsTopic).length;
    const stamps = [nextStamp(), nextStamp()];
    await play(s.hub, 'incoming-missed', stamps[0]!);
    await play(s.hub, 'incoming-answered', stamps[1]!);
    // What the hub published while the PC was away, "ringing" first: a cluster node that kept them
    // delivers them as the PC subscribes again, before the catch-up's answer.
    const queued = s.broker.published(callsTopic).slice(before);
    expect(queued.map((q) => (JSON.parse(q.payload.toString()) as { change: string }).change)).toContain('ringing');
    const again = async (): Promise<void> => {
      for (const q of queued) await s.broker.inject(callsTopic, q.payload);
    };
    s.broker.onSubscribed = (_id, subs) => {
      if (subs.includes(callsTopic)) void again();
    };
    const logs: string[] = [];
    const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    const c = await startClient(s.broker, s.clientDir, s.password, logger);
    const done = (): boolean => ready(c.client) && stamps.every((st) => withStamp(c.client, st).length === 1);
    await until(done, 'caught up', 10_000);
    await c.client.flush();
    expect(withStamp(c.client, stamps[0]!).map(asExpected)).toEqual([expected('incoming-missed', stamps[0]!)]);
    expect(withStamp(c.client, stamps[1]!).map(asExpected)).toEqual([expected('incoming-answered', stamps[1]!)]);
    expect(c.live.filter((u) => u.change === 'ringing' || u.change === 'dialing')).toEqual([]);
    expect(c.live.every((u) => u.backfill)).toBe(true);
    // The same old messages once more, after the catch-up (a late redelivery): nothing moves.
    s.broker.onSubscribed = null;
    const seen = c.live.length;
    const records = JSON.stringify(stamps.map((st) => withStamp(c.client, st)));
    await again();
    await sleep(300);
    await c.client.flush();
    expect(c.live.slice(seen)).toEqual([]);
    expect(JSON.stringify(stamps.map((st) => withStamp(c.client, st)))).toBe(records);
  });
});
