// The hub end to end on loopback: webhooks per second with 1,000 agent clients connected, the popup
// latency (webhook POST → the ringing record in that agent's HubClient) under 1,000 webhooks/s of
// other extensions' noise, the hub's RSS after a million calls that never end, and how long a client
// takes to catch up on 10,000 records. Each part runs in its own process (hub, clients, load), so the
// figures are not one event loop's queueing.
//
//   node --import tsx bench/hub.ts                      all figures
//   node --import tsx bench/hub.ts rss-figures          only the memory figures (~3 min)
//   node --import tsx bench/hub.ts throughput           only hub-webhooks-per-sec (old vs new back to back)
//   (internal) bench/hub.ts hub DIR                      the hub child (embedded broker)
//   (internal) bench/hub.ts clients URL N PASSWORD       N simulated agent clients
//   (internal) bench/hub.ts load URL N C RATE [EXT]      N calls (ringing + missed end) at RATE calls/s (0 = flat out)
//   (internal) bench/hub.ts rss N                        the 1M-calls memory child (run bundled, see rssChild)
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connectAsync, type MqttClient } from 'mqtt';
import { agentClientId, topics } from '../shared/hub-protocol';
import { addAgent, agentsFilePath } from '../main/core/hub/accounts/agents';
import { startHub } from '../main/core/hub/hub';
import { HubClient, type HubCallUpdate } from '../main/core/hub-client/hub-client';
import { sendWebhook } from '../main/core/listener/test-call';
import { startJsonChild, type JsonChild } from './support/json-child';
import { bundleForNode } from './support/node-bundle';
import { postJson } from './support/post-json';

const self = fileURLToPath(import.meta.url);
const agentCount = Number(process.env.BENCH_HUB_AGENTS ?? 1000);
const throughputCalls = Number(process.env.BENCH_HUB_CALLS_PER_SEC_RUN ?? 10_000);
const noiseWebhooksPerSec = 1000;
/**
 * Webhooks in flight at once for the throughput run. Every hub webhook changes some extension's record,
 * so each waits for an fsync of the hub log (group commit: all in flight share one); the rate is then
 * about concurrency / fsync time. (The serve bench's webhooks are other extensions' and need no write.)
 */
const throughputConcurrency = Number(process.env.BENCH_HUB_CONCURRENCY ?? 64);
const latencySamples = Number(process.env.BENCH_HUB_LATENCY_SAMPLES ?? 300);
const rssCalls = Number(process.env.BENCH_HUB_RSS_CALLS ?? 1_000_000);
const backfillRecords = Number(process.env.BENCH_HUB_BACKFILL ?? 10_000);
const password = 'bench-password-0123456789';
const extOf = (i: number): string => String(1000 + (i % agentCount));
/** Load over twice as many extensions as there are agents: half of it concerns nobody connected. */
const loadExtOf = (i: number): string => String(1000 + (i % (2 * agentCount)));
const probeExt = '5000';
const backfillExt = '5001';

const ringing = (ext: string, id: string, caller: string): string => JSON.stringify({ Event: 'ringing', Callerid: caller, User: ext, Usertype: 'ext', Did: '', Id: id });
const missedEnd = (ext: string, id: string, caller: string): string =>
  JSON.stringify({ Event: 'incoming', Callerid: caller, User: ext, Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: id });
const runTag = (): string => String(Date.now()).slice(-12);

// ---- child: the hub ----
async function hubChild(dir: string): Promise<void> {
  // Every simulated agent connects from 127.0.0.1: room for all of them on one source (the default is 64, 256 once one logged in).
  const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0, connectionLimits: { perSource: 4000 } }, agentsPollMs: 60_000 });
  process.stdout.write(`${JSON.stringify({ webhookUrl: hub.webhookUrl, brokerUrl: hub.brokerUrl })}\n`);
  // Runs until the parent closes stdin.
  process.stdin.resume();
  await new Promise((r) => process.stdin.once('end', r));
  await hub.close();
}

