// The hub and its agents on a real 3-node NATS 2.9.10 cluster (issue #22): the hub publishes through
// the nodes' MQTT gateways with the authorization `callpop hub nats-files` writes, agent anna (117)
// starts on node 2, bob (204) on node 3. Checked here: isolation under the generated permissions; a
// sync request naming a client id with `.` (which NATS 2.9 closes the publisher's connection for)
// neither knocks the hub off nor stops the others' calls; kill -9 of the hub's node, an agent's node
// and the node leading the MQTT message stream, each while calls flow: every acknowledged call
// reaches each agent exactly once and every agent is back (connected, caught up; bounded wait, the time
// it takes is bench/cluster.ts's kill matrix); and a
// hub whose node died with it (its will lost) shows as offline through the heartbeat.
// The cluster starts once for the file (~10 s); the kill cases restart the node they kill.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { CallRecord } from '../../shared/call-record';
import { topics } from '../../shared/hub-protocol';
import { asExpected, findSeedFlow, flowExpectations, flowRequests } from '../../shared/webhook/seed-flows';
import { addAgent, hubUserName } from '../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../main/core/hub/hub';
import { hubBrokerPassword } from '../../main/core/hub/broker/mosquitto-files';
import { writeNatsFiles } from '../../main/core/hub/broker/nats-files';
import { enableNatsHashes } from '../../main/core/hub/accounts/nats-hash';
import { HubClient, type HubCallUpdate, type HubClientStatus } from '../../main/core/hub-client/hub-client';
import { sendWebhook } from '../../main/core/listener/test-call';
import { natsAvailable, startNatsCluster, type RunningNatsCluster } from '../support/nats-cluster';
import { collect, sleep, until } from './hub-helpers';

const secret = 'clustersecret_0123456789AB';
/**
 * How long agents get to be back after a kill. The target is 15 s (bench/cluster.ts measures
 * it: the kill matrix); on a loaded 2-core machine NATS alone can take longer to elect new stream
 * leaders, so the test asserts that they come back with everything, bounded, not how fast.
 */
const BACK_MS = 75_000;
const dirs: string[] = [];
const tempDir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), 'callpop-nats-test-'));
  dirs.push(d);
  return d;
};
const logs: string[] = [];
/** Every line also kept with its time and who said it, for the CALLPOP_DEBUG dump of a failed run. */
const trace: string[] = [];
const loggerFor = (who: string) => {
  const note = (m: string): void => {
    if (who === 'hub') logs.push(m);
    trace.push(`${new Date().toISOString().slice(11, 23)} ${who}: ${m}`);
  };
  return { debug() {}, info: note, warn: note, error: note };
};
const logger = loggerFor('hub');
const mark = loggerFor('test').info;

interface Agent {
  name: string;
  ext: string;
  password: string;
  /** Index of the node it starts on. */
  node: number;
  client: HubClient;
  live: HubCallUpdate[];
  statuses: HubClientStatus[];
}

let cluster: RunningNatsCluster;
let hubDir = '';
let hubPassword = '';
let hub: Hub;
const agents: Agent[] = [];
let stampCounter = 0;
const nextStamp = (): string => `2612071${String(++stampCounter).padStart(5, '0')}`;

/** The cluster's URLs starting at node i (a client's failover order). */
const from = (i: number): string[] => [...cluster.mqttUrls.slice(i), ...cluster.mqttUrls.slice(0, i)];

const startOurHub = (urls: string[], heartbeatMs = 1000): Promise<Hub> =>
  startHub({ dataDir: hubDir, host: '127.0.0.1', port: 0, broker: { kind: 'external', url: urls, username: hubUserName, password: hubPassword }, secret, tickMs: 60_000, agentsPollMs: 100, heartbeatMs, logger });

const ready = (a: Agent): boolean => {
  const s = a.client.currentStatus();
  return s.state === 'connected' && s.synced;
};

