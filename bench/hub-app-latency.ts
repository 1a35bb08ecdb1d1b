// The popup latency as the desktop app sees it on a Callpop hub: webhook POST to the hub → the ringing
// push:callUpdate out of the app's own core (createCoreBackend with settings.source "hub": HubClient, call
// log, contact lookup, the CallView the popup gets), under 1,000 webhooks/s of other extensions' noise with
// 1,000 agent clients connected. The hub, the 1,000 clients and the noise run in their own processes
// (bench/hub.ts's children), the core in this one, as in the app's utility process.
//
// For comparison, the same probe through a bare HubClient (what bench/hub.ts measures), in the same
// conditions right after: the difference is what the app's core adds.
//
//   node --import tsx bench/hub-app-latency.ts        prints hub-app-popup-latency-p50 / -p99 (and the bare client's)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PushMap } from '../shared/ipc/contract';
import { defaultSettings } from '../shared/settings';
import { createCoreBackend } from '../main/core/desktop/create-core-backend';
import { HubClient } from '../main/core/hub-client/hub-client';
import { sendWebhook } from '../main/core/listener/test-call';
import { benchPassword as password, quantile, waitUntil, writeBenchAgents } from './support/bench-agents';
import { startJsonChild, type JsonChild } from './support/json-child';

const hubBench = join(dirname(fileURLToPath(import.meta.url)), 'hub.ts');
const agentCount = Number(process.env.BENCH_HUB_AGENTS ?? 1000);
const samples = Number(process.env.BENCH_HUB_LATENCY_SAMPLES ?? 300);
const noiseWebhooksPerSec = 1000;
const deskExt = '5002';
const bareExt = '5003';

/** One of bench/hub.ts's child processes (hub, clients, load), speaking JSON lines. */
function child(args: string[], capMs = 300_000): JsonChild {
  return startJsonChild(hubBench, args, { capMs, env: { ...process.env, BENCH_HUB_AGENTS: String(agentCount) } });
}

const post = (body: Record<string, string>) => ({ method: 'POST' as const, query: '', body: JSON.stringify(body), contentType: 'application/json' });

/** POST → ringing update, `samples` times, about 17 a second; sorted milliseconds. */
async function measure(webhookUrl: string, ext: string, waiting: Map<string, (t: number) => void>): Promise<number[]> {
  const tag = String(Date.now()).slice(-9);
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = `${tag}_${i}`;
    const caller = `0777${String(i).padStart(7, '0')}`;
    let timer: NodeJS.Timeout | undefined;
    const arrival = new Promise<number>((ok, fail) => {
      waiting.set(id, ok);
      timer = setTimeout(() => fail(new Error(`ring ${id} did not reach the app's core within 5 s`)), 5000);
    });
    const t0 = performance.now();
    const res = await sendWebhook(webhookUrl, post({ Event: 'ringing', Callerid: caller, User: ext, Usertype: 'ext', Did: '', Id: `${id}-0` }));
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
    const t1 = await arrival;
    clearTimeout(timer);
    waiting.delete(id);
    latencies.push(t1 - t0);
    await sendWebhook(webhookUrl, post({ Event: 'incoming', Callerid: caller, User: ext, Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${id}-0` }));
    await new Promise((r) => setTimeout(r, 40 + Math.random() * 40));
  }
  return latencies.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const hubDir = await mkdtemp(join(tmpdir(), 'callpop-bench-hubapp-'));
  const pcDir = await mkdtemp(join(tmpdir(), 'callpop-bench-hubapp-pc-'));
  let hub: JsonChild | null = null;
  let clients: JsonChild | null = null;
  let noise: JsonChild | null = null;
  let backend: Awaited<ReturnType<typeof createCoreBackend>> | null = null;
  let bare: HubClient | null = null;
  const bareDir = await mkdtemp(join(tmpdir(), 'callpop-bench-hubapp-bare-'));
  try {
    await writeBenchAgents(hubDir, [{ name: 'desk', extension: deskExt, displayName: 'Desk' }, { name: 'bare', extension: bareExt }], agentCount);
    hub = child(['hub', hubDir], 550_000);
    const { webhookUrl, brokerUrl } = (await hub.next()) as { webhookUrl: string; brokerUrl: string };
    clients = child(['clients', brokerUrl, String(agentCount), password], 550_000);
    const ready = await clients.next();
    if (ready.ready !== agentCount) throw new Error(`only ${String(ready.ready)} clients connected`);

    const waiting = new Map<string, (t: number) => void>();
    backend = await createCoreBackend({
      dataDir: pcDir,
      defaultDownloadDir: pcDir,
      settings: { ...defaultSettings(), extension: deskExt, source: 'hub', hubUrl: brokerUrl, hubAgent: 'desk', webhookSecret: 'benchhubappsecret_012345678' },
      hubPassword: password,
      push: (channel, payload) => {
        if (channel !== 'push:callUpdate') return;
        const u = payload as PushMap['push:callUpdate'];
        if (u.change === 'ringing') waiting.get(u.record.id)?.(performance.now());
      },
    });
    const core = backend;
    await waitUntil(() => {
      const s = core.status();
      return s.state === 'hub-connected' && s.synced;
    }, "the app's core did not connect");

    // Other extensions' calls at 1,000 webhooks/s (500 calls/s, ringing + end) for the whole run.
    noise = child(['load', webhookUrl, String(Math.ceil(2 * samples * 0.1 * (noiseWebhooksPerSec / 2)) + 10_000), '16', String(noiseWebhooksPerSec / 2)]);
    await new Promise((r) => setTimeout(r, 1000));
    const app = await measure(webhookUrl, deskExt, waiting);
    console.log(`hub-app-popup-latency-p50: ${quantile(app, 0.5).toFixed(1)} ms`);
    console.log(`hub-app-popup-latency-p99: ${quantile(app, 0.99).toFixed(1)} ms`);

    bare = await HubClient.start({ dataDir: bareDir, url: brokerUrl, user: 'bare', password, extension: bareExt });
    bare.onUpdates((updates) => {
      const t = performance.now();
      for (const u of updates) if (u.change === 'ringing') waiting.get(u.record.id)?.(t);
    });
    const plainClient = bare;
    await waitUntil(() => {
      const s = plainClient.currentStatus();
      return s.state === 'connected' && s.synced;
    }, 'the bare client did not connect');
    const plain = await measure(webhookUrl, bareExt, waiting);
    console.log(`hub-client-popup-latency-p50: ${quantile(plain, 0.5).toFixed(1)} ms`);
    console.log(`hub-client-popup-latency-p99: ${quantile(plain, 0.99).toFixed(1)} ms`);
  } finally {
    noise?.p.kill('SIGTERM');
    await noise?.stop();
    await backend?.close();
    await bare?.close();
    await clients?.stop();
    await hub?.stop();
    await rm(hubDir, { recursive: true, force: true });
    await rm(pcDir, { recursive: true, force: true });
    await rm(bareDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench/hub-app-latency: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
});
