// The hub on a 3-node NATS 2.9.10 cluster (Debian's nats-server on loopback, JetStream clustered, the
// MQTT gateway on each node, the permissions `callpop hub nats-files` writes) beside the embedded
// broker, in the same run: the popup latency (webhook POST → the ringing record in the agent's
// HubClient; the hub on node 1, the agent on node 2), how long a new subscriber waits for the retained
// open list, and the kill matrix: kill -9 of the hub's node, an agent's node and the node leading the
// MQTT message stream, each while a call is posted every 500 ms, timing how long until every agent is
// connected, caught up and has a call posted after the kill, and counting acknowledged calls that
// never arrived (must be 0).
//
//   node --import tsx bench/cluster.ts        (npm run bench -- cluster; ~2 min, needs nats-server)
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { agentClientId, topics } from '../shared/hub-protocol';
import { addAgent, hubUserName } from '../main/core/hub/accounts/agents';
import { startHub, type BrokerConfig, type Hub } from '../main/core/hub/hub';
import { hubBrokerPassword } from '../main/core/hub/broker/mosquitto-files';
import { writeNatsFiles } from '../main/core/hub/broker/nats-files';
import { enableNatsHashes } from '../main/core/hub/accounts/nats-hash';
import { HubClient } from '../main/core/hub-client/hub-client';
import { sendWebhook } from '../main/core/listener/test-call';
import { natsAvailable, startNatsCluster, type RunningNatsCluster } from '../test/support/nats-cluster';

const samples = Number(process.env.BENCH_CLUSTER_SAMPLES ?? 200);
const retainedSamples = Number(process.env.BENCH_CLUSTER_RETAINED_SAMPLES ?? 10);
const secret = 'benchclustersecret_0123456789';
const dirs: string[] = [];
const tempDir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'callpop-bench-cluster-'));
  dirs.push(d);
  return d;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** BENCH_CLUSTER_LOG=FILE: the hub's and agents' log lines, timed, to see where a slow recovery went. */
const traceFile = process.env.BENCH_CLUSTER_LOG;
const loggerFor = (who: string) => {
  const note = (m: string): void => {
    if (traceFile) appendFileSync(traceFile, `${new Date().toISOString().slice(11, 23)} ${who}: ${m}\n`);
  };
  return { debug() {}, info: note, warn: note, error: note };
};
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

let serial = 0;
const callId = (): string => `2612079${String(++serial).padStart(5, '0')}_1`;
const ringing = (ext: string, id: string): string => JSON.stringify({ Event: 'ringing', Callerid: '05551230000', User: ext, Usertype: 'ext', Did: '', Id: id });
const missedEnd = (ext: string, id: string): string => JSON.stringify({ Event: 'incoming', Callerid: '05551230000', User: ext, Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: id });
const post = async (hub: Hub, body: string): Promise<boolean> => (await sendWebhook(hub.webhookUrl, { method: 'POST', query: '', body, contentType: 'application/json' })).status === 200;

interface Setup {
  hub: Hub;
  agents: { ext: string; client: HubClient; seen: Set<string> }[];
  /** MQTT URL and login of an agent, for the retained-open probe. */
  probe: { url: string; user: string; password: string; ext: string };
}

async function setUp(broker: BrokerConfig, agentUrls: (i: number) => string | string[], hubDir: string, passwords: string[], probeUrl: string): Promise<Setup> {
  const hub = await startHub({ dataDir: hubDir, host: '127.0.0.1', port: 0, broker, secret, tickMs: 60_000, heartbeatMs: 1000, logger: loggerFor('hub') });
  const agents: Setup['agents'] = [];
  for (let i = 0; i < passwords.length; i++) {
    const ext = String(117 + i);
    const client = await HubClient.start({ dataDir: await tempDir(), url: agentUrls(i), user: `agent${ext}`, password: passwords[i]!, extension: ext, reconnect: { initialMs: 200, maxMs: 2000 }, syncTimeoutMs: 3000, logger: loggerFor(`agent${ext}`) });
    client.onStatus((st) => loggerFor(`agent${ext}`).info(`status ${JSON.stringify(st)}`));
    const seen = new Set<string>();
    client.onUpdates((us) => {
      for (const u of us) seen.add(u.record.id);
    });
    agents.push({ ext, client, seen });
  }
  const ok = await until(() => agents.every((a) => ready(a.client)), 60_000);
  if (!ok) throw new Error('agents did not connect');
  return { hub, agents, probe: { url: probeUrl, user: 'agent117', password: passwords[0]!, ext: '117' } };
}

const ready = (c: HubClient): boolean => {
  const s = c.currentStatus();
  return s.state === 'connected' && s.synced;
};

/** Webhook POST → ringing record in agent 0's client, `samples` times (each call then ended). */
async function popupLatency(s: Setup): Promise<number[]> {
  const a = s.agents[0]!;
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = callId();
    let at = 0;
    const off = a.client.onUpdates((us) => {
      if (!at && us.some((u) => u.record.id === id && u.change === 'ringing')) at = performance.now();
    });
    const t0 = performance.now();
    await post(s.hub, ringing(a.ext, id));
    await until(() => at > 0, 10_000);
    off();
    if (at) ms.push(at - t0);
    await post(s.hub, missedEnd(a.ext, id));
  }
  return ms;
}

