// The team's benches (issue #19), against a real hub in a child process (embedded broker, board port):
//
// board-frame-p99-ms: the supervisors' board page (built out/board) in Chromium, logged in, with 1,000
//   agents in the grid while 100 call changes/s (webhooks: ring, answer, end over random agents and
//   two queues) reach the hub; the p99 of the page's frame times (requestAnimationFrame to
//   requestAnimationFrame) over 20 s. Target ≤ 16.7 ms (no frame dropped). Printed beside it:
//   board-frame-idle-p99-ms (the same page, same agents, no calls: what the machine gives an idle page),
//   board-frame-max-ms, and board-frames-dropped (frames of 1.5 display intervals or more: rAF times
//   jitter by ~0.1 ms around 16.67 ms, so a p99 of 16.8 is no frame late).
// callback-claim-roundtrip-p99-ms: 1,000 agents connected (a child process, from 8 loopback addresses:
//   the broker admits 256 per source), all members of one queue with 20 open callbacks, each following
//   its list as the desktop does (retained list + change messages, a sync after subscribing); one agent
//   claims an item, and the time runs until EVERY member's list shows it claimed. 500 claims after 10
//   not counted (of 100 the p99 would be the slowest one; the maximum is printed beside it), each made
//   once the item has reached every member. Target ≤ 50 ms. The hub's highest RSS is printed
//   beside. Clocks: performance.timeOrigin + performance.now() in both processes
//   (one machine). Printed beside it: the CPU time the hub and the agents' process spent from a claim to
//   the last member (load on this shared machine inflates wall-clock times, not these), and the change
//   messages that did not follow a member's version (a gap; 0 expected on loopback).
//   BENCH_CALLBACK_LIST_MS sets the hub's retained-list interval (default 1,000 ms).
//
//   node --import tsx bench/board.ts
//   (internal) bench/board.ts hub DIR            the hub child
//   (internal) bench/board.ts clients URL PASS   the 1,000 agents
import { existsSync } from 'node:fs';
import { agentClientId } from '../shared/hub-protocol';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Session as InspectorSession } from 'node:inspector/promises';
import { connect as netConnect } from 'node:net';
import { MqttClient } from 'mqtt';
import { chromium, type CDPSession } from 'playwright-core';
import { addAgent, agentsFilePath } from '../main/core/hub/accounts/agents';
import { startHub } from '../main/core/hub/hub';
import { setQueue } from '../main/core/hub/team/queues';
import { teamTopics } from '../shared/team-protocol';
import type { RawWebhook } from '../shared/webhook/event';
import { ensureBoardBuilt } from '../test/e2e/support/build-board';
import { queueCall } from '../test/support/team-calls';
import { startJsonChild, type JsonChild } from './support/json-child';
import { postJson } from './support/post-json';

const self = fileURLToPath(import.meta.url);
const AGENTS = Number(process.env.BENCH_BOARD_AGENTS ?? 1000);
const CHANGES_PER_SEC = 100;
const MEASURE_SEC = 20;
const IDLE_SEC = 5;
const OPEN_ITEMS = 20;
/** Enough for a p99 that is not the maximum (of 100 samples the p99 is the slowest one). */
const CLAIMS = 500;
const WARMUP_CLAIMS = 10;
const TRACE_SEC = 5;
const password = 'bench-password-1234';
const extOf = (i: number): string => String(1000 + i);
const now = (): number => performance.timeOrigin + performance.now();
const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

// ---- child: the hub ----
async function hubChild(dir: string): Promise<void> {
  const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, board: { port: 0, host: '127.0.0.1' }, agentsPollMs: 60_000, ...(process.env.BENCH_CALLBACK_LIST_MS && { callbackListMs: Number(process.env.BENCH_CALLBACK_LIST_MS) }), ...(process.env.BENCH_BOARD_DEBUG && { logger: { debug: () => {}, info: (m: string) => console.error(m), warn: (m: string) => console.error(m), error: (m: string) => console.error(m) } }) });
  process.stdout.write(`${JSON.stringify({ webhookUrl: hub.webhookUrl, brokerUrl: hub.brokerUrl, boardUrl: hub.boardUrl })}\n`);
  // BENCH_HUB_PROFILE=1: the hub's top functions by self time, on stderr at the end.
  // Started at the first "cpu" (the claims, after the agents connected).
  const session = process.env.BENCH_HUB_PROFILE ? new InspectorSession() : null;
  let profiling = false;
  // "cpu": the hub process's CPU time so far (the claims' cost apart from the machine's load).
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'cpu' && session && !profiling) {
      profiling = true;
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    if (line === 'cpu') {
      const u = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ cpuMs: (u.user + u.system) / 1000, rssMb: process.memoryUsage.rss() / 2 ** 20 })}\n`);
    }
  }
  if (session && profiling) printProfile((await session.post('Profiler.stop')).profile);
  await hub.close();
}

/** Self time by function, the top 15. */
function printProfile(profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples?: number[]; startTime: number; endTime: number }): void {
  const self = new Map<string, number>();
  const dt = (profile.endTime - profile.startTime) / Math.max(1, profile.samples?.length ?? 1);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const id of profile.samples ?? []) {
    const n = byId.get(id)!;
    const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
    self.set(k, (self.get(k) ?? 0) + dt / 1000);
  }
  for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.error(`# ${ms.toFixed(0)} ms ${k}`);
}

