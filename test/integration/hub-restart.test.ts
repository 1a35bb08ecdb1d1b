// Hub restarts on real parts: `callpop hub` runs in a child process (the real CLI), gets webhooks over
// HTTP, is killed with SIGKILL right after the acknowledgements, and is started again on the same data
// folder. Nothing acknowledged is lost (a sync from 0 returns every record in its last state) and
// seqs keep growing past everything a client saw before the kill, even changes published live.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { agentClientId, callChangeMessageSchema, syncResponseSchema, topics, type SyncResponse } from '../../shared/hub-protocol';
import { sendWebhook } from '../../main/core/listener/test-call';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { collect, until } from './hub-helpers';

const cli = join(__dirname, '../../main/cli/index.ts');
const children: ChildProcess[] = [];
const clients: MqttClient[] = [];
let dataDir = '';

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface RunningHub {
  child: ChildProcess;
  webhookUrl: string;
  brokerUrl: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function runHub(): Promise<RunningHub> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'hub', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--broker-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await until(() => /Broker on mqtt:\/\/\S+/.test(out) || child.exitCode !== null, 'hub start', 20_000);
  const webhookUrl = /Listening on (\S+)/.exec(out)?.[1];
  const brokerUrl = /Broker on (mqtt:\/\/\S+)/.exec(out)?.[1];
  if (!webhookUrl || !brokerUrl) throw new Error(`hub did not start:\n${out}`);
  return { child, webhookUrl, brokerUrl, output: () => out, exited };
}

async function syncAll(brokerUrl: string, password: string, ext: string): Promise<SyncResponse['records']> {
  const c = await mqtt.connectAsync(brokerUrl, { username: 'anna', password, clientId: agentClientId('anna', 'synccheck'), reconnectPeriod: 0 });
  clients.push(c);
  const got = collect(c);
  await c.subscribeAsync(topics.syncResponse('default', ext, agentClientId('anna', 'synccheck')), { qos: 1 });
  await c.publishAsync(topics.syncRequest('default', ext), JSON.stringify({ v: 1, since: 0, clientId: agentClientId('anna', 'synccheck'), requestId: 'all' }), { qos: 1 });
  await until(() => got.some((m) => (m.json as SyncResponse).done), 'sync answer');
  await c.endAsync();
  return got.flatMap((m) => syncResponseSchema.parse(m.json).records);
}

describe('hub restart', () => {
  it('loses nothing acknowledged when killed with SIGKILL, and seqs stay above every seq a client saw before', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'callpop-hub-restart-'));
    const { password } = await addAgent(dataDir, { name: 'anna', extensions: ['202'] });
    const first = await runHub();
    const live = await mqtt.connectAsync(first.brokerUrl, { username: 'anna', password, clientId: agentClientId('anna', 'live'), reconnectPeriod: 0 });
    clients.push(live);
    const liveGot = collect(live);
    await live.subscribeAsync(topics.calls('default', '202'), { qos: 1 });

    const flow = findSeedFlow('incoming-answered')!;
    const stamps = ['261201140001', '261201140002', '261201140003'];
    for (const stamp of stamps) for (const raw of flowRequests(flow, { freshIds: { stamp } })) expect((await sendWebhook(first.webhookUrl, raw)).status).toBe(200);
    // The last call only rings: acknowledged, then the hub dies at once.
    const ringing = flowRequests(flow, { freshIds: { stamp: '261201140004' } }).slice(0, 3);
    for (const raw of ringing) expect((await sendWebhook(first.webhookUrl, raw)).status).toBe(200);
    await until(() => liveGot.some((m) => m.text.includes('261201140004_10')), 'the ringing call published');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    const seenBefore = Math.max(...liveGot.map((m) => callChangeMessageSchema.parse(m.json).seq));

    const second = await runHub();
    const records = await syncAll(second.brokerUrl, password, '202');
    expect(records.map((r) => r.record.id).sort()).toEqual([...stamps, '261201140004'].map((s) => `${s}_10`));
    for (const r of records.filter((x) => x.record.id !== '261201140004_10')) expect(r.record).toMatchObject({ status: 'ended', result: 'answered', durationSec: 6, recordings: [expect.any(String)] });
    expect(records.find((r) => r.record.id === '261201140004_10')!.record.status).toBe('ringing');

    // The call goes on after the restart: its answer gets a seq above everything seen before the kill.
    const again = await mqtt.connectAsync(second.brokerUrl, { username: 'anna', password, clientId: agentClientId('anna', 'live'), reconnectPeriod: 0 });
    clients.push(again);
    const got = collect(again);
    await again.subscribeAsync(topics.calls('default', '202'), { qos: 1 });
    for (const raw of flowRequests(flow, { freshIds: { stamp: '261201140004' } }).slice(3)) expect((await sendWebhook(second.webhookUrl, raw)).status).toBe(200);
    await until(() => got.some((m) => callChangeMessageSchema.parse(m.json).record.status === 'ended'), 'the end after restart');
    const after = got.map((m) => callChangeMessageSchema.parse(m.json));
    expect(after[0]!.record.id).toBe('261201140004_10');
    expect(Math.min(...after.map((m) => m.seq))).toBeGreaterThan(seenBefore);

    // A clean stop (SIGTERM) exits 0.
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).toMatch(/stopped/);
  }, 60_000);
});