// ---- child: simulated agent clients (what a HubClient subscribes to, without a call log each) ----
async function clientsChild(url: string, n: number, pass: string): Promise<void> {
  const clients: MqttClient[] = [];
  let received = 0;
  const connectOne = async (i: number): Promise<void> => {
    const ext = extOf(i);
    const clientId = agentClientId(`agent${i}`, 'bench');
    const c = await connectAsync(url, { protocolVersion: 4, clientId, username: `agent${i}`, password: pass, clean: true, reconnectPeriod: 0, keepalive: 60 });
    c.on('message', () => received++);
    await c.subscribeAsync([topics.calls('default', ext), topics.open('default', ext), topics.syncResponse('default', ext, clientId), topics.hubStatus('default'), topics.directory('default')], { qos: 1 });
    clients.push(c);
  };
  // A few at a time: the hub checks each password with scrypt.
  const connectAll = async (): Promise<void> => {
    for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, k) => connectOne(i + k)));
  };
  await connectAll();
  process.stdout.write(`${JSON.stringify({ ready: clients.length })}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'count') process.stdout.write(`${JSON.stringify({ received, connected: clients.filter((c) => c.connected).length })}\n`);
    if (line === 'reconnect') {
      // Every agent drops and comes back (a network blip, the office's morning): passwords already checked.
      await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
      const t0 = performance.now();
      await connectAll();
      process.stdout.write(`${JSON.stringify({ reconnected: clients.length, ms: performance.now() - t0 })}\n`);
    }
  }
  await Promise.all(clients.map((c) => c.endAsync(true)));
}

// ---- child: load generator (each call = ringing then missed end) ----
async function loadChild(url: string, calls: number, parallel: number, ratePerSec: number, fixedExt?: string): Promise<void> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: parallel });
  const target = new URL(url);
  const tag = runTag();
  const post = (body: string): Promise<number> => postJson(target, body, agent);
  let next = 0;
  let ok = 0;
  const t0 = performance.now();
  const deadline = Date.now() + 120_000;
  const worker = async (): Promise<void> => {
    while (next < calls && Date.now() < deadline) {
      const i = next++;
      if (ratePerSec > 0) {
        // Paced: call i is due at i / rate seconds.
        const due = t0 + (i * 1000) / ratePerSec;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const ext = fixedExt ?? loadExtOf(i);
      const id = `${tag}_${i}-0`;
      const caller = `0555${String(i).padStart(7, '0')}`;
      if ((await post(ringing(ext, id, caller))) === 200) ok++;
      if ((await post(missedEnd(ext, id, caller))) === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ ok, ms: performance.now() - t0 })}\n`);
}