// ---- child: 1,000 agents following their callbacks; agent 0 claims ----
// Each agent follows its list as the desktop does (main/core/hub-client/callbacks.ts): the retained list,
// then the change messages chained by seq/prevSeq, a sync after subscribing. Light on purpose (JSON.parse,
// no schema check): 1,000 desktops run here in one process, and their work adds up in the figure. Each
// parses every message and follows the version chain; only agent 0 keeps its whole list (below).
async function clientsChild(url: string, pass: string): Promise<void> {
  const clients: MqttClient[] = [];
  /** item id → members whose list shows it claimed, and when the last one did. */
  const seen = new Map<string, { n: number; last: number }>();
  /** item id → which members were counted in `seen` (a byte each: a Set of "id/member" strings was 500,000 strings). */
  const counted = new Map<string, Uint8Array>();
  let gaps = 0;
  const { hostname, port } = new URL(url);
  type Item = { id: string; state: string };
  const connectOne = async (i: number): Promise<void> => {
    const ext = extOf(i);
    const clientId = agentClientId(`agent${i}`, 'benchboard');
    // The broker admits at most 256 connections per source address: 1,000 agents come from 8.
    const localAddress = `127.0.0.${10 + (i % 8)}`;
    const c = new MqttClient(() => netConnect({ host: hostname, port: Number(port), localAddress }), { protocolVersion: 4, clientId, username: `agent${i}`, password: pass, clean: true, reconnectPeriod: 0, keepalive: 60 });
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    // Only agent 0 keeps its whole list (the open items the parent claims): 1,000 lists of ~500 items in
    // this one heap were half a million objects whose major collections (100–150 ms of CPU, 2–3 a run)
    // were the slowest claims, and no desktop's heap holds more than its own list.
    const items = i === 0 ? new Map<string, Item>() : null;
    let seq = -1;
    versions[i] = seq;
    const saw = (t: number, changed: Iterable<Item>): void => {
      if (items) latestIds = [...items.values()].filter((x) => x.state === 'open').map((x) => x.id);
      for (const it of changed) {
        if (it.state !== 'claimed') continue;
        let who = counted.get(it.id);
        if (!who) counted.set(it.id, (who = new Uint8Array(AGENTS)));
        if (who[i]) continue;
        who[i] = 1;
        const s = seen.get(it.id) ?? { n: 0, last: 0 };
        s.n++;
        s.last = Math.max(s.last, t);
        seen.set(it.id, s);
      }
    };
    c.on('message', (topic, payload) => {
      const t = now();
      if (topic.endsWith('/callbacks/changes')) {
        const m = JSON.parse(payload.toString()) as { seq: number; prevSeq: number; items: Item[]; removed?: string[] };
        if (m.seq <= seq) return;
        if (m.prevSeq !== seq) gaps++; // (the desktop would wait for a list here; counted, then applied)
        if (items) {
          for (const it of m.items) items.set(it.id, it);
          for (const id of m.removed ?? []) items.delete(id);
        }
        seq = m.seq;
        versions[i] = seq;
        saw(t, m.items);
      } else if (topic.endsWith('/callbacks')) {
        const head = /^\{"v":\d+,"seq":(\d+),/.exec(payload.subarray(0, 48).toString('latin1'));
        if (head && Number(head[1]) <= seq) return;
        const m = JSON.parse(payload.toString()) as { seq: number; items: Item[] };
        if (items) {
          items.clear();
          for (const it of m.items) items.set(it.id, it);
        }
        seq = m.seq;
        versions[i] = seq;
        saw(t, m.items);
      }
    });
    await c.subscribeAsync({ [teamTopics.callbacks('default', ext)]: { qos: 1 }, [teamTopics.callbacksChanges('default', ext)]: { qos: 0 }, [`callpop/v1/default/ext/${ext}/callbacks/res/${clientId}`]: { qos: 1 } });
    c.publish(teamTopics.callbacksRequest('default', ext), JSON.stringify({ v: 1, clientId, requestId: 'sync', action: 'sync' }), { qos: 1 });
    clients.push(c);
  };
  let latestIds: string[] = [];
  /** Each agent's list version (seq): all equal once a change has reached every member. */
  const versions: number[] = [];
  for (let i = 0; i < AGENTS; i += 20) await Promise.all(Array.from({ length: Math.min(20, AGENTS - i) }, (_, k) => connectOne(i + k)));
  process.stdout.write(`${JSON.stringify({ ready: clients.length })}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'items') process.stdout.write(`${JSON.stringify({ open: latestIds })}\n`);
    if (line === 'settled') {
      // Until every member's list is at agent 0's version (the last change reached them all).
      const deadline = Date.now() + 10_000;
      while (versions.some((v) => v !== versions[0]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      process.stdout.write(`${JSON.stringify({ settled: versions.every((v) => v === versions[0]) })}\n`);
    }
    if (line === 'gaps') process.stdout.write(`${JSON.stringify({ gaps })}\n`);
    if (line === 'cpu') {
      const u = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ cpuMs: (u.user + u.system) / 1000 })}\n`);
    }
    if (line.startsWith('claim ')) {
      const id = line.slice(6);
      const t0 = now();
      // Not publishAsync: its PUBACK is not what is measured.
      clients[0]!.publish(teamTopics.callbacksRequest('default', extOf(0)), JSON.stringify({ v: 1, clientId: agentClientId('agent0', 'benchboard'), requestId: id, id, action: 'claim' }), { qos: 1 });
      const deadline = Date.now() + 10_000;
      while ((seen.get(id)?.n ?? 0) < AGENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      const s = seen.get(id);
      process.stdout.write(`${JSON.stringify({ ms: s && s.n >= AGENTS ? s.last - t0 : null, members: s?.n ?? 0 })}\n`);
    }
  }
  await Promise.all(clients.map((c) => c.endAsync(true)));
}