/** Posts a flow for one extension; every webhook must be acknowledged (200). */
async function play(flowName: string, ext: string, stamp: string): Promise<void> {
  for (const r of flowRequests(findSeedFlow(flowName)!, { freshIds: { stamp }, extension: ext })) {
    const res = await sendWebhook(hub.webhookUrl, r);
    expect(res.status, `hub answered ${res.status}`).toBe(200);
  }
}

const withStamp = (a: Agent, stamp: string): CallRecord[] => [...a.client.store.iterate({})].filter((r) => r.id.startsWith(stamp));

/** Each acknowledged flow's record is in the agent's log as the flow expects it, exactly once (bounded wait). */
async function expectDelivered(a: Agent, flowName: string, stamps: readonly string[], ms = BACK_MS): Promise<void> {
  const flow = findSeedFlow(flowName)!;
  const want = (stamp: string) => flowExpectations(flow, { freshIds: { stamp }, extension: a.ext })[a.ext]!;
  const done = (): boolean => stamps.every((s) => withStamp(a, s).length === 1 && JSON.stringify(asExpected(withStamp(a, s)[0]!)) === JSON.stringify(want(s)));
  await until(done, `${a.name}'s calls ${stamps.join(', ')}`, ms).catch(() => {});
  for (const s of stamps) expect(withStamp(a, s).map(asExpected), `${a.name} ${s}`).toEqual([want(s)]);
}

/** No hub change reached an agent twice live (QoS-1 resends across a failover are not shown twice). */
function expectNoDoubles(a: Agent): void {
  const seqs = a.live.filter((u) => !u.backfill).map((u) => u.seq);
  expect(seqs.length - new Set(seqs).size, `${a.name}: live changes seen twice`).toBe(0);
}

