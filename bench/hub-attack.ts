// The hub under attack (issue #16), on loopback, attackers from 127.0.0.2, each figure beside its
// baseline from the same run. The hub runs in its own process (as `callpop hub` does), each attacker
// in another, the measuring side (the PBX, a genuine agent) in this one.
//
//   hub-tls-silent-closed-sec        1,500 sockets to the mqtts port that never send a byte: seconds
//                                    until the hub closed all of them (cap 40 s); beside it an agent's
//                                    mqtts login from 127.0.0.1 during the attack and without it.
//   hub-webhook-ack-p99-under-login-flood-ms
//                                    webhook POST → 200 (after the hub log's fsync), the PBX posting
//                                    20 webhooks/s, while 100 wrong-password CONNECTs/s for 10 s name a
//                                    real agent; beside it the same without the flood, and the genuine
//                                    agent's login time during the flood.
//   hub-rss-growth-under-sync-flood-mb / hub-pop-p99-under-sync-flood-ms
//                                    an agent whose extension has 10,000 records sends 100 sync
//                                    requests/s for 10 s, each naming a new client id: the hub's RSS
//                                    growth (peak) and another agent's pops (ringing POST → record in
//                                    its HubClient); beside them the same without the flood. Then the
//                                    same with every request naming the connection's own client id
//                                    (…-under-own-id-sync-flood-…): answers run back to back.
//   mosquitto-login-ms-at-N-iterations
//                                    one login (CONNECT → CONNACK) on a real Mosquitto whose
//                                    password_file holds PBKDF2-SHA512 ("$7$") hashes of N iterations,
//                                    and its ceiling in logins/s (Mosquitto checks passwords on its one
//                                    thread: a slow hash stalls all delivery during a login flood);
//                                    beside it what one guess at that hash costs an attacker on one core.
// Timings on a shared machine are noisy: compare figures of the same run.
//
//   node --import tsx bench/hub-attack.ts [silent|login|sync|sync-own|mosquitto]   all, or one part
//   (internal) bench/hub-attack.ts hub DIR TLS                 the hub child
//   (internal) bench/hub-attack.ts login-flood PORT NAME RATE SEC
//   (internal) bench/hub-attack.ts sync-flood URL NAME PASSWORD EXT RATE SEC
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent as HttpAgent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { connectAsync } from 'mqtt';
import * as protocol from '../shared/hub-protocol';
import { addAgent, mosquittoHash } from '../main/core/hub/accounts/agents';
import { writeFile } from 'node:fs/promises';
import { pbkdf2Sync } from 'node:crypto';
import { mosquittoAvailable, startMosquitto } from '../test/support/mosquitto';
import { startHub } from '../main/core/hub/hub';
import { HubClient, type HubCallUpdate } from '../main/core/hub-client/hub-client';
import { startJsonChild, type JsonChild } from './support/json-child';
import { postJson } from './support/post-json';
import { rawConnect } from '../test/support/mqtt-raw';
import { selfSignedCert } from '../test/support/self-signed-cert';
import { slowloris } from '../test/support/slowloris';

const self = fileURLToPath(import.meta.url);
const password = 'bench-password-0123456789';
const attacker = '127.0.0.2';

/** A client id the hub accepts for `name` (the agent-bound form where this tree has it). */
const clientIdOf = (name: string): string => {
  const make = (protocol as { agentClientId?: (name: string) => string }).agentClientId;
  return make ? make(name) : `bench-${name}-${randomBytes(4).toString('hex')}`;
};

const ringing = (ext: string, id: string, caller: string): string => JSON.stringify({ Event: 'ringing', Callerid: caller, User: ext, Usertype: 'ext', Did: '', Id: id });
const missedEnd = (ext: string, id: string, caller: string): string =>
  JSON.stringify({ Event: 'incoming', Callerid: caller, User: ext, Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: id });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