// ---- parent ----
async function writeAgents(dir: string): Promise<void> {
  await addAgent(dir, { name: 'sue', extensions: [], role: 'supervisor', password });
  const file = JSON.parse(await readFile(agentsFilePath(dir), 'utf8')) as { agents: Record<string, unknown>[] };
  const template = { ...file.agents[0]! };
  delete template.role;
  for (let i = 0; i < AGENTS; i++) file.agents.push({ ...template, name: `agent${i}`, extensions: [extOf(i)], displayName: `Agent ${i}` });
  await writeFile(agentsFilePath(dir), JSON.stringify(file));
}

async function send(url: URL, agent: HttpAgent, raws: RawWebhook[]): Promise<void> {
  for (const raw of raws) {
    const status = await postJson(url, raw.body, agent);
    if (status !== 200) throw new Error(`webhook answered ${status}`);
  }
}

async function boardFrames(hubInfo: { webhookUrl: string; boardUrl: string }): Promise<void> {
  const executablePath = process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  const browser = await chromium.launch({
    ...(executablePath ? { executablePath } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
  const url = new URL(hubInfo.webhookUrl);
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  try {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(hubInfo.boardUrl);
    await page.getByLabel('Name').fill('sue');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.agent').nth(AGENTS - 1).waitFor({ timeout: 60_000 });
    // A string, not a function: tsx's helpers (__name) do not exist in the page.
    const frames = (sec: number): Promise<number[]> =>
      page.evaluate(`new Promise((resolve) => {
        const out = [];
        let last = 0;
        const end = performance.now() + ${sec * 1000};
        const step = (t) => {
          if (last) out.push(t - last);
          last = t;
          if (t < end) requestAnimationFrame(step);
          else resolve(out);
        };
        requestAnimationFrame(step);
      })`);
    // The page's main-thread CPU time (Chromium's ThreadTime), which the machine's load does not inflate
    // the way it does wall-clock frame times (2 cores shared with other work here).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async (): Promise<Record<string, number>> => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const idle0 = await metrics();
    const idle = (await frames(IDLE_SEC)).sort((a, b) => a - b);
    const idle1 = await metrics();

    // 100 changes/s: calls that ring (queue 820 or 830), are answered, then end, over random agents.
    let stop = false;
    let sent = 0;
    let serial = 0;
    const load = (async () => {
      const t0 = performance.now();
      const live: { steps: RawWebhook[][] }[] = [];
      while (!stop) {
        const due = t0 + (sent * 1000) / CHANGES_PER_SEC;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        // Each call: ring (1 change per member rung), answer, end: about 3 changes.
        if (live.length < 30 || Math.random() < 0.3) {
          const ext = extOf(Math.floor(Math.random() * AGENTS));
          const c = queueCall(`261207${String(150000 + (serial % 800000)).padStart(6, '0')}_${++serial}`, `0555${String(1000000 + serial).slice(-7)}`, serial % 2 ? '820' : '830', [ext]);
          live.push({ steps: [c.answer(ext), c.end(ext, 3)] });
          await send(url, agent, c.ring.slice(-1));
        } else {
          const call = live[Math.floor(Math.random() * live.length)]!;
          const next = call.steps.shift()!;
          if (call.steps.length === 0) live.splice(live.indexOf(call), 1);
          await send(url, agent, next);
        }
        sent++;
      }
    })();
    await new Promise((r) => setTimeout(r, 2000)); // the first board messages with calls
    await page.evaluate("performance.clearMeasures('board-update')");
    if (process.env.BENCH_BOARD_PROFILE) await cdp.send('Profiler.enable').then(() => cdp.send('Profiler.start'));
    const busy0 = await metrics();
    const busy = (await frames(MEASURE_SEC)).sort((a, b) => a - b);
    const busy1 = await metrics();
    if (process.env.BENCH_BOARD_PROFILE) {
      // Self time by function, the top 15 (a look at where the page's script time goes).
      const { profile } = await cdp.send('Profiler.stop');
      const self = new Map<string, number>();
      const dt = (profile.endTime - profile.startTime) / Math.max(1, profile.samples?.length ?? 1);
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      for (const id of profile.samples ?? []) {
        const n = byId.get(id)!;
        const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
        self.set(k, (self.get(k) ?? 0) + dt / 1000);
      }
      for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.error(`# ${ms.toFixed(0)} ms ${k}`);
    }
    const updates = ((await page.evaluate("performance.getEntriesByName('board-update', 'measure').map((e) => e.duration)")) as number[]).sort((a, b) => a - b);
    // A trace of TRACE_SEC more under the same load: per layout, how many objects it had to lay out, and
    // the main thread's CPU time (thread time, which another process's load does not inflate the way it
    // does wall-clock times) in layout, style and script per board message.
    const traced = await traceMainThread(cdp, TRACE_SEC);
    stop = true;
    await load;
    console.log(`board-frame-p99-ms: ${quantile(busy, 0.99).toFixed(1)} ms`);
    console.log(`board-frame-p50-ms: ${quantile(busy, 0.5).toFixed(1)} ms`);
    console.log(`board-frame-max-ms: ${busy.at(-1)!.toFixed(1)} ms`);
    console.log(`board-frame-idle-p99-ms: ${quantile(idle, 0.99).toFixed(1)} ms`);
    // The display's interval is 16.67 ms at 60 Hz, and rAF times jitter by ~0.1 ms around it (16.6–16.8
    // read as a p99 of 16.8 with no frame late): a dropped frame is one that took 1.5 intervals or more.
    const interval = quantile(idle, 0.5);
    console.log(`board-frames-dropped: ${busy.filter((f) => f >= 1.5 * interval).length} frames`);
    if (updates.length > 0) console.log(`board-update-p99-ms: ${quantile(updates, 0.99).toFixed(1)} ms`);
    const cpu = (a: Record<string, number>, b: Record<string, number>, sec: number): number => ((b.ThreadTime! - a.ThreadTime!) * 1000) / sec;
    const part = (k: string): string => `${k} ${(((busy1[k]! - busy0[k]!) * 1000) / MEASURE_SEC).toFixed(1)}`;
    console.log(`# main thread per second of load (ms): ${['ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'TaskDuration'].map(part).join(', ')}`);
    console.log(`board-main-thread-cpu-ms-per-sec: ${cpu(busy0, busy1, MEASURE_SEC).toFixed(1)} ms/s`);
    console.log(`board-main-thread-cpu-idle-ms-per-sec: ${cpu(idle0, idle1, IDLE_SEC).toFixed(1)} ms/s`);
    if (updates.length > 0) console.log(`board-main-thread-cpu-per-update-ms: ${(((busy1.ThreadTime! - busy0.ThreadTime!) * 1000 - cpu(idle0, idle1, IDLE_SEC) * MEASURE_SEC) / updates.length).toFixed(1)} ms`);
    console.log(`board-layout-objects-p50: ${traced.layoutObjectsP50} objects`);
    console.log(`board-layout-objects-max: ${traced.layoutObjectsMax} objects`);
    console.log(`# traced ${TRACE_SEC} s: ${traced.layouts} layouts; main-thread CPU per second: layout ${traced.layoutMsPerSec.toFixed(1)} ms, style ${traced.styleMsPerSec.toFixed(1)} ms, script ${traced.scriptMsPerSec.toFixed(1)} ms, all tasks ${traced.taskMsPerSec.toFixed(1)} ms`);
    console.log(`# board-update = one board message → its DOM committed (parse, check, React); ${updates.length} updates; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
    console.log(`# ${busy.length} frames in ${MEASURE_SEC} s, ${sent} call changes sent (${(sent / (MEASURE_SEC + 2)).toFixed(0)}/s), ${AGENTS} agents; idle: ${idle.length} frames`);
  } finally {
    agent.destroy();
    await browser.close();
  }
}

interface TraceEvent {
  name: string;
  ph: string;
  tid: number;
  tdur?: number;
  args?: { beginData?: { dirtyObjects?: number; totalObjects?: number; frame?: string } };
}

/** Chromium's timeline trace of the page's renderer main thread for `sec` seconds, summed. */
async function traceMainThread(cdp: CDPSession, sec: number) {
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => {
    events.push(...(e.value as unknown as TraceEvent[]));
  });
  const done = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline', transferMode: 'ReportEvents' });
  await new Promise((r) => setTimeout(r, sec * 1000));
  await cdp.send('Tracing.end');
  await done;
  // The renderer's main thread: the one that ran the layouts.
  const layouts = events.filter((e) => e.name === 'Layout' && e.ph === 'X');
  const tid = layouts[0]?.tid;
  const on = (name: string): TraceEvent[] => events.filter((e) => e.name === name && e.ph === 'X' && e.tid === tid);
  const ms = (list: TraceEvent[]): number => list.reduce((n, e) => n + (e.tdur ?? 0), 0) / 1000 / sec;
  const objects = layouts.map((e) => e.args?.beginData?.dirtyObjects ?? 0).sort((a, b) => a - b);
  if (process.env.BENCH_BOARD_PROFILE) {
    // Thread time per event name on that thread (nested events count in their parents too).
    const byName = new Map<string, number>();
    for (const e of events) if (e.ph === 'X' && e.tid === tid) byName.set(e.name, (byName.get(e.name) ?? 0) + (e.tdur ?? 0) / 1000 / sec);
    for (const [k, v] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.error(`# trace ${v.toFixed(1)} ms/s ${k}`);
  }
  return {
    layouts: layouts.length,
    layoutObjectsP50: objects.length ? quantile(objects, 0.5) : 0,
    layoutObjectsMax: objects.at(-1) ?? 0,
    layoutMsPerSec: ms(on('Layout')),
    styleMsPerSec: ms(on('UpdateLayoutTree')),
    scriptMsPerSec: ms([...on('FunctionCall'), ...on('EvaluateScript'), ...on('TimerFire'), ...on('FireAnimationFrame')]),
    taskMsPerSec: ms(on('RunTask')),
  };
}

async function claimRoundtrip(hubInfo: { webhookUrl: string; brokerUrl: string }, hub: JsonChild): Promise<void> {
  const clients = startJsonChild(self, ['clients', hubInfo.brokerUrl, password], { capMs: 600_000 });
  const url = new URL(hubInfo.webhookUrl);
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  try {
    await clients.next();
    const claimed: number[] = [];
    let serial = 0;
    const open = async (): Promise<string[]> => {
      clients.p.stdin!.write('items\n');
      return (await clients.next()).open as string[];
    };
    // Keeps OPEN_ITEMS open callbacks: one missed queue call per new number. Then waits until that
    // item has reached every member: a claim timed from agent 0's first sight of it would count the
    // rest of the item's own fan-out (agent 0 is the first member it reaches) as the claim's.
    const refill = async (): Promise<string[]> => {
      let ids = await open();
      while (ids.length < OPEN_ITEMS) {
        const c = queueCall(`261207${String(200000 + serial).padStart(6, '0')}_${++serial}`, `0212${String(5000000 + serial).slice(-7)}`, '840', [extOf(serial % AGENTS)]);
        await send(url, agent, [...c.ring, ...c.missed]);
        await new Promise((r) => setTimeout(r, 20));
        ids = await open();
      }
      clients.p.stdin!.write('settled\n');
      if ((await clients.next()).settled !== true) throw new Error('the members did not reach the same list version within 10 s');
      return ids;
    };
    // CPU time of the hub and of the 1,000 agents' process from a claim to every member showing it: what
    // the figure costs apart from the machine's load (2 cores shared with other work here).
    let hubRssMb = 0;
    const cpuOf = async (child: JsonChild): Promise<number> => {
      child.p.stdin!.write('cpu\n');
      const r = await child.next();
      if (child === hub) hubRssMb = Math.max(hubRssMb, r.rssMb as number);
      return r.cpuMs as number;
    };
    const hubCpu: number[] = [];
    const clientsCpu: number[] = [];
    for (let k = 0; k < CLAIMS + WARMUP_CLAIMS; k++) {
      const ids = await refill();
      const [h0, c0] = [await cpuOf(hub), await cpuOf(clients)];
      clients.p.stdin!.write(`claim ${ids[0]}\n`);
      const r = await clients.next();
      if (typeof r.ms !== 'number') throw new Error(`claim ${k}: only ${String(r.members)} of ${AGENTS} members saw it`);
      const [h1, c1] = [await cpuOf(hub), await cpuOf(clients)];
      if (k < WARMUP_CLAIMS) continue;
      claimed.push(r.ms);
      hubCpu.push(h1 - h0);
      clientsCpu.push(c1 - c0);
    }
    for (const a of [claimed, hubCpu, clientsCpu]) a.sort((x, y) => x - y);
    console.log(`callback-claim-roundtrip-p99-ms: ${quantile(claimed, 0.99).toFixed(1)} ms`);
    console.log(`callback-claim-roundtrip-p50-ms: ${quantile(claimed, 0.5).toFixed(1)} ms`);
    console.log(`callback-claim-roundtrip-max-ms: ${claimed.at(-1)!.toFixed(1)} ms`);
    console.log(`callback-claim-hub-cpu-p50-ms: ${quantile(hubCpu, 0.5).toFixed(1)} ms`);
    console.log(`callback-claim-agents-cpu-p50-ms: ${quantile(clientsCpu, 0.5).toFixed(1)} ms`);
    console.log(`callback-claim-hub-rss-max-mb: ${hubRssMb.toFixed(0)} MB`);
    console.log(`# CPU from a claim until every member showed it: the hub's, and the 1,000 agents' (one process here: ${(quantile(clientsCpu, 0.5) / AGENTS).toFixed(2)} ms each); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`);
    clients.p.stdin!.write('gaps\n');
    const { gaps } = (await clients.next()) as { gaps: number };
    console.log(`# ${CLAIMS} claims, each until all ${AGENTS} members' lists (${OPEN_ITEMS} open items) showed it; change messages that did not follow a member's version: ${gaps}`);
  } finally {
    agent.destroy();
    await clients.stop();
  }
}

async function main(): Promise<void> {
  await ensureBoardBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-board-'));
  try {
    await writeAgents(dir);
    const members = Array.from({ length: AGENTS }, (_, i) => extOf(i));
    await setQueue(dir, { queue: '820', name: 'Sales', members: members.slice(0, AGENTS / 2) });
    await setQueue(dir, { queue: '830', name: 'Support', members: members.slice(AGENTS / 2) });
    await setQueue(dir, { queue: '840', name: 'Everyone', members });
    const hub = startJsonChild(self, ['hub', dir], { capMs: 900_000 });
    try {
      const info = (await hub.next()) as { webhookUrl: string; brokerUrl: string; boardUrl: string };
      if (!process.env.BENCH_BOARD_ONLY || process.env.BENCH_BOARD_ONLY === 'frames') await boardFrames(info);
      if (!process.env.BENCH_BOARD_ONLY || process.env.BENCH_BOARD_ONLY === 'claims') await claimRoundtrip(info, hub);
    } finally {
      await hub.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'hub') await hubChild(args[0]!);
else if (mode === 'clients') await clientsChild(args[0]!, args[1]!);
else await main();
