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
// Where the time goes, per sample (clocks of both processes on one epoch: performance.timeOrigin +
// now()), as -segment lines: pbx-to-hub (the WebSocket event reaching the hub's client), entity-get (its
// GET answered), hub (translation, tracker, the publish call), hub-to-agent (broker → the probe's
// HubClient). A tail spread over all four on a loaded machine is the scheduler, not one of them.
//
//   node --import tsx bench/callcontrol.ts
//   BENCH_HB_MS=600000 …   the hub's status heartbeat every 10 min instead of 5 s (its fan-out to the
//                          1,000 agents is one of the stalls a pop can meet in the pbx-to-hub segment)
//   (internal) bench/callcontrol.ts hub DIR PBX_URL
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../shared/diagnostics-log';
import { startHub } from '../main/core/hub/hub';
import { HubClient, type HubCallUpdate } from '../main/core/hub-client/hub-client';
import { attachCallControl } from '../main/core/call-control/hub-source';
import { participant } from '../test/support/call-control-scenarios';
import { startFakeCallControl } from '../test/support/fake-3cx-call-control';
import { benchBroker, benchPassword as password, quantile, waitUntil, writeBenchAgents } from './support/bench-agents';
import { startJsonChild, type JsonChild } from './support/json-child';

const self = fileURLToPath(import.meta.url);
const hubBench = join(self, '..', 'hub.ts');
const agentCount = Number(process.env.BENCH_CC_AGENTS ?? 1000);
const samples = Number(process.env.BENCH_CC_SAMPLES ?? 300);
const reconcileDns = 1000;
const CLIENT = 'callpop';
const SECRET = 'bench-secret-cc';
const probeExt = '5000';

/** Epoch milliseconds with sub-millisecond precision, comparable across this machine's processes. */
const epochMs = (): number => performance.timeOrigin + performance.now();

/** The probe's calls as the hub child saw them: callid → [WebSocket event, entity GET answered, change published]. */
type HubTimes = Record<string, [number, number, number]>;

// ---- child: the hub on Call Control ----
async function hubChild(dir: string, pbx: string): Promise<void> {
  const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: benchBroker, agentsPollMs: 60_000, ...(process.env.BENCH_HB_MS ? { heartbeatMs: Number(process.env.BENCH_HB_MS) } : {}) });
  const times: HubTimes = {};
  const probeEntity = new RegExp(`^/callcontrol/${probeExt}/participants/(\\d+)$`);
  const cc = await attachCallControl(hub, {
    dataDir: dir,
    pbx: new URL(pbx),
    clientId: CLIENT,
    clientSecret: SECRET,
    logger: silentLogger,
    // The client's traffic hook sees each WebSocket event and entity answer as it arrives.
    onTraffic: (kind, path, body) => {
      const id = kind === 'ws' ? probeEntity.exec((body as { event?: { entity?: string } }).event?.entity ?? '')?.[1] : probeEntity.exec(path)?.[1];
      if (!id) return;
      const t = (times[id] ??= [0, 0, 0]);
      if (kind === 'ws' && t[0] === 0) t[0] = epochMs();
      else if (kind === 'get' && t[1] === 0) t[1] = epochMs();
    },
  });
  hub.onChange((changes) => {
    for (const c of changes) if (c.change === 'ringing' && c.record.extension === probeExt) (times[c.record.id.slice(2)] ??= [0, 0, 0])[2] = epochMs();
  });
  await cc.ready;
  process.stdout.write(`${JSON.stringify({ brokerUrl: hub.brokerUrl })}\n`);
  // "times" on stdin: print what was seen; the end of stdin: stop.
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'times') process.stdout.write(`${JSON.stringify({ times })}\n`);
  });
  await new Promise((r) => lines.once('close', r));
  await cc.close();
  await hub.close();
}

interface Sample {
  total: number;
  /** upsert → WebSocket event at the hub, → entity answer, → change published, → the probe's update. */
  segments: [number, number, number, number];
}
const segmentNames = ['pbx-to-hub', 'entity-get', 'hub', 'hub-to-agent'] as const;

async function popupLatency(): Promise<Sample[]> {
  const dns: Record<string, string> = { [probeExt]: 'Wextension' };
  for (let i = 0; i < agentCount; i++) dns[String(1000 + i)] = 'Wextension';
  const fake = await startFakeCallControl({ clients: { [CLIENT]: SECRET }, dns });
  const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-cc-'));
  const probeDir = await mkdtemp(join(tmpdir(), 'callpop-bench-cc-probe-'));
  let hub: JsonChild | null = null;
  let clients: JsonChild | null = null;
  let probe: HubClient | null = null;
  try {
    await writeBenchAgents(dir, [{ name: 'probe', extension: probeExt }], agentCount);
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
    await waitUntil(() => {
      const s = probe!.currentStatus();
      return s.state === 'connected' && s.synced;
    }, 'the probe client did not connect');
    const sent: { callid: number; t0: number; t1: number }[] = [];
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
      const t1 = await arrival;
      sent.push({ callid, t0: performance.timeOrigin + t0, t1: performance.timeOrigin + t1 });
      clearTimeout(timer);
      waiting.delete(`cc${callid}`);
      fake.remove(probeExt, callid);
      await new Promise((r) => setTimeout(r, 30 + Math.random() * 30));
    }
    clients.p.stdin?.write('count\n');
    const count = await clients.next();
    if (count.connected !== agentCount) throw new Error(`clients lost their connection: ${JSON.stringify(count)}`);
    hub.p.stdin?.write('times\n');
    const { times } = (await hub.next()) as { times: HubTimes };
    return sent.map(({ callid, t0, t1 }) => {
      const [ws, get, pub] = times[String(callid)] ?? [t0, t0, t0];
      return { total: t1 - t0, segments: [ws - t0, get - ws, pub - get, t1 - pub] };
    });
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
      for (const c of changes) if (c.change === 'ringing' && ++created === reconcileDns) done();
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
  const samples = await popupLatency();
  const latencies = samples.map((s) => s.total).sort((a, b) => a - b);
  console.log(`callcontrol-popup-latency-p50: ${quantile(latencies, 0.5).toFixed(1)} ms`);
  console.log(`callcontrol-popup-latency-p99: ${quantile(latencies, 0.99).toFixed(1)} ms`);
  segmentNames.forEach((name, i) => {
    const v = samples.map((s) => s.segments[i]!).sort((a, b) => a - b);
    console.log(`callcontrol-popup-segment-${name}-p50: ${quantile(v, 0.5).toFixed(2)} ms`);
    console.log(`callcontrol-popup-segment-${name}-p99: ${quantile(v, 0.99).toFixed(2)} ms`);
  });
  // The slowest samples, segment by segment: where the tail came from.
  const worst = [...samples].sort((a, b) => b.total - a.total).slice(0, Math.max(1, Math.ceil(samples.length / 100)));
  for (const w of worst) console.log(`# slowest ${w.total.toFixed(1)} ms = ${segmentNames.map((n, i) => `${n} ${w.segments[i]!.toFixed(1)}`).join(' + ')}`);
}

const [mode, ...rest] = process.argv.slice(2);
(mode === 'hub' ? hubChild(rest[0]!, rest[1]!) : main()).catch((e: unknown) => {
  console.error(`bench/callcontrol: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
});