/** A new subscriber's wait for the retained open list (MQTT connect excluded). */
async function retainedOpen(s: Setup): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < retainedSamples; i++) {
    const c = await connectAsync(s.probe.url, { username: s.probe.user, password: s.probe.password, clientId: agentClientId(s.probe.user, `probe${i}`), reconnectPeriod: 0, protocolVersion: 4 });
    let at = 0;
    c.on('message', (t) => {
      if (t === topics.open('default', s.probe.ext) && !at) at = performance.now();
    });
    const t0 = performance.now();
    await c.subscribeAsync(topics.open('default', s.probe.ext), { qos: 0 });
    await until(() => at > 0, 10_000);
    if (at) ms.push(at - t0);
    await c.endAsync(true);
  }
  return ms;
}

async function tearDown(s: Setup): Promise<void> {
  for (const a of s.agents) await a.client.close();
  await s.hub.close();
}

async function hubDirWithAgents(n: number): Promise<{ dir: string; passwords: string[] }> {
  const dir = await tempDir();
  await enableNatsHashes(dir);
  const passwords: string[] = [];
  for (let i = 0; i < n; i++) passwords.push((await addAgent(dir, { name: `agent${117 + i}`, extensions: [String(117 + i)], displayName: null })).password);
  return { dir, passwords };
}

/** kill -9 node `node` while a call (to every agent) is posted every 500 ms; seconds until every agent is back with a call posted after the kill, and acknowledged calls never seen. */
async function killRecovery(s: Setup, cluster: RunningNatsCluster, node: number): Promise<{ sec: number; lost: number }> {
  await until(() => s.agents.every((a) => ready(a.client)), 60_000);
  const acked: { ext: string; id: string }[] = [];
  let posting = true;
  const poster = (async () => {
    while (posting) {
      for (const a of s.agents) {
        const id = callId();
        if (await post(s.hub, ringing(a.ext, id))) acked.push({ ext: a.ext, id });
        await post(s.hub, missedEnd(a.ext, id));
      }
      await sleep(500);
    }
  })();
  await sleep(600);
  const t0 = performance.now();
  loggerFor('bench').info(`kill node ${node}`);
  await cluster.kill(node);
  const firstAfter = acked.length;
  // Back: connected, caught up, and holding a call posted after the kill.
  const back = await until(() => acked.length > firstAfter + s.agents.length && s.agents.every((a) => ready(a.client) && acked.slice(firstAfter).some((c) => c.ext === a.ext && a.seen.has(c.id))), 120_000);
  const sec = back ? (performance.now() - t0) / 1000 : NaN;
  loggerFor('bench').info(back ? `every agent back after ${sec.toFixed(1)} s` : 'not back');
  posting = false;
  await poster;
  // Anything acknowledged must arrive (live or through the catch-up); give it the same bound.
  const missing = (): number => acked.filter((c) => !s.agents.find((a) => a.ext === c.ext)!.seen.has(c.id) && !s.agents.find((a) => a.ext === c.ext)!.client.store.get(c.id)).length;
  await until(() => missing() === 0, 60_000);
  const lost = missing();
  await cluster.restart(node);
  return { sec, lost };
}

async function main(): Promise<void> {
  if (!natsAvailable) {
    console.error('bench/cluster: nats-server is not installed (apt-get install nats-server); skipped');
    return;
  }
  // The embedded broker: the reference.
  {
    const { dir, passwords } = await hubDirWithAgents(2);
    const hub0 = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, secret });
    const url = hub0.brokerUrl;
    await hub0.close();
    const port = Number(new URL(url).port);
    const s = await setUp({ kind: 'embedded', host: '127.0.0.1', port }, () => url, dir, passwords, url);
    const lat = await popupLatency(s);
    console.log(`embedded-popup-latency-p50: ${quantile(lat, 0.5).toFixed(1)} ms`);
    console.log(`embedded-popup-latency-p99: ${quantile(lat, 0.99).toFixed(1)} ms`);
    console.log(`embedded-retained-open-p50: ${quantile(await retainedOpen(s), 0.5).toFixed(1)} ms`);
    await tearDown(s);
  }
  // The cluster: hub on node 1, agents on nodes 2 and 3.
  const { dir, passwords } = await hubDirWithAgents(2);
  const files = await writeNatsFiles(dir, join(dir, 'nats'), 'default');
  const hubPassword = (await hubBrokerPassword(dir)).password;
  const cluster = await startNatsCluster({ authorizationFile: files.file, probe: { username: hubUserName, password: hubPassword } });
  try {
    const from = (i: number): string[] => [...cluster.mqttUrls.slice(i), ...cluster.mqttUrls.slice(0, i)];
    const s = await setUp({ kind: 'external', url: from(0), username: hubUserName, password: hubPassword }, (i) => from(1 + i), dir, passwords, cluster.mqttUrls[1]!);
    const lat = await popupLatency(s);
    console.log(`cluster-popup-latency-p50: ${quantile(lat, 0.5).toFixed(1)} ms`);
    console.log(`cluster-popup-latency-p99: ${quantile(lat, 0.99).toFixed(1)} ms`);
    console.log(`cluster-retained-open-p50: ${quantile(await retainedOpen(s), 0.5).toFixed(1)} ms`);
    const matrix: [string, () => Promise<number>][] = [
      ['hub-node', async () => 0],
      ['agent-node', async () => 1],
      ['stream-leader', async () => Math.max(0, await cluster.streamLeader('$MQTT_msgs'))],
    ];
    for (const [name, which] of matrix) {
      const node = await which();
      const r = await killRecovery(s, cluster, node);
      console.log(`cluster-kill-${name}-recovery: ${r.sec.toFixed(1)} s`);
      console.log(`cluster-kill-${name}-lost: ${r.lost} calls`);
    }
    await tearDown(s);
  } finally {
    await cluster.stop();
  }
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true, maxRetries: 5 }).catch(() => {});
  });