// ---- child: the hub; stdin commands: "rss" (current and peak since "mark"), "mark", "fill EXT N" ----
async function hubChild(dir: string, tls: boolean): Promise<void> {
  const cert = tls ? selfSignedCert(dir) : null;
  const hub = await startHub({
    dataDir: dir,
    host: '127.0.0.1',
    port: 0,
    broker: { kind: 'embedded', host: '127.0.0.1', port: 0 },
    agentsPollMs: 60_000,
    ...(cert && { tls: { cert: cert.cert, key: cert.key } }),
  });
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  process.stdout.write(`${JSON.stringify({ webhookUrl: hub.webhookUrl, brokerUrl: hub.brokerUrl })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, a, b] = line.split(' ');
    if (cmd === 'mark') peak = process.memoryUsage().rss;
    if (cmd === 'rss') process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, peak })}\n`);
    if (cmd === 'fill') {
      const tag = String(Date.now()).slice(-10);
      for (let i = 0; i < Number(b); i++) {
        const id = `${tag}_${i}-0`;
        const caller = `0555${String(i).padStart(7, '0')}`;
        void hub.ingest({ method: 'POST', query: '', body: ringing(a!, id, caller), contentType: 'application/json' });
        void hub.ingest({ method: 'POST', query: '', body: missedEnd(a!, id, caller), contentType: 'application/json' });
        if (i % 500 === 499) await hub.flush();
      }
      await hub.flush();
      process.stdout.write(`${JSON.stringify({ filled: Number(b), head: hub.headSeq })}\n`);
    }
  }
  clearInterval(sampler);
  await hub.close();
}

// ---- child: wrong-password CONNECTs naming a real agent, from the attacker's address ----
async function loginFloodChild(port: number, name: string, rate: number, sec: number): Promise<void> {
  const codes: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < rate * sec; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      rawConnect({ port, localAddress: attacker, clientId: clientIdOf(name), username: name, password: `wrong-${i}`, timeoutMs: 30_000 }).then(({ code }) => {
        codes[code] = (codes[code] ?? 0) + 1;
      }),
    );
  }
  await Promise.all(pending);
  process.stdout.write(`${JSON.stringify({ codes })}\n`);
}

// ---- child: one agent's connection sending sync requests, each naming a new client id ----
async function syncFloodChild(url: string, name: string, pass: string, ext: string, rate: number, sec: number, own: boolean): Promise<void> {
  const ownId = clientIdOf(name);
  const c = await connectAsync(url, { protocolVersion: 4, clientId: ownId, username: name, password: pass, clean: true, reconnectPeriod: 0 });
  let received = 0;
  c.on('message', () => received++);
  await c.subscribeAsync(protocol.topics.extensionTree('default', ext), { qos: 1 }).catch(() => {});
  const t0 = performance.now();
  for (let i = 0; i < rate * sec && c.connected; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const clientId = own ? ownId : `flood${i}-${randomBytes(4).toString('hex')}`;
    c.publish(protocol.topics.syncRequest('default', ext), JSON.stringify({ v: 1, since: 0, clientId, requestId: `r${i}` }), { qos: 1 });
  }
  process.stdout.write(`${JSON.stringify({ sent: rate * sec, received, connected: c.connected })}\n`);
  await c.endAsync(true).catch(() => {});
}

// ---- the measuring side ----
async function withHub<T>(tls: boolean, agents: { name: string; ext: string }[], fn: (hub: JsonChild, urls: { webhookUrl: string; brokerUrl: string }) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-attack-'));
  for (const a of agents) await addAgent(dir, { name: a.name, extensions: [a.ext], password });
  const hub = startJsonChild(self, ['hub', dir, tls ? 'tls' : 'plain'], { capMs: 600_000 });
  try {
    const urls = (await hub.next()) as { webhookUrl: string; brokerUrl: string };
    return await fn(hub, urls);
  } finally {
    await hub.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function agentLoginMs(brokerUrl: string, name: string): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    try {
      const c = await connectAsync(brokerUrl, { protocolVersion: 4, clientId: clientIdOf(name), username: name, password, reconnectPeriod: 0, connectTimeout: 30_000, rejectUnauthorized: false });
      await c.endAsync(true);
      return performance.now() - t0;
    } catch {
      // "server unavailable" or a reset: a real client retries (HubClient after 1 s).
      if (performance.now() - t0 > 60_000) return NaN;
      await sleep(1000);
    }
  }
}

async function silentTls(): Promise<void> {
  await withHub(true, [{ name: 'anna', ext: '117' }], async (_hub, { brokerUrl }) => {
    const baseline = await agentLoginMs(brokerUrl, 'anna');
    const port = Number(new URL(brokerUrl).port);
    const capSec = 40;
    // In waves of 100, so the kernel's accept queue (511) never overflows: a socket dropped there would
    // look open to its client for ever without the hub holding anything.
    const waves: ReturnType<typeof slowloris>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 15; i++) {
      const wave = slowloris({ port, sources: [attacker], perSource: 100, mode: 'silent' });
      waves.push(wave);
      await wave.settled();
      await sleep(20);
    }
    const closed = (): number => waves.reduce((n, w) => n + w.closed(), 0);
    const during = await agentLoginMs(brokerUrl, 'anna');
    while (closed() < 1500 && performance.now() - t0 < capSec * 1000) await sleep(100);
    const sec = (performance.now() - t0) / 1000;
    const open = 1500 - closed();
    for (const w of waves) await w.stop();
    console.log(`hub-tls-silent-closed-sec: ${open > 0 ? `>${capSec} (${open} of 1500 still open at the cap)` : sec.toFixed(1)} s   baseline: plain mqtt closes a silent socket after 10 s (aedes connectTimeout)`);
    console.log(`hub-tls-agent-login-during-silent-ms: ${during.toFixed(0)} ms   baseline (no attack): ${baseline.toFixed(0)} ms`);
  });
}

