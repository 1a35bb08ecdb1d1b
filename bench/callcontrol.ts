// The hub with 3CX Call Control as its source, on loopback against the fake Call Control server
// (test/support/fake-3cx-call-control.ts):
//   callcontrol-popup-latency-p99   a participant upserted Ringing on the fake → the ringing record in
//                                   that agent's HubClient, through the hub (WebSocket event, entity
//                                   GET, translation, tracker, broker), 1,000 agent clients connected
//                                   (target ≤ 25 ms), with its p50;
//   callcontrol-reconcile-1000-dns-sec  a fresh connect to a PBX with 1,000 monitored DNs, each with a
//                                   ringing call: token, GET /callcontrol, every call created in the
//                                   hub (target ≤ 1 s).
// The fake PBX and the probe client run in this process, the hub in a child, the 1,000 agents in
// another (bench/hub.ts's clients child), so the figures are not one event loop's queueing.
//
//   node --import tsx bench/callcontrol.ts
//   (internal) bench/callcontrol.ts hub DIR PBX_URL
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../shared/diagnostics-log';
import { addAgent, agentsFilePath } from '../main/core/hub/accounts/agents';
import { startHub } from '../main/core/hub/hub';
import { HubClient, type HubCallUpdate } from '../main/core/hub-client/hub-client';
import { attachCallControl } from '../main/core/call-control/hub-source';
import { participant } from '../test/support/call-control-scenarios';
import { startFakeCallControl } from '../test/support/fake-3cx-call-control';
import { startJsonChild, type JsonChild } from './support/json-child';

const self = fileURLToPath(import.meta.url);
const hubBench = join(self, '..', 'hub.ts');
const agentCount = Number(process.env.BENCH_CC_AGENTS ?? 1000);
const samples = Number(process.env.BENCH_CC_SAMPLES ?? 300);
const reconcileDns = 1000;
const password = 'bench-password-0123456789';
const CLIENT = 'callpop';
const SECRET = 'bench-secret-cc';
const probeExt = '5000';

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

// ---- child: the hub on Call Control ----
async function hubChild(dir: string, pbx: string): Promise<void> {
  const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, agentsPollMs: 60_000 });
  const cc = await attachCallControl(hub, { dataDir: dir, pbx: new URL(pbx), clientId: CLIENT, clientSecret: SECRET, logger: silentLogger });
  await cc.ready;
  process.stdout.write(`${JSON.stringify({ brokerUrl: hub.brokerUrl })}\n`);
  process.stdin.resume();
  await new Promise((r) => process.stdin.once('end', r));
  await cc.close();
  await hub.close();
}

/** agents.json as bench/hub.ts's clients child expects (agentI → extension 1000+I), plus the probe; one scrypt hash for all. */
async function writeAgents(dir: string): Promise<void> {
  await addAgent(dir, { name: 'probe', extensions: [probeExt], password });
  const file = JSON.parse(await readFile(agentsFilePath(dir), 'utf8')) as { agents: Record<string, unknown>[] };
  const template = file.agents[0]!;
  for (let i = 0; i < agentCount; i++) file.agents.push({ ...template, name: `agent${i}`, extensions: [String(1000 + i)], displayName: `Agent ${i}` });
  await writeFile(agentsFilePath(dir), JSON.stringify(file));
}

