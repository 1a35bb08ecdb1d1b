// Issue 18 end to end: `callpop hub` with 3CX Call Control as its source, against the fake Call
// Control server (test/support/fake-3cx-call-control.ts) over real HTTP and WebSocket on loopback,
// publishing through the embedded broker to real HubClients with real call logs. Beside it, a second
// hub fed the same seed flows as WebAPI webhooks: every agent's desktop log must hold the same
// records from both (fields one source cannot know aside, see knownDifferences). Then the faults:
// a WebSocket cut mid-call, the token expiring mid-call, an unmonitored extension, a refused secret,
// 1,000 DNs in the snapshot.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../shared/call-record';
import { flowRequests, seedFlows } from '../../shared/webhook/seed-flows';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../main/core/hub/hub';
import { HubClient } from '../../main/core/hub-client/hub-client';
import { sendWebhook } from '../../main/core/listener/test-call';
import { attachCallControl } from '../../main/core/call-control/hub-source';
import type { CallControlClient } from '../../main/core/call-control/client';
import { comparable, findScenario, knownDifferences, participant } from '../support/call-control-scenarios';
import { playScenario, startFakeCallControl, waitFor, type FakeCallControl } from '../support/fake-3cx-call-control';
import { testScope } from '../support/test-scope';

const CLIENT_ID = 'callpop';
const SECRET = 'cc-secret-4f9a2b7e1d';
const extensions = ['102', '117', '202', '204'];
const { cleanups, tempDir } = testScope('callpop-cc-');

let clockMs = Date.parse('2026-12-07T09:00:00Z');
const clock = () => clockMs;

interface Side {
  hub: Hub;
  dir: string;
  clients: Map<string, HubClient>;
}

async function startSide(logs: string[]): Promise<Side> {
  const dir = await tempDir();
  const passwords = new Map<string, string>();
  for (const ext of extensions) passwords.set(ext, (await addAgent(dir, { name: `agent${ext}`, extensions: [ext], displayName: null })).password);
  const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
  const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, tickMs: 60_000, agentsPollMs: 100, now: clock, logger });
  const clients = new Map<string, HubClient>();
  for (const ext of extensions) {
    clients.set(ext, await HubClient.start({ dataDir: await tempDir(), url: hub.brokerUrl, user: `agent${ext}`, password: passwords.get(ext)!, extension: ext, reconnect: { initialMs: 50, maxMs: 300 }, syncTimeoutMs: 2000 }));
  }
  await waitFor('clients synced', () =>
    [...clients.values()].every((c) => {
      const st = c.currentStatus();
      return st.state === 'connected' && st.synced;
    }),
  );
  return { hub, dir, clients };
}