/** Webhook acks of the PBX posting `calls` calls at `rate` calls/s (two webhooks each) to extension 117. */
async function pbxAcks(webhookUrl: string, calls: number, rate: number): Promise<{ ms: number[]; failed: number }> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  const url = new URL(webhookUrl);
  const ms: number[] = [];
  let failed = 0;
  const tag = String(Date.now()).slice(-10);
  const t0 = performance.now();
  const one = async (i: number): Promise<void> => {
    const id = `${tag}_${i}-0`;
    const caller = `0666${String(i).padStart(7, '0')}`;
    for (const body of [ringing('117', id, caller), missedEnd('117', id, caller)]) {
      const s = performance.now();
      try {
        const status = await postJson(url, body, agent, 30_000);
        if (status === 200) ms.push(performance.now() - s);
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  const all: Promise<void>[] = [];
  for (let i = 0; i < calls; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    all.push(one(i));
  }
  await Promise.all(all);
  agent.destroy();
  return { ms, failed };
}

async function loginFlood(): Promise<void> {
  await withHub(false, [{ name: 'anna', ext: '117' }], async (_hub, { webhookUrl, brokerUrl }) => {
    const base = await pbxAcks(webhookUrl, 100, 10);
    const port = Number(new URL(brokerUrl).port);
    const flood = startJsonChild(self, ['login-flood', String(port), 'anna', '100', '10'], { capMs: 120_000 });
    await sleep(1000);
    const [under, login] = await Promise.all([pbxAcks(webhookUrl, 80, 10), sleep(3000).then(() => agentLoginMs(brokerUrl, 'anna'))]);
    const result = await flood.next();
    await flood.stop();
    console.log(`hub-webhook-ack-p99-under-login-flood-ms: ${quantile(under.ms, 0.99).toFixed(1)} ms (p50 ${quantile(under.ms, 0.5).toFixed(1)}, ${under.failed} not acknowledged of ${under.ms.length + under.failed})   baseline: p99 ${quantile(base.ms, 0.99).toFixed(1)} ms (p50 ${quantile(base.ms, 0.5).toFixed(1)}, ${base.failed} not acknowledged)`);
    console.log(`hub-agent-login-under-login-flood-ms: ${login.toFixed(0)} ms   (flood CONNACK codes ${JSON.stringify(result.codes)})`);
  });
}

async function probePops(client: HubClient, webhookUrl: string, n: number): Promise<number[]> {
  const waiting = new Map<string, (t: number) => void>();
  const off = client.onUpdates((updates: HubCallUpdate[]) => {
    const t = performance.now();
    for (const u of updates) if (u.change === 'ringing') waiting.get(u.record.id)?.(t);
  });
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  const url = new URL(webhookUrl);
  const out: number[] = [];
  const tag = String(Date.now()).slice(-10);
  try {
    for (let i = 0; i < n; i++) {
      const id = `${tag}_${i}`;
      const caller = `0777${String(i).padStart(7, '0')}`;
      const arrived = new Promise<number>((resolve) => {
        waiting.set(id, resolve);
        setTimeout(() => resolve(NaN), 10_000);
      });
      const t0 = performance.now();
      await postJson(url, ringing('5000', `${id}-0`, caller), agent, 30_000);
      const t1 = await arrived;
      waiting.delete(id);
      out.push(Number.isNaN(t1) ? 10_000 : t1 - t0);
      await postJson(url, missedEnd('5000', `${id}-0`, caller), agent, 30_000);
      await sleep(50);
    }
  } finally {
    off();
    agent.destroy();
  }
  return out;
}

async function syncFlood(own: boolean): Promise<void> {
  const tag = own ? '-own-id' : '';
  await withHub(false, [{ name: 'flood', ext: '300' }, { name: 'probe', ext: '5000' }], async (hub, { webhookUrl, brokerUrl }) => {
    hub.p.stdin!.write('fill 300 10000\n');
    await hub.next();
    const dataDir = await mkdtemp(join(tmpdir(), 'callpop-bench-attack-probe-'));
    const client = await HubClient.start({ dataDir, url: brokerUrl, user: 'probe', password, extension: '5000' });
    try {
      const deadline = Date.now() + 30_000;
      while (!(client.currentStatus().state === 'connected' && (client.currentStatus() as { synced: boolean }).synced)) {
        if (Date.now() > deadline) throw new Error('the probe client did not connect');
        await sleep(20);
      }
      const base = await probePops(client, webhookUrl, 100);
      await sleep(2000);
      hub.p.stdin!.write('mark\n');
      hub.p.stdin!.write('rss\n');
      const before = (await hub.next()) as { rss: number };
      const flood = startJsonChild(self, ['sync-flood', brokerUrl, 'flood', password, '300', '100', '10', own ? 'own' : 'new'], { capMs: 300_000 });
      // Stop measuring (and kill the hub) before it takes the machine's memory.
      let over = false;
      let lastPeak = before.rss;
      const watch = setInterval(() => hub.p.stdin!.write('rss\n'), 500);
      const rssWatch = (async () => {
        for (;;) {
          const r = (await hub.next().catch(() => null)) as { rss: number; peak: number } | null;
          if (!r) return;
          lastPeak = Math.max(lastPeak, r.peak);
          if (r.peak - before.rss > 6_000_000_000) {
            over = true;
            hub.p.kill('SIGKILL');
            return;
          }
        }
      })();
      const under = await probePops(client, webhookUrl, 150);
      await flood.next().catch(() => null);
      await flood.stop();
      await sleep(1000);
      clearInterval(watch);
      await sleep(600);
      hub.p.stdin!.end();
      await Promise.race([rssWatch, sleep(2000)]);
      const growth = (lastPeak - before.rss) / 1e6;
      console.log(`hub-rss-growth-under${tag}-sync-flood-mb: ${over ? '>6000 (hub killed)' : growth.toFixed(0)} MB (peak; before ${(before.rss / 1e6).toFixed(0)} MB)   baseline: 0 MB without the flood`);
      console.log(`hub-pop-p99-under${tag}-sync-flood-ms: ${quantile(under, 0.99).toFixed(1)} ms (p50 ${quantile(under, 0.5).toFixed(1)})   baseline: p99 ${quantile(base, 0.99).toFixed(1)} ms (p50 ${quantile(base, 0.5).toFixed(1)})`);
    } finally {
      await client.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
}

async function mosquittoLogins(): Promise<void> {
  if (!mosquittoAvailable) return void console.error('# no Mosquitto: mosquitto-login-ms skipped');
  for (const iterations of [101, 1_000, 10_000, 20_000, 50_000]) {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-mosq-'));
    const file = join(dir, 'password_file');
    await writeFile(file, `anna:${mosquittoHash(password, iterations)}\n`);
    const m = await startMosquitto({ passwordFile: file });
    try {
      const port = m.port;
      const ms: number[] = [];
      for (let i = 0; i < 20; i++) ms.push((await rawConnect({ port, clientId: `m${i}`, username: 'anna', password })).ms);
      const t0 = performance.now();
      let n = 0;
      for (; performance.now() - t0 < 1000; n++) await rawConnect({ port, clientId: `w${n}`, username: 'anna', password: 'wrong-password' });
      const g0 = performance.now();
      let guesses = 0;
      for (; performance.now() - g0 < 300; guesses++) pbkdf2Sync(`guess${guesses}`, 'saltsaltsalt', iterations, 64, 'sha512');
      console.log(`mosquitto-login-ms-at-${iterations}-iterations: ${quantile(ms, 0.5).toFixed(1)} ms (p50 of 20; ${n} wrong logins/s one after another)   attacker: ${Math.round((guesses * 1000) / (performance.now() - g0))} guesses/s per core`);
    } finally {
      await m.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'hub') await hubChild(args[0]!, args[1] === 'tls');
else if (mode === 'login-flood') await loginFloodChild(Number(args[0]), args[1]!, Number(args[2]), Number(args[3]));
else if (mode === 'sync-flood') await syncFloodChild(args[0]!, args[1]!, args[2]!, args[3]!, Number(args[4]), Number(args[5]), args[6] === 'own');
else {
  if (!mode || mode === 'login') await loginFlood();
  if (!mode || mode === 'silent') await silentTls();
  if (!mode || mode === 'sync') await syncFlood(false);
  // The same flood naming the connection's own client id (the only one the hub answers now).
  if (!mode || mode === 'sync' || mode === 'sync-own') await syncFlood(true);
  if (!mode || mode === 'mosquitto') await mosquittoLogins();
}
