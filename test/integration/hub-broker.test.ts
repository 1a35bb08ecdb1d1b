// `callpop hub` core on real parts: a hub on loopback (webhook listener + embedded aedes broker on
// free ports, data in a temp folder), real webhooks over HTTP, real MQTT.js agent clients.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { HUB_PROTOCOL_VERSION, agentClientId, SYNC_CHUNK, callChangeMessageSchema, directoryMessageSchema, hubStatusMessageSchema, openCallsMessageSchema, syncResponseSchema, topics, type SyncResponse } from '../../shared/hub-protocol';
import { sendWebhook } from '../../main/core/listener/test-call';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { OPEN_LIST_MS, startHub, type Hub } from '../../main/core/hub/hub';

let dataDir = '';
let hub: Hub | null = null;
const clients: MqttClient[] = [];
const logs: string[] = [];
const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'callpop-hub-'));
  logs.length = 0;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
  await hub?.close();
  hub = null;
  await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<Hub> {
  hub = await startHub({ dataDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, logger, agentsPollMs: 50, tickMs: 60_000 });
  return hub;
}

async function connect(username: string, password: string, clientId = agentClientId(username)): Promise<MqttClient> {
  const c = await mqtt.connectAsync(hub!.brokerUrl, { username, password, clientId, reconnectPeriod: 0, protocolVersion: 4 });
  clients.push(c);
  return c;
}

/** Messages a client receives, by topic. */
function collect(c: MqttClient): { topic: string; json: unknown; retain: boolean }[] {
  const got: { topic: string; json: unknown; retain: boolean }[] = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, json: JSON.parse(payload.toString()), retain: packet.retain }));
  return got;
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function play(flowName: string): Promise<void> {
  const flow = findSeedFlow(flowName)!;
  for (const raw of flowRequests(flow)) {
    const res = await sendWebhook(hub!.webhookUrl, raw);
    expect(res.status).toBe(200);
  }
}

/** Subscribe and return the granted QoS per filter (128 = refused). */
async function sub(c: MqttClient, filter: string): Promise<number> {
  const granted = await c.subscribeAsync(filter, { qos: 1 });
  return granted[0]!.qos;
}

