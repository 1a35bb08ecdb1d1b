// Webhook throughput and CPU cost of the real service vs a bare node:http server (same load generator,
// same run), and the memory left after a million calls of other extensions that never end.
//
// Each server runs in its own process, so its CPU time (process.cpuUsage, user + system, read by the
// server itself just before and after the measured load) is its own: the load generator, the other
// server and this parent are not in it. `listener-cpu-vs-bare` is the bare server's CPU time per
// webhook over the listener's: 1.0 would be a listener that costs no more than reading the body and
// answering 200. Unlike the throughput ratio, it is not capped by the load generator (which shares
// the machine's cores with the server it loads).
//
//   node --import tsx bench/webhooks.ts            all figures
//   (internal) bench/webhooks.ts serve KIND        a server child (KIND callpop | bare | listener): prints its URL, then its CPU time per "cpu" line
//   (internal) bench/webhooks.ts load URL N C       the load generator child (warms up, waits for a line, then measures)
//   (internal) bench/webhooks.ts rss N              the 1M-calls memory child
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { defaultSettings } from '../shared/settings';
import { WebhookReceiver } from '../main/core/receiver/webhook-receiver';
import { startListener } from '../main/core/listener/listener';
import { startJsonChild, type JsonChild } from './support/json-child';
import { bundleForNode } from './support/node-bundle';
import { postJson } from './support/post-json';

const self = fileURLToPath(import.meta.url);
const secret = 'benchsecret_0123456789abcdef';
const ownExtension = '100';
const loadCount = Number(process.env.BENCH_WEBHOOKS ?? 30_000);
const concurrency = 16;
const rounds = Number(process.env.BENCH_WEBHOOKS_ROUNDS ?? 3);
const rssCalls = Number(process.env.BENCH_FOREIGN_CALLS ?? 1_000_000);

/** A ringing event of another extension with a fresh call id. */
function foreignRinging(i: number, runTag: string): string {
  const ext = String(200 + (i % 700));
  return JSON.stringify({ Event: 'ringing', Callerid: `0555${String(i).padStart(7, '0')}`, User: ext, Usertype: 'ext', Did: '', Id: `${runTag}_${i}-0` });
}

/** The first line on stdin (the parent's cue), or null when stdin closes first. */
async function nextLine(lines: AsyncIterator<string>): Promise<string | null> {
  const r = await lines.next();
  return r.done ? null : r.value;
}