async function popupLatency(): Promise<number[]> {
  const dns: Record<string, string> = { [probeExt]: 'Wextension' };
  for (let i = 0; i < agentCount; i++) dns[String(1000 + i)] = 'Wextension';
  const fake = await startFakeCallControl({ clients: { [CLIENT]: SECRET }, dns });
  const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-cc-'));
  const probeDir = await mkdtemp(join(tmpdir(), 'callpop-bench-cc-probe-'));
  let hub: JsonChild | null = null;
  let clients: JsonChild | null = null;
  let probe: HubClient | null = null;
  try {
    await writeAgents(dir);
    hub = startJsonChild(self, ['hub', dir, fake.url], { capMs: 550_000 });
    const { brokerUrl } = (await hub.next()) as { brokerUrl: string };
    clients = startJsonChild(hubBench, ['clients', brokerUrl, String(agentCount), password], { capMs: 550_000 });
    const ready = await clients.next();
    if (ready.ready !== agentCount) throw new Error(`only ${String(ready.ready)} clients connected`);
    probe = await HubClient.start({ dataDir: probeDir, url: brokerUrl, user: 'probe', password, extension: probeExt });
    const waiting = new Map<string, (t: number) => void>();
    probe.onUpdates((updates: HubCallUpdate[]) => {
      const t = performance.now();
      for (const u of updates) if (u.change === 'ringing') waiting.get(u.record.id)?.(t);
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = probe.currentStatus();
      if (s.state === 'connected' && s.synced) break;
      if (Date.now() > deadline) throw new Error('the probe client did not connect');
      await new Promise((r) => setTimeout(r, 20));
    }
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const callid = 700_000 + i;
      let timer: NodeJS.Timeout | undefined;
      const arrival = new Promise<number>((resolve, reject) => {
        waiting.set(`cc${callid}`, resolve);
        timer = setTimeout(() => reject(new Error(`probe call ${callid} did not arrive within 5 s`)), 5000);
      });
      const p = participant({ id: callid, dn: probeExt, status: 'Ringing', callid, callerId: `0777${String(i).padStart(7, '0')}` });
      const t0 = performance.now();
      fake.upsert(p);
      latencies.push((await arrival) - t0);
      clearTimeout(timer);
      waiting.delete(`cc${callid}`);
      fake.remove(probeExt, callid);
      await new Promise((r) => setTimeout(r, 30 + Math.random() * 30));
    }
    clients.p.stdin?.write('count\n');
    const count = await clients.next();
    if (count.connected !== agentCount) throw new Error(`clients lost their connection: ${JSON.stringify(count)}`);
    return latencies.sort((a, b) => a - b);
  } finally {
    await probe?.close();
    await clients?.stop();
    await hub?.stop();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
    await rm(probeDir, { recursive: true, force: true });
  }
}

async function reconcileSeconds(): Promise<number> {
  const dns: Record<string, string> = {};
  for (let i = 0; i < reconcileDns; i++) dns[String(2000 + i)] = 'Wextension';
  const fake = await startFakeCallControl({ clients: { [CLIENT]: SECRET }, dns });
  for (let i = 0; i < reconcileDns; i++) fake.upsert(participant({ id: 10_000 + i, dn: String(2000 + i), status: 'Ringing', callid: 20_000 + i, callerId: `0555${String(i).padStart(6, '0')}` }));
  const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-cc-rec-'));
  const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, tickMs: 60_000 });
  try {
    let created = 0;
    let done: () => void = () => {};
    const all = new Promise<void>((r) => (done = r));
    hub.onChange((changes) => {
      for (const c of changes) if (c.update.change === 'ringing' && ++created === reconcileDns) done();
    });
    const t0 = performance.now();
    const cc = await attachCallControl(hub, { dataDir: dir, pbx: new URL(fake.url), clientId: CLIENT, clientSecret: SECRET, logger: silentLogger });
    await all;
    const ms = performance.now() - t0;
    await hub.flush();
    await cc.close();
    return ms / 1000;
  } finally {
    await hub.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  // Warm-up once (module loading, JIT), then the measured run.
  await reconcileSeconds();
  console.log(`callcontrol-reconcile-1000-dns-sec: ${(await reconcileSeconds()).toFixed(3)} s`);
  const latencies = await popupLatency();
  console.log(`callcontrol-popup-latency-p50: ${quantile(latencies, 0.5).toFixed(1)} ms`);
  console.log(`callcontrol-popup-latency-p99: ${quantile(latencies, 0.99).toFixed(1)} ms`);
}

const [mode, ...rest] = process.argv.slice(2);
(mode === 'hub' ? hubChild(rest[0]!, rest[1]!) : main()).catch((e: unknown) => {
  console.error(`bench/callcontrol: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
});