describe('hub: webhooks → embedded broker → agents', () => {
  it('delivers each extension its own record changes (attended transfer: 117 and 204 from one stream), the retained open list, status and directory', async () => {
    const a117 = await addAgent(dataDir, { name: 'anna', extensions: ['117'], displayName: 'Anna' });
    const a204 = await addAgent(dataDir, { name: 'bob', extensions: ['204'] });
    await start();
    const anna = await connect('anna', a117.password);
    const bob = await connect('bob', a204.password);
    const annaGot = collect(anna);
    const bobGot = collect(bob);
    expect(await sub(anna, topics.extensionTree(hub!.site, '117'))).toBe(1);
    expect(await sub(anna, topics.hubStatus(hub!.site))).toBe(1);
    expect(await sub(anna, topics.directory(hub!.site))).toBe(1);
    expect(await sub(bob, topics.calls(hub!.site, '204'))).toBe(1);

    await play('incoming-attended-transfer');
    const flow = findSeedFlow('incoming-attended-transfer')!;
    const callsOf = (got: typeof annaGot, ext: string) =>
      got.filter((m) => m.topic === topics.calls('default', ext)).map((m) => callChangeMessageSchema.parse(m.json));
    await until(() => callsOf(annaGot, '117').some((m) => m.record.status === 'ended' && m.record.recordings.length === 1), "117's recording");
    await until(() => callsOf(bobGot, '204').some((m) => m.record.status === 'ended' && m.record.recordings.length === 1), "204's recording");
    const last117 = callsOf(annaGot, '117').at(-1)!.record;
    const last117Seq = () => callsOf(annaGot, '117').at(-1)!.seq;
    const last204 = callsOf(bobGot, '204').at(-1)!.record;
    expect(last117).toMatchObject({ id: flow.expected['117']!.id, extension: '117', transferredTo: '204', durationSec: 14 });
    expect(last204).toMatchObject({ id: flow.expected['204']!.id, extension: '204', transferredFrom: '117', durationSec: 6 });
    // Nobody sees another extension's calls.
    expect(annaGot.every((m) => !m.topic.includes('/ext/204/'))).toBe(true);
    expect(bobGot.every((m) => m.topic === topics.calls('default', '204'))).toBe(true);
    // seqs strictly increase per client.
    const seqs = callsOf(annaGot, '117').map((m) => m.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);

    const status = annaGot.find((m) => m.topic === topics.hubStatus('default'));
    expect(hubStatusMessageSchema.parse(status?.json)).toMatchObject({ v: HUB_PROTOCOL_VERSION, state: 'online', protocols: [1] });
    expect(status?.retain).toBe(true);
    const dir = annaGot.find((m) => m.topic === topics.directory('default'));
    expect(directoryMessageSchema.parse(dir?.json).agents).toEqual({ '117': 'Anna' });
    // The retained open list follows (throttled): empty once the call ended.
    const open = () => annaGot.filter((m) => m.topic === topics.open('default', '117')).map((m) => openCallsMessageSchema.parse(m.json));
    await until(() => open().length > 0 && open().at(-1)!.calls.length === 0 && open().at(-1)!.seq >= last117Seq(), 'the empty open list');
  });

  it('keeps a retained open list per extension: a client connecting while a call rings gets it at once, and it empties when the call ends', async () => {
    const a = await addAgent(dataDir, { name: 'anna', extensions: ['202'] });
    await start();
    const steps = flowRequests(findSeedFlow('incoming-answered')!, { freshIds: { stamp: '261201180001' } });
    for (const raw of steps.slice(0, 3)) expect((await sendWebhook(hub!.webhookUrl, raw)).status).toBe(200);
    // The retained list follows the change within OPEN_LIST_MS.
    await new Promise((r) => setTimeout(r, OPEN_LIST_MS + 100));
    const late = await connect('anna', a.password);
    const got = collect(late);
    await sub(late, topics.open('default', '202'));
    await until(() => got.length > 0, 'the retained open list');
    expect(got[0]!.retain).toBe(true);
    const ringing = openCallsMessageSchema.parse(got[0]!.json);
    expect(ringing.calls.map((c) => [c.id, c.status])).toEqual([['261201180001_10', 'ringing']]);
    for (const raw of steps.slice(3)) expect((await sendWebhook(hub!.webhookUrl, raw)).status).toBe(200);
    await until(() => got.length > 1 && openCallsMessageSchema.parse(got.at(-1)!.json).calls.length === 0, 'the open list emptied');
    expect(openCallsMessageSchema.parse(got.at(-1)!.json).seq).toBeGreaterThan(ringing.seq);
  });

  it('answers a sync request with every record of that extension changed after `since`, chunked, in seq order', async () => {
    const a = await addAgent(dataDir, { name: 'anna', extensions: ['202'] });
    await start();
    // 3 answered calls for 202, fresh ids each.
    const flow = findSeedFlow('incoming-answered')!;
    const stamps = ['261201090001', '261201090002', '261201090003'];
    for (const stamp of stamps) for (const raw of flowRequests(flow, { freshIds: { stamp } })) expect((await sendWebhook(hub!.webhookUrl, raw)).status).toBe(200);
    await hub!.flush();
    const c = await connect('anna', a.password, agentClientId('anna', 'desk1'));
    const got = collect(c);
    expect(await sub(c, topics.syncResponse('default', '202', agentClientId('anna', 'desk1')))).toBe(1);
    await c.publishAsync(topics.syncRequest('default', '202'), JSON.stringify({ v: 1, since: 0, clientId: agentClientId('anna', 'desk1'), requestId: 'r1' }), { qos: 1 });
    await until(() => got.some((m) => (m.json as SyncResponse).done), 'sync answer');
    const answer = syncResponseSchema.parse(got[0]!.json);
    expect(answer.records.map((r) => r.record.id)).toEqual(stamps.map((s) => `${s}_10`));
    expect(answer.records.every((r) => r.record.status === 'ended')).toBe(true);
    expect(answer).toMatchObject({ requestId: 'r1', part: 0, done: true, more: false, headSeq: hub!.headSeq });
    // Since the second record's seq: only the third.
    got.length = 0;
    await c.publishAsync(topics.syncRequest('default', '202'), JSON.stringify({ v: 1, since: answer.records[1]!.seq, clientId: agentClientId('anna', 'desk1'), requestId: 'r2' }), { qos: 1 });
    await until(() => got.length > 0, 'second answer');
    expect(syncResponseSchema.parse(got[0]!.json).records.map((r) => r.record.id)).toEqual([`${stamps[2]}_10`]);
  });

  it('chunks a large backfill into SYNC_CHUNK-record parts', async () => {
    const a = await addAgent(dataDir, { name: 'anna', extensions: ['202'] });
    await start();
    const n = SYNC_CHUNK + 7;
    const flow = findSeedFlow('incoming-missed')!;
    const extOf = flow.agent;
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const stamp = String(261201100000 + i);
      for (const raw of flowRequests(flow, { freshIds: { stamp }, extension: '202' })) pending.push(hub!.ingest(raw));
    }
    await Promise.all(pending);
    expect(extOf).toBeTruthy();
    const c = await connect('anna', a.password, agentClientId('anna', 'laptop'));
    const got = collect(c);
    await sub(c, topics.syncResponse('default', '202', agentClientId('anna', 'laptop')));
    await c.publishAsync(topics.syncRequest('default', '202'), JSON.stringify({ v: 1, since: 0, clientId: agentClientId('anna', 'laptop'), requestId: 'big' }), { qos: 1 });
    await until(() => got.some((m) => (m.json as SyncResponse).done), 'last chunk');
    const parts = got.map((m) => syncResponseSchema.parse(m.json));
    expect(parts.map((p) => [p.part, p.records.length, p.done])).toEqual([
      [0, SYNC_CHUNK, false],
      [1, 7, true],
    ]);
    const seqs = parts.flatMap((p) => p.records.map((r) => r.seq));
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(parts.flatMap((p) => p.records.map((r) => r.record.id))).size).toBe(n);
  });
});