// ---- child: load generator ----
async function load(url: string, count: number, parallel: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const target = new URL(url);
  const runTag = String(Date.now()).slice(-12);
  const post = (i: number): Promise<number> => postJson(target, foreignRinging(i, runTag), agent);
  const run = async (from: number, n: number): Promise<{ ok: number; ms: number }> => {
    const deadline = Date.now() + 60_000;
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
  // The parent reads the server's CPU time now, then says go.
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  process.stdout.write(`${JSON.stringify({ warm: true })}\n`);
  if ((await nextLine(lines)) === null) return;
  const r = await run(10_000_000, count);
  agent.destroy();
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

// ---- child: a server under load, reporting its own CPU time ----
async function serve(kind: string): Promise<void> {
  let dataDir: string | null = null;
  let url: string;
  let close: () => Promise<void>;
  if (kind === 'callpop') {
    dataDir = await mkdtemp(join(tmpdir(), 'callpop-bench-'));
    const service = await WebhookReceiver.start({
      dataDir,
      settings: { ...defaultSettings(), extension: ownExtension, listenHost: '127.0.0.1', listenPort: 0, webhookSecret: secret },
    });
    url = `http://127.0.0.1:${service.port}/webhook/${secret}`;
    close = () => service.close();
  } else if (kind === 'listener') {
    // The listener alone (secret, gate, body, reply) with a handler that does nothing: where the cost is.
    const listener = await startListener({ host: '127.0.0.1', port: 0, secret, onWebhook: () => Promise.resolve({ status: 'ok' }) });
    url = `http://127.0.0.1:${listener.port}/webhook/${secret}`;
    close = () => listener.close();
  } else {
    // The bare baseline: read the body, answer 200. No parsing, no tracking, no secret check.
    const bare = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 3 });
        res.end('OK\n');
      });
    });
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(bare.address() as { port: number }).port}/webhook/${secret}`;
    close = async () => {
      bare.closeAllConnections();
      await new Promise((r) => bare.close(r));
    };
  }
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  try {
    for await (const line of createInterface({ input: process.stdin })) {
      if (line === 'cpu') {
        const c = process.cpuUsage();
        process.stdout.write(`${JSON.stringify({ cpuUs: c.user + c.system })}\n`);
      }
    }
  } finally {
    await close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
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
interface Round {
  /** Webhooks acknowledged per second. */
  rate: number;
  /** The server's CPU time per acknowledged webhook, µs. */
  cpuUs: number;
}

async function cpuOf(server: JsonChild): Promise<number> {
  server.p.stdin!.write('cpu\n');
  return (await server.next()).cpuUs as number;
}

/** The script the children run: this file bundled as `callpop serve` ships (plain Node), or under tsx with BENCH_WEBHOOKS_TSX=1. */
let childScript = { file: self, bundled: false };

async function measure(server: JsonChild, url: string): Promise<Round> {
  const loader = startJsonChild(childScript.file, ['load', url, String(loadCount), String(concurrency)], { capMs: 180_000, bundled: childScript.bundled });
  try {
    await loader.next(); // warmed up
    const before = await cpuOf(server);
    loader.p.stdin!.write('go\n');
    const r = (await loader.next()) as { ok: number; ms: number };
    const after = await cpuOf(server);
    if (r.ok < loadCount * 0.99) throw new Error(`only ${r.ok} of ${loadCount} webhooks were acknowledged`);
    return { rate: (r.ok / r.ms) * 1000, cpuUs: (after - before) / r.ok };
  } finally {
    await loader.stop();
  }
}

type Kind = 'callpop' | 'bare' | 'listener';

async function main(): Promise<void> {
  // The servers run bundled, as the product ships: under tsx every closure made per request also pays
  // for esbuild's keepNames (a defineProperty), which the shipped bundles do not.
  const bundle = process.env.BENCH_WEBHOOKS_TSX ? null : await bundleForNode(self);
  if (bundle) childScript = { file: bundle.file, bundled: true };
  try {
    await cpuFigures();
  } finally {
    await bundle?.dispose();
  }
  if (process.env.BENCH_WEBHOOKS_NO_RSS) return;
  // Under tsx, as it always was (the figure is compared across sessions).
  const mem = startJsonChild(self, ['rss', String(rssCalls)], { capMs: 180_000 });
  try {
    console.log(`rss-after-1m-foreign-calls: ${Math.round((await mem.next()).rssMb as number)} MB`);
  } finally {
    await mem.stop();
  }
}

async function cpuFigures(): Promise<void> {
  // BENCH_WEBHOOKS_KINDS=bare,listener: only those servers (and only the lines they give), for quick comparisons.
  const kinds = (process.env.BENCH_WEBHOOKS_KINDS ?? 'callpop,bare,listener').split(',') as Kind[];
  const servers = kinds.map((kind) => ({ kind, child: startJsonChild(childScript.file, ['serve', kind], { capMs: 550_000, bundled: childScript.bundled }), url: '', best: { rate: 0, cpuUs: Infinity } }));
  try {
    for (const s of servers) s.url = (await s.child.next()).url as string;
    // Alternate the servers and keep each one's best round (highest rate, least CPU per webhook), so a
    // burst of other work on the machine during one round does not decide the ratios.
    for (let round = 0; round < rounds; round++) {
      for (const s of servers) {
        const r = await measure(s.child, s.url);
        console.error(`# round ${round + 1} ${s.kind}: ${Math.round(r.rate)} webhooks/s, ${r.cpuUs.toFixed(1)} µs CPU per webhook`);
        s.best = { rate: Math.max(s.best.rate, r.rate), cpuUs: Math.min(s.best.cpuUs, r.cpuUs) };
      }
    }
  } finally {
    for (const s of servers) await s.child.stop();
  }
  const best = (kind: Kind): Round | undefined => servers.find((s) => s.kind === kind)?.best;
  const callpop = best('callpop');
  const bare = best('bare');
  const listener = best('listener');
  if (callpop) console.log(`callpop-serve-webhooks-per-sec: ${Math.round(callpop.rate)} webhooks/s`);
  if (bare) console.log(`bare-node-http-webhooks-per-sec: ${Math.round(bare.rate)} webhooks/s`);
  if (callpop && bare) console.log(`callpop-vs-bare-ratio: ${(callpop.rate / bare.rate).toFixed(2)} ratio`);
  if (callpop) console.log(`callpop-serve-cpu-per-webhook: ${callpop.cpuUs.toFixed(1)} µs`);
  if (bare) console.log(`bare-node-http-cpu-per-webhook: ${bare.cpuUs.toFixed(1)} µs`);
  if (callpop && bare) console.log(`listener-cpu-vs-bare: ${(bare.cpuUs / callpop.cpuUs).toFixed(2)} ratio`);
  // Where the difference goes: the HTTP listener alone (secret, connection gate, body, reply) with a
  // handler that does nothing; the rest of callpop-serve's figure is parsing, tracking and committing.
  if (listener) console.log(`listener-http-only-cpu-per-webhook: ${listener.cpuUs.toFixed(1)} µs`);
}

const [mode, ...rest] = process.argv.slice(2);
const done =
  mode === 'load' ? load(rest[0]!, Number(rest[1]), Number(rest[2])) : mode === 'serve' ? serve(rest[0]!) : mode === 'rss' ? rss(Number(rest[0])) : main();
done.catch((e: unknown) => {
  console.error(`bench/webhooks: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
});