describe('the hub on 3CX Call Control gives every agent the same records as the webhook path', () => {
  let fake: FakeCallControl;
  let web: Side;
  let cc: Side;
  let client: CallControlClient;
  const ccLogs: string[] = [];

  beforeAll(async () => {
    fake = await startFakeCallControl({ clients: { [CLIENT_ID]: SECRET }, dns: Object.fromEntries(extensions.map((e) => [e, 'Wextension'])), now: clock });
    web = await startSide([]);
    cc = await startSide(ccLogs);
    const logger = { debug() {}, info: (m: string) => ccLogs.push(m), warn: (m: string) => ccLogs.push(m), error: (m: string) => ccLogs.push(m) };
    client = await attachCallControl(cc.hub, { dataDir: cc.dir, pbx: new URL(fake.url), clientId: CLIENT_ID, clientSecret: SECRET, logger, now: clock, tickMs: 20, backoff: { initialMs: 20, maxMs: 200 } });
    await client.ready;
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    for (const side of [web, cc]) {
      if (!side) continue;
      for (const c of side.clients.values()) await c.close();
      await side.hub.close();
    }
    await fake?.close();
  });

  it('says it is connected and how many extensions it monitors; the secret appears in no log line', () => {
    expect(ccLogs).toContain(`Connected to 3CX Call Control at ${fake.url}, monitoring 4 extensions`);
    expect(ccLogs.join('\n')).not.toContain(SECRET);
  });

  const recordsOf = (side: Side, ext: string, ids: (id: string) => boolean) => [...side.clients.get(ext)!.store.iterate({})].filter((r) => ids(r.id));

  it.each(seedFlows.map((f) => [f.name, f] as const))('%s', async (name, flow) => {
    const base = clockMs + 3_600_000;
    // The webhook side: the seed's webhooks POSTed to the hub, fresh ids.
    const stamp = `26120710${String(seedFlows.indexOf(flow)).padStart(4, '0')}`;
    for (const raw of flowRequests(flow, { freshIds: { stamp }, validJson: true })) {
      clockMs += 1000;
      expect((await sendWebhook(web.hub.webhookUrl, raw)).status).toBe(200);
    }
    // The Call Control side: the scenario played on the fake PBX, callids made unique per run.
    const scenario = findScenario(name);
    const offset = 100_000 + seedFlows.indexOf(flow) * 100;
    const steps = scenario.steps.map((s) =>
      'upsert' in s ? { ...s, upsert: { ...s.upsert, callid: s.upsert.callid + offset, id: s.upsert.id + offset * 100 } } : { ...s, remove: { ...s.remove, id: s.remove.id + offset * 100 } },
    );
    await playScenario(fake, client, steps, (sec) => (clockMs = base + sec * 1000));
    clockMs += 60_000; // ring ends settle
    const ccIds = new Set(steps.flatMap((s) => ('upsert' in s ? [`cc${s.upsert.callid}`] : [])));
    // The webhook side's desktops first: every involved extension has its ended record.
    const webIds = (id: string) => id.startsWith(stamp.slice(0, 12));
    await waitFor(`${name}: the webhook side's records`, () =>
      Object.keys(flow.expected).every((ext) => {
        const rs = recordsOf(web, ext, webIds);
        return rs.length === 1 && rs[0]!.status === 'ended';
      }),
    );
    const involved = extensions.filter((ext) => recordsOf(web, ext, webIds).length > 0);
    expect(involved).toEqual(Object.keys(flow.expected).sort());
    for (const ext of extensions) {
      const want = recordsOf(web, ext, (id) => id.startsWith(stamp.slice(0, 12)));
      await waitFor(`${name}: ${ext}'s Call Control records`, () => {
        const got = recordsOf(cc, ext, (id) => ccIds.has(id));
        return got.length === want.length && got.every((r) => r.status === 'ended');
      });
      const got = recordsOf(cc, ext, (id) => ccIds.has(id));
      const skip = knownDifferences[name]?.[ext] ?? [];
      expect(got.map((r) => comparable(r, skip)), `${name} ${ext}`).toEqual(want.map((r) => comparable(r, skip)));
    }
    expect(involved.length).toBeGreaterThan(0);
  });

  it('the WebSocket cut mid-call: the call that ended meanwhile ends with what was last known, one that began is created', async () => {
    const talking = participant({ id: 7001, dn: '117', status: 'Connected', callid: 7000, callerId: '05550001111' });
    fake.upsert(participant({ id: 7001, dn: '117', status: 'Ringing', callid: 7000, callerId: '05550001111' }));
    await waitFor('ringing', () => client.participant('117', 7001)?.status === 'Ringing');
    clockMs += 2000;
    fake.upsert(talking);
    await waitFor('connected', () => client.participant('117', 7001)?.status === 'Connected');
    const connects = fake.requests.filter((r) => r.method === 'UPGRADE' && r.status === 101).length;
    fake.dropWebSockets();
    // While we are away: the call ends, another begins.
    fake.remove('117', 7001);
    fake.upsert(participant({ id: 7101, dn: '204', status: 'Ringing', callid: 7100, callerId: '05550002222' }));
    clockMs += 10_000;
    await waitFor('reconnected', () => fake.requests.filter((r) => r.method === 'UPGRADE' && r.status === 101).length > connects && client.participant('204', 7101) !== undefined);
    const rec = () => recordsOf(cc, '117', (id) => id === 'cc7000')[0];
    await waitFor('117 ended', () => rec()?.status === 'ended');
    expect(rec()).toMatchObject({ result: 'answered', number: '05550001111', durationSec: 10 });
    await waitFor('204 ringing', () => recordsOf(cc, '204', (id) => id === 'cc7100')[0]?.status === 'ringing');
    fake.remove('204', 7101);
    await waitFor('removed', () => client.participant('204', 7101) === undefined);
    clockMs += 10_000;
    await waitFor('204 missed', () => recordsOf(cc, '204', (id) => id === 'cc7100')[0]?.result === 'missed');
  });

  it('the token expiring mid-call: a fresh token is fetched once, never the expired one again, and the call completes', async () => {
    fake.upsert(participant({ id: 7201, dn: '202', status: 'Ringing', callid: 7200, callerId: '05550003333' }));
    await waitFor('ringing', () => client.participant('202', 7201)?.status === 'Ringing');
    const issued = fake.tokensIssued;
    const refusedBefore = fake.requests.filter((r) => r.status === 401).length;
    fake.expireTokens();
    clockMs += 3000;
    fake.upsert(participant({ id: 7201, dn: '202', status: 'Connected', callid: 7200, callerId: '05550003333' }));
    await waitFor('connected after expiry', () => client.participant('202', 7201)?.status === 'Connected');
    clockMs += 5000;
    fake.remove('202', 7201);
    const rec = () => recordsOf(cc, '202', (id) => id === 'cc7200')[0];
    await waitFor('ended', () => rec()?.status === 'ended');
    expect(rec()).toMatchObject({ result: 'answered', durationSec: 5 });
    // One 401 (the entity GET with the expired token), one new token; no loop.
    expect(fake.requests.filter((r) => r.status === 401).length - refusedBefore).toBe(1);
    expect(fake.tokensIssued - issued).toBe(1);
    // The new token revoked the old one, so the WebSocket reconnected with the new token and works.
    await waitFor('a WebSocket again', () => fake.sockets === 1);
    fake.upsert(participant({ id: 7301, dn: '202', status: 'Ringing', callid: 7300, callerId: '05550004444' }));
    await waitFor('events flow again', () => recordsOf(cc, '202', (id) => id === 'cc7300').length === 1);
    fake.remove('202', 7301);
  });
});

