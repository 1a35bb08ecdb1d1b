// Webhook throughput of the real service vs a bare node:http server (same load generator, same run),
// and the memory left after a million calls of other extensions that never end.
//
//   node --import tsx bench/webhooks.ts            all figures
//   (internal) bench/webhooks.ts load URL N C       the load generator child
//   (internal) bench/webhooks.ts rss N              the 1M-calls memory child
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultSettings } from '../shared/settings';
import { WebhookReceiver } from '../main/core/receiver/webhook-receiver';
import { postJson } from './support/post-json';

const self = fileURLToPath(import.meta.url);
const secret = 'benchsecret_0123456789abcdef';
const ownExtension = '100';
const loadCount = Number(process.env.BENCH_WEBHOOKS ?? 30_000);
const concurrency = 16;
const rssCalls = Number(process.env.BENCH_FOREIGN_CALLS ?? 1_000_000);

/** A ringing event of another extension with a fresh call id. */
function foreignRinging(i: number, runTag: string): string {
  const ext = String(200 + (i % 700));
  return JSON.stringify({ Event: 'ringing', Callerid: `0555${String(i).padStart(7, '0')}`, User: ext, Usertype: 'ext', Did: '', Id: `${runTag}_${i}-0` });
}

// ---- child: load generator ----
async function load(url: string, count: number, parallel: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const target = new URL(url);
  const runTag = String(Date.now()).slice(-12);
  const post = (i: number): Promise<number> => postJson(target, foreignRinging(i, runTag), agent);
  const deadline = Date.now() + 60_000;
  const run = async (from: number, n: number): Promise<{ ok: number; ms: number }> => {
    let next = from;
    let ok = 0;
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (next < from + n && Date.now() < deadline) {
        const status = await post(next++);
        if (status === 200) ok++;
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return { ok, ms: performance.now() - t0 };
  };
  await run(0, Math.min(2000, count)); // warm-up (JIT, connections)
  const r = await run(10_000_000, count);
  agent.destroy();
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

// ---- child: memory after never-ending foreign calls ----
async function rss(n: number): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callpop-bench-rss-'));
  const service = await WebhookReceiver.start({
    dataDir,
    settings: { ...defaultSettings(), extension: ownExtension, webhookSecret: secret },
    listen: false,
  });
  try {
    const runTag = String(Date.now()).slice(-12);
    for (let i = 0; i < n; i += 10_000) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(n, i + 10_000); j++) batch.push(service.ingest({ method: 'POST', query: '', body: foreignRinging(j, runTag), contentType: 'application/json' }));
      const outcomes = await Promise.all(batch);
      if (i === 0 && outcomes.some((o) => (o as { status: string }).status !== 'ok')) throw new Error(`ingest refused a webhook: ${JSON.stringify(outcomes[0])}`);
    }
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    gc();
    process.stdout.write(`${JSON.stringify({ rssMb: process.memoryUsage().rss / 1024 ** 2 })}\n`);
  } finally {
    await service.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

// ---- parent ----
function child(args: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', self, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 180_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as Record<string, number>);
      else reject(new Error(`bench child ${args[0]} exited ${code}: ${out.slice(-300)}`));
    });
  });
}

async function measure(url: string): Promise<number> {
  const r = await child(['load', url, String(loadCount), String(concurrency)]);
  if (r.ok! < loadCount * 0.99) throw new Error(`only ${r.ok} of ${loadCount} webhooks were acknowledged`);
  return (r.ok! / r.ms!) * 1000;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callpop-bench-'));
  const service = await WebhookReceiver.start({
    dataDir,
    settings: { ...defaultSettings(), extension: ownExtension, listenHost: '127.0.0.1', listenPort: 0, webhookSecret: secret },
  });
  // The bare baseline: read the body, answer 200. No parsing, no tracking, no secret check.
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 3 });
      res.end('OK\n');
    });
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
  let callpopRate = 0;
  let bareRate = 0;
  try {
    // Alternate the two servers and keep each one's best round, so a burst of other work on the
    // machine during one round does not decide the ratio.
    for (let round = 0; round < 2; round++) {
      callpopRate = Math.max(callpopRate, await measure(`http://127.0.0.1:${service.port}/webhook/${secret}`));
      bareRate = Math.max(bareRate, await measure(`http://127.0.0.1:${(bare.address() as { port: number }).port}/webhook/${secret}`));
    }
  } finally {
    bare.closeAllConnections();
    await new Promise((r) => bare.close(r));
    await service.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  console.log(`callpop-serve-webhooks-per-sec: ${Math.round(callpopRate)} webhooks/s`);
  console.log(`bare-node-http-webhooks-per-sec: ${Math.round(bareRate)} webhooks/s`);
  console.log(`callpop-vs-bare-ratio: ${(callpopRate / bareRate).toFixed(2)} ratio`);
  const mem = await child(['rss', String(rssCalls)]);
  console.log(`rss-after-1m-foreign-calls: ${Math.round(mem.rssMb!)} MB`);
}

const [mode, ...rest] = process.argv.slice(2);
const done = mode === 'load' ? load(rest[0]!, Number(rest[1]), Number(rest[2])) : mode === 'rss' ? rss(Number(rest[0])) : main();
done.catch((e: unknown) => {
  console.error(`bench/webhooks: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
});