describe.skipIf(!natsAvailable)('hub on a 3-node NATS cluster', () => {
  beforeAll(async () => {
    hubDir = await tempDir();
    const specs = [
      { name: 'anna', ext: '117', node: 1 },
      { name: 'bob', ext: '204', node: 2 },
    ];
    const passwords = new Map<string, string>();
    await enableNatsHashes(hubDir);
    for (const s of specs) passwords.set(s.name, (await addAgent(hubDir, { name: s.name, extensions: [s.ext], displayName: s.name })).password);
    const files = await writeNatsFiles(hubDir, join(hubDir, 'nats'), 'default');
    hubPassword = (await hubBrokerPassword(hubDir)).password;
    cluster = await startNatsCluster({ authorizationFile: files.file, probe: { username: hubUserName, password: hubPassword } });
    hub = await startOurHub(from(0));
    for (const s of specs) {
      const client = await HubClient.start({ dataDir: await tempDir(), url: from(s.node), user: s.name, password: passwords.get(s.name)!, extension: s.ext, reconnect: { initialMs: 200, maxMs: 2000 }, syncTimeoutMs: 3000, logger: loggerFor(s.name) });
      const a: Agent = { ...s, password: passwords.get(s.name)!, client, live: [], statuses: [] };
      client.onUpdates((u) => a.live.push(...u));
      client.onStatus((st) => {
        a.statuses.push(st);
        trace.push(`${new Date().toISOString().slice(11, 23)} ${s.name}: status ${JSON.stringify(st)}`);
      });
      agents.push(a);
    }
    await until(() => agents.every(ready), 'every agent connected and caught up', 30_000);
  }, 90_000);

  afterAll(async () => {
    // CALLPOP_DEBUG=DIR: each node's output and the timed trace of hub, agents and test steps go to DIR.
    const debugDir = process.env.CALLPOP_DEBUG;
    if (debugDir) {
      for (let i = 0; i < 3; i++) await writeFile(join(debugDir, `node-${i}.log`), cluster.output(i));
      await writeFile(join(debugDir, 'trace.log'), `${trace.join('\n')}\n`);
    }
    for (const a of agents) await a.client.close();
    await hub?.close();
    await cluster?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const [annaIdx, bobIdx] = [0, 1];
  const anna = (): Agent => agents[annaIdx]!;
  const bob = (): Agent => agents[bobIdx]!;
  const raws: MqttClient[] = [];
  afterAll(async () => {
    for (const r of raws) await r.endAsync(true).catch(() => {});
  });

  it('isolates agents with the generated permissions: no wildcards, no other extension, no NATS internals', async () => {
    const raw = await mqtt.connectAsync(cluster.mqttUrls[1]!, { username: 'anna', password: anna().password, clientId: 'raw-anna', reconnectPeriod: 0, protocolVersion: 4 });
    raws.push(raw);
    const got = collect(raw);
    const granted = async (filter: string): Promise<number> => (await raw.subscribeAsync(filter, { qos: 1 }))[0]!.qos;
    expect(await granted(topics.extensionTree('default', '117'))).toBe(1);
    for (const f of ['#', 'callpop/#', topics.extensionTree('default', '204'), '$MQTT/msgs/#', '$MQTT/sub/#', '$JS/API/#', 'callpop/v1/other/ext/117/#']) {
      expect([f, await granted(f).catch(() => 128)]).toEqual([f, 128]);
    }
    const stamp = nextStamp();
    await play('incoming-missed', '204', stamp);
    await expectDelivered(bob(), 'incoming-missed', [stamp]);
    await sleep(300);
    expect(got.filter((m) => !m.topic.startsWith('callpop/v1/default/ext/117/'))).toEqual([]);
    // A forged call for bob, published by anna, is refused (NATS closes her raw connection) and reaches no one.
    await raw.publishAsync(topics.calls('default', '204'), '{"forged":true}', { qos: 1 }).catch(() => {});
    await sleep(300);
    expect(bob().live.some((u) => JSON.stringify(u).includes('forged'))).toBe(false);
  });

  it('a sync request for client id "evil.x" does not knock the hub off: it is not published, and calls keep flowing', async () => {
    const raw = await mqtt.connectAsync(cluster.mqttUrls[2]!, { username: 'anna', password: anna().password, clientId: 'raw-anna-2', reconnectPeriod: 0, protocolVersion: 4 });
    raws.push(raw);
    const lostBefore = logs.filter((l) => l.startsWith('Lost the connection to the broker')).length;
    await raw.publishAsync(topics.syncRequest('default', '117'), JSON.stringify({ v: 1, since: 0, clientId: 'evil.x', requestId: 'r1' }), { qos: 1 });
    await until(() => logs.some((l) => l.includes('Not published') || l.includes('Ignored a sync request')), 'the hub to refuse the answer');
    const stamps = [nextStamp(), nextStamp()];
    await play('incoming-answered', '117', stamps[0]!);
    await play('incoming-answered', '204', stamps[1]!);
    await expectDelivered(anna(), 'incoming-answered', [stamps[0]!]);
    await expectDelivered(bob(), 'incoming-answered', [stamps[1]!]);
    expect(logs.filter((l) => l.startsWith('Lost the connection to the broker')).length).toBe(lostBefore);
    expect(hub.brokerState).toBe('connected');
  });

  // Which node each case kills: the hub's (node 1), an agent's (anna's, node 2), and whichever leads
  // the stream that holds QoS-1 messages (it may be one of those: it is killed again then).
  const kills: { what: string; node: () => Promise<number> }[] = [
    { what: "the hub's node", node: async () => 0 },
    { what: "an agent's node (anna's)", node: async () => 1 },
    { what: "the MQTT message stream's leader", node: async () => Math.max(0, await cluster.streamLeader('$MQTT_msgs')) },
  ];
  for (const k of kills) {
    it(`kill -9 of ${k.what} while calls flow: nothing acknowledged lost, every agent back (bounded wait)`, async () => {
      await until(() => agents.every(ready), 'every agent ready before the kill', BACK_MS);
      const node = await k.node();
      for (const a of agents) a.live.length = 0;
      const before = { anna: [nextStamp()], bob: [nextStamp()] };
      await play('incoming-answered', '117', before.anna[0]!);
      await play('incoming-missed', '204', before.bob[0]!);
      mark(`kill node ${node} (${k.what})`);
      await cluster.kill(node);
      const killedAt = Date.now();
      try {
      // Calls keep coming while the node is dead: each is acknowledged only once it is on the hub's disk.
      const during = { anna: [] as string[], bob: [] as string[] };
      for (let i = 0; i < 3; i++) {
        const [sa, sb] = [nextStamp(), nextStamp()];
        during.anna.push(sa);
        during.bob.push(sb);
        await play('incoming-answered', '117', sa);
        await play('incoming-missed', '204', sb);
        await sleep(300);
      }
      // Every agent back after the kill (the dead node still down): connected, caught up, the hub
      // heard (not offline, not silent), every acknowledged call in its log as the flow leaves it.
      const delivered = (a: Agent, flow: string, stamps: string[]): boolean => {
        const f = findSeedFlow(flow)!;
        return stamps.every((st) => withStamp(a, st).length === 1 && JSON.stringify(asExpected(withStamp(a, st)[0]!)) === JSON.stringify(flowExpectations(f, { freshIds: { stamp: st }, extension: a.ext })[a.ext]));
      };
      const all = { anna: [...before.anna, ...during.anna], bob: [...before.bob, ...during.bob] };
      await until(
        () => hub.brokerState === 'connected' && agents.every(ready) && delivered(anna(), 'incoming-answered', all.anna) && delivered(bob(), 'incoming-missed', all.bob),
        'every agent back with every call',
        Math.max(1000, BACK_MS - (Date.now() - killedAt)),
      ).catch(() => {});
      const statuses = agents.map((a) => a.client.currentStatus().state);
      await expectDelivered(anna(), 'incoming-answered', all.anna, 0);
      await expectDelivered(bob(), 'incoming-missed', all.bob, 0);
      for (const a of agents) expectNoDoubles(a);
      expect(statuses).toEqual(['connected', 'connected']);
      } finally {
        mark(`restart node ${node}`);
        await cluster.restart(node);
        mark(`node ${node} accepts logins`);
      }
    }, 200_000);
  }

  // Skipped in the previous session (in 2 of 6 runs the agents never saw the hub offline): an agent
  // that reconnected (as agents do while the cluster elects stream leaders) got the hub's last
  // heartbeat again as the retained status and took it for a new one, and its reconnect cleared what
  // it knew of the hub; and the hub, refused once by its restarting node ("server unavailable"), never
  // tried again. Both fixed, each reproduced without a cluster in hub-client-recovery.test.ts.
  it("a hub whose node dies with its session (no will) shows as offline through its heartbeat, and as back when it is", async () => {
    // The hub on node 1 only: killing node 1 cuts it off and loses its will (node 1 held its session).
    await hub.close();
    hub = await startOurHub([cluster.mqttUrls[0]!], 1000);
    await until(() => agents.every(ready), 'agents follow the new hub', BACK_MS);
    for (const a of agents) a.statuses.length = 0;
    mark('kill node 0 (the hub alone on it)');
    await cluster.kill(0);
    // Each agent says the hub is offline (not heard from) and, from then on, never that it is
    // connected to it while it is gone (reconnecting to the broker meanwhile is its own truthful state).
    const shownOffline = (a: Agent): number => a.statuses.findIndex((st) => st.state === 'hub-offline' && st.silent === true);
    await until(() => agents.every((a) => shownOffline(a) >= 0), 'agents see the hub offline', BACK_MS);
    await sleep(3000);
    for (const a of agents) expect(a.statuses.slice(shownOffline(a)).filter((st) => st.state === 'connected'), a.name).toEqual([]);
    // Calls acknowledged meanwhile are on the hub's disk and reach the agents once it is back.
    const stamp = nextStamp();
    await play('incoming-answered', '117', stamp);
    mark('restart node 0');
    await cluster.restart(0);
    mark('node 0 accepts logins');
    await until(() => agents.every(ready), 'agents see the hub back and catch up', BACK_MS);
    await expectDelivered(anna(), 'incoming-answered', [stamp]);
  }, 260_000);
});