describe('setup faults', () => {
  it('an agent extension the API client does not monitor gets a warning saying what to tick; a refused secret says so without showing it', async () => {
    const fake = await startFakeCallControl({ clients: { [CLIENT_ID]: SECRET }, dns: { '117': 'Wextension' } });
    cleanups.push(() => fake.close());
    const dir = await tempDir();
    await addAgent(dir, { name: 'anna', extensions: ['117'], displayName: null });
    await addAgent(dir, { name: 'bob', extensions: ['999'], displayName: null });
    const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, tickMs: 60_000 });
    cleanups.push(() => hub.close());
    const logs: string[] = [];
    const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(`warn: ${m}`), error: (m: string) => logs.push(`error: ${m}`) };
    const ok = await attachCallControl(hub, { dataDir: dir, pbx: new URL(fake.url), clientId: CLIENT_ID, clientSecret: SECRET, logger });
    cleanups.push(() => ok.close());
    await ok.ready;
    expect(logs).toContain(`Connected to 3CX Call Control at ${fake.url}, monitoring 1 extension`);
    expect(logs.filter((l) => l.includes('is not monitored'))).toEqual([
      `warn: Extension 999 is not monitored by the 3CX API client "${CLIENT_ID}": its calls will not appear. In the Admin Console → Integrations → API → ${CLIENT_ID}, add 999 to the extensions to monitor.`,
    ]);
    await ok.close();

    logs.length = 0;
    const bad = await attachCallControl(hub, { dataDir: dir, pbx: new URL(fake.url), clientId: CLIENT_ID, clientSecret: 'wrong-secret-xyz', logger, backoff: { initialMs: 10_000 } });
    cleanups.push(() => bad.close());
    await waitFor('refused', () => bad.state === 'refused');
    expect(logs.find((l) => l.startsWith('error: '))).toMatch(/3CX refused the API client "callpop" \(HTTP 401\)/);
    expect(logs.join('\n')).not.toContain('wrong-secret-xyz');
  });

  it('a hub restarted mid-call: a ring that ended while it was down is missed once, a talk still going is not announced again and ends with its whole talk time', async () => {
    let now = Date.parse('2026-12-07T11:00:00Z');
    const fake = await startFakeCallControl({ clients: { [CLIENT_ID]: SECRET }, dns: { '117': 'Wextension', '204': 'Wextension' } });
    cleanups.push(() => fake.close());
    const dir = await tempDir();
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const run = async () => {
      const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, tickMs: 60_000, now: () => now, logger: quiet });
      const changes: string[] = [];
      const records = new Map<string, CallRecord>();
      hub.onChange((cs) => {
        for (const c of cs) {
          changes.push(`${c.record.id} ${c.change}`);
          records.set(c.record.id, c.record);
        }
      });
      const cc = await attachCallControl(hub, { dataDir: dir, pbx: new URL(fake.url), clientId: CLIENT_ID, clientSecret: SECRET, logger: quiet, now: () => now, tickMs: 20, ringEndGraceMs: 100 });
      await cc.ready;
      const stop = async () => {
        await cc.close();
        await hub.close();
      };
      cleanups.push(stop);
      return { hub, cc, changes, records, stop };
    };
    let h = await run();
    fake.upsert(participant({ id: 8001, dn: '117', status: 'Ringing', callid: 8000, callerId: '05550005555' }));
    fake.upsert(participant({ id: 8101, dn: '204', status: 'Ringing', callid: 8100, callerId: '05550006666' }));
    await waitFor('both ringing', () => h.cc.participant('204', 8101) !== undefined && h.cc.participant('117', 8001) !== undefined);
    now += 2000;
    fake.upsert(participant({ id: 8101, dn: '204', status: 'Connected', callid: 8100, callerId: '05550006666' }));
    await waitFor('204 talking', () => h.changes.includes('cc8100 answered'));
    await h.hub.flush();
    await h.stop();
    // Down for a minute: 117's caller gives up, 204 goes on talking.
    fake.remove('117', 8001);
    now += 60_000;
    h = await run();
    // The ring's end waits out the grace (a hunt may still reach another phone): let the clock run.
    await waitFor('117 missed after the restart', () => ((now += 10), h.changes.includes('cc8000 missed')));
    now += 30_000;
    fake.remove('204', 8101);
    await waitFor('204 ended', () => h.changes.includes('cc8100 ended'));
    await h.hub.flush();
    expect(h.changes).toEqual(['cc8000 missed', 'cc8100 ended']);
    expect(h.hub.openCalls()).toEqual([]);
    expect(h.records.get('cc8100')).toMatchObject({ status: 'ended', result: 'answered', durationSec: 90 });
    expect(h.records.get('cc8000')).toMatchObject({ status: 'ended', result: 'missed' });
  });

  it('1,000 DNs in the snapshot, 200 of them with a ringing call: all monitored, every call created for its agent', async () => {
    const dns: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) dns[String(3000 + i)] = 'Wextension';
    const fake = await startFakeCallControl({ clients: { [CLIENT_ID]: SECRET }, dns });
    cleanups.push(() => fake.close());
    for (let i = 0; i < 200; i++) fake.upsert(participant({ id: 50_000 + i, dn: String(3000 + i * 5), status: 'Ringing', callid: 60_000 + i, callerId: `0555${String(i).padStart(6, '0')}` }));
    const dir = await tempDir();
    const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, tickMs: 60_000 });
    cleanups.push(() => hub.close());
    const logs: string[] = [];
    const created = new Set<string>();
    hub.onChange((changes) => {
      for (const c of changes) if (c.change === 'ringing') created.add(`${c.record.extension}/${c.record.id}`);
    });
    const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    const cc = await attachCallControl(hub, { dataDir: dir, pbx: new URL(fake.url), clientId: CLIENT_ID, clientSecret: SECRET, logger });
    cleanups.push(() => cc.close());
    await cc.ready;
    expect(logs).toContain(`Connected to 3CX Call Control at ${fake.url}, monitoring 1000 extensions`);
    await waitFor('200 ringing calls', () => created.size === 200);
    expect(created.has('3995/cc60199')).toBe(true);
  });
});