// ---- child: RSS after a million never-ending calls (fed to the hub's ingest directly) ----
// Runs bundled under plain Node, as `callpop hub` ships (out/cli/callpop.mjs), not under tsx (whose
// loader and transformed sources cost ~40 MB). The figure is the RSS the hub keeps once the load is
// over: after RSS_SETTLE_MS idle. Right after a burst, RSS still counts heap V8 no longer uses and
// gives back to the OS when its memory reducer runs, some 10-25 s into the quiet (one run: 369 MB
// at the end of the load, 340 MB for the next 24 s, then 268 MB from 26 s on, with the same live
// heap). The peak during the load is reported beside it.
const RSS_SETTLE_MS = 30_000;
async function rssChild(n: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-hub-rss-'));
  const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, agentsPollMs: 60_000, tickMs: 3_600_000 });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 250);
  try {
    const tag = runTag();
    // As many webhooks in flight as the listener lets in (it holds at most 512 connections, one request
    // each): more would measure a load the hub can never see, not what it keeps.
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let j = next++; j < n; j = next++) {
        const o = await hub.ingest({ method: 'POST', query: '', body: ringing(extOf(j), `${tag}_${j}-0`, `0666${String(j).padStart(7, '0')}`), contentType: 'application/json' });
        if (o.status !== 'ok') throw new Error(`ingest refused a webhook: ${JSON.stringify(o)}`);
      }
    };
    await Promise.all(Array.from({ length: 512 }, worker));
    peak = Math.max(peak, process.memoryUsage.rss());
    clearInterval(sampler);
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    gc();
    await new Promise((r) => setTimeout(r, RSS_SETTLE_MS));
    const mu = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ rssMb: mu.rss / 1024 ** 2, peakMb: peak / 1024 ** 2, heapMb: mu.heapUsed / 1024 ** 2, externalMb: mu.external / 1024 ** 2 })}\n`);
  } finally {
    clearInterval(sampler);
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- parent ----
function startChild(args: string[], capMs = 300_000): JsonChild {
  return startJsonChild(self, args, { capMs });
}

/** agents.json with `agentCount` agents (agentI → extension 1000+I) and the probes, one scrypt hash for all. */
async function writeAgents(dir: string): Promise<void> {
  await addAgent(dir, { name: 'probe', extensions: [probeExt], password });
  await addAgent(dir, { name: 'backfill', extensions: [backfillExt], password });
  const file = JSON.parse(await readFile(agentsFilePath(dir), 'utf8')) as { agents: Record<string, unknown>[] };
  const template = file.agents[0]!;
  for (let i = 0; i < agentCount; i++) file.agents.push({ ...template, name: `agent${i}`, extensions: [extOf(i)], displayName: `Agent ${i}` });
  await writeFile(agentsFilePath(dir), JSON.stringify(file));
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function popupLatency(webhookUrl: string, brokerUrl: string): Promise<number[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callpop-bench-hub-probe-'));
  const client = await HubClient.start({ dataDir, url: brokerUrl, user: 'probe', password, extension: probeExt, ...(process.env.BENCH_HUB_DEBUG && { logger: { debug: (m: string) => console.error(m), info: (m: string) => console.error(m), warn: (m: string) => console.error(m), error: (m: string) => console.error(m) } }) });
  if (process.env.BENCH_HUB_DEBUG) client.onStatus((st) => console.error(JSON.stringify(st)));
  const waiting = new Map<string, (t: number) => void>();
  client.onUpdates((updates: HubCallUpdate[]) => {
    const t = performance.now();
    for (const u of updates) if (u.change === 'ringing') waiting.get(u.record.id)?.(t);
  });
  try {
    const deadline = Date.now() + 60_000;
    while (!(client.currentStatus().state === 'connected' && (client.currentStatus() as { synced: boolean }).synced)) {
      if (Date.now() > deadline) throw new Error('the probe client did not connect');
      await new Promise((r) => setTimeout(r, 20));
    }
    // Noise: other extensions' calls at 1,000 webhooks/s (500 calls/s, two webhooks each) for the whole run.
    const noiseCalls = Math.ceil(latencySamples * 0.1 * (noiseWebhooksPerSec / 2)) + 5000;
    const noise = startChild(['load', webhookUrl, String(noiseCalls), '16', String(noiseWebhooksPerSec / 2)]);
    await new Promise((r) => setTimeout(r, 1000));
    const latencies: number[] = [];
    const tag = runTag();
    for (let i = 0; i < latencySamples; i++) {
      // The record id is the call id without the leg ("-0").
      const id = `${tag}_${i}`;
      let timer: NodeJS.Timeout | undefined;
      const arrival = new Promise<number>((resolve, reject) => {
        waiting.set(id, resolve);
        timer = setTimeout(() => reject(new Error(`probe ${id} did not arrive within 5 s`)), 5000);
      });
      const t0 = performance.now();
      const res = await sendWebhook(webhookUrl, { method: 'POST', query: '', body: ringing(probeExt, `${id}-0`, `0777${String(i).padStart(7, '0')}`), contentType: 'application/json' });
      if (res.status !== 200) throw new Error(`probe webhook answered ${res.status}`);
      const t1 = await arrival;
      clearTimeout(timer);
      waiting.delete(id);
      latencies.push(t1 - t0);
      await sendWebhook(webhookUrl, { method: 'POST', query: '', body: missedEnd(probeExt, `${id}-0`, `0777${String(i).padStart(7, '0')}`), contentType: 'application/json' });
      // About 17 probes a second, spread over the noise.
      await new Promise((r) => setTimeout(r, 40 + Math.random() * 40));
    }
    noise.p.kill('SIGTERM');
    await noise.stop();
    return latencies.sort((a, b) => a - b);
  } finally {
    await client.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function backfillSeconds(webhookUrl: string, brokerUrl: string): Promise<number> {
  const load = startChild(['load', webhookUrl, String(backfillRecords), '16', '0', backfillExt]);
  const r = await load.next();
  await load.stop();
  if ((r.ok as number) < backfillRecords * 2) throw new Error(`only ${String(r.ok)} of ${backfillRecords * 2} backfill webhooks were acknowledged`);
  const dataDir = await mkdtemp(join(tmpdir(), 'callpop-bench-hub-backfill-'));
  try {
    const t0 = performance.now();
    const client = await HubClient.start({ dataDir, url: brokerUrl, user: 'backfill', password, extension: backfillExt });
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const s = client.currentStatus();
        if (s.state === 'connected' && s.synced) break;
        if (Date.now() > deadline) throw new Error(`backfill not done within 60 s (${client.store.size} records)`);
        await new Promise((r) => setTimeout(r, 5));
      }
      await client.flush();
      const seconds = (performance.now() - t0) / 1000;
      if (client.store.size !== backfillRecords) throw new Error(`the backfill brought ${client.store.size} records, not ${backfillRecords}`);
      return seconds;
    } finally {
      await client.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(onlyThroughput = false): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-hub-'));
  let hub: JsonChild | null = null;
  let clients: JsonChild | null = null;
  try {
    await writeAgents(dir);
    hub = startChild(['hub', dir], 550_000);
    const { webhookUrl, brokerUrl } = (await hub.next()) as { webhookUrl: string; brokerUrl: string };
    clients = startChild(['clients', brokerUrl, String(agentCount), password], 550_000);
    const ready = await clients.next();
    if (ready.ready !== agentCount) throw new Error(`only ${String(ready.ready)} clients connected`);

    // Throughput with every agent connected (each call fans out to its extension's client).
    const warm = startChild(['load', webhookUrl, '1000', '16', '0']);
    await warm.next();
    await warm.stop();
    const load = startChild(['load', webhookUrl, String(throughputCalls), String(throughputConcurrency), '0']);
    const r = (await load.next()) as { ok: number; ms: number };
    await load.stop();
    if (r.ok < throughputCalls * 2 * 0.99) throw new Error(`only ${r.ok} of ${throughputCalls * 2} webhooks were acknowledged`);
    console.log(`hub-webhooks-per-sec: ${Math.round((r.ok / r.ms) * 1000)} webhooks/s`);
    if (onlyThroughput) return;

    const latencies = await popupLatency(webhookUrl, brokerUrl);
    console.log(`hub-popup-latency-p50: ${quantile(latencies, 0.5).toFixed(1)} ms`);
    console.log(`hub-popup-latency-p99: ${quantile(latencies, 0.99).toFixed(1)} ms`);

    clients.p.stdin?.write('count\n');
    const count = await clients.next();
    if (count.connected !== agentCount) throw new Error(`clients lost their connection: ${JSON.stringify(count)}`);

    console.log(`hub-backfill-10k-sec: ${(await backfillSeconds(webhookUrl, brokerUrl)).toFixed(2)} s`);

    // With the retained open lists of 2,000 extensions on the broker, as after a working day.
    clients.p.stdin?.write('reconnect\n');
    const again = await clients.next();
    if (again.reconnected !== agentCount) throw new Error(`only ${String(again.reconnected)} clients reconnected`);
    console.log(`hub-reconnect-1000-agents-sec: ${((again.ms as number) / 1000).toFixed(2)} s`);
  } finally {
    await clients?.stop();
    await hub?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  if (!onlyThroughput) await rssFigures();
}

/** hub-rss-after-1m-calls and hub-rss-peak-1m-calls (alone: `bench/hub.ts rss-figures`). */
async function rssFigures(): Promise<void> {
  const bundle = await bundleForNode(self);
  try {
    const mem = startJsonChild(bundle.file, ['rss', String(rssCalls)], { capMs: 550_000, bundled: true });
    const m = await mem.next();
    await mem.stop();
    console.log(`hub-rss-after-1m-calls: ${Math.round(m.rssMb as number)} MB`);
    console.log(`hub-rss-peak-1m-calls: ${Math.round(m.peakMb as number)} MB`);
  } finally {
    await bundle.dispose();
  }
}

const [mode, ...rest] = process.argv.slice(2);
const done =
  mode === 'hub'
    ? hubChild(rest[0]!)
    : mode === 'clients'
      ? clientsChild(rest[0]!, Number(rest[1]), rest[2]!)
      : mode === 'load'
        ? loadChild(rest[0]!, Number(rest[1]), Number(rest[2]), Number(rest[3]), rest[4])
        : mode === 'rss'
          ? rssChild(Number(rest[0]))
          : mode === 'rss-figures'
            ? rssFigures()
            : main(mode === 'throughput');
done.catch((e: unknown) => {
  console.error(`bench/hub: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
});
