// Issue 18 §2 over the hub: an agent's desktop (a real HubClient) asks the hub to act on its own calls
// on `…/ext/{ext}/actions/req` and gets the answer on `…/actions/res/{clientId}`. With Call Control
// the fake PBX records exactly what was asked (makecall on the agent's DN, drop/transferto/answer on
// its participant); the hub refuses another extension's call, a destination outside --dial-allow, too
// many requests, and passes a PBX refusal on in words. With the WebAPI source, Call back goes to the
// add-on's MakeCall and the rest is "not supported by this source". The broker keeps an agent off
// another extension's request topic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { agentClientId, topics } from '../../shared/hub-protocol';
import { silentLogger } from '../../shared/diagnostics-log';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../main/core/hub/hub';
import { HubClient } from '../../main/core/hub-client/hub-client';
import { attachCallControl } from '../../main/core/call-control/hub-source';
import { callControlExecutor, parseDialAllow, startHubActions, webApiExecutor } from '../../main/core/call-control/hub-actions';
import type { CallControlClient } from '../../main/core/call-control/client';
import { participant } from '../support/call-control-scenarios';
import { startFakeCallControl, waitFor, type FakeCallControl } from '../support/fake-3cx-call-control';

const later: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of later.splice(0).reverse()) await c().catch(() => {});
});

async function hubWithAgents(): Promise<{ hub: Hub; dir: string; passwords: Map<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'callpop-cc-actions-'));
  later.push(() => rm(dir, { recursive: true, force: true }));
  const passwords = new Map<string, string>();
  for (const ext of ['117', '204']) passwords.set(ext, (await addAgent(dir, { name: `agent${ext}`, extensions: [ext], displayName: null })).password);
  const hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, tickMs: 60_000 });
  later.push(() => hub.close());
  return { hub, dir, passwords };
}

async function agentClient(hub: Hub, ext: string, password: string): Promise<HubClient> {
  const dir = await mkdtemp(join(tmpdir(), 'callpop-cc-actions-pc-'));
  later.push(() => rm(dir, { recursive: true, force: true }));
  const c = await HubClient.start({ dataDir: dir, url: hub.brokerUrl, user: `agent${ext}`, password, extension: ext, reconnect: { initialMs: 50, maxMs: 300 } });
  later.push(() => c.close());
  await waitFor('synced', () => {
    const s = c.currentStatus();
    return s.state === 'connected' && s.synced;
  });
  return c;
}

describe('actions with the Call Control source', () => {
  let fake: FakeCallControl;
  let hub: Hub;
  let cc: CallControlClient;
  let anna: HubClient;
  let passwords: Map<string, string>;
  const logs: string[] = [];

  beforeAll(async () => {
    fake = await startFakeCallControl({ clients: { callpop: 's3cret-actions' }, dns: { '117': 'Wextension', '204': 'Wextension' } });
    later.push(() => fake.close());
    const h = await hubWithAgents();
    hub = h.hub;
    passwords = h.passwords;
    const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    cc = await attachCallControl(hub, { dataDir: h.dir, pbx: new URL(fake.url), clientId: 'callpop', clientSecret: 's3cret-actions', logger: silentLogger });
    later.push(() => cc.close());
    await cc.ready;
    startHubActions(hub, { site: 'default', executor: callControlExecutor(cc), logger, dialAllow: parseDialAllow('0[0-9]{6,15}|[0-9]{3}'), perMinute: 8 });
    anna = await agentClient(hub, '117', passwords.get('117')!);
  }, 30_000);

  it('Call back dials from the agent’s own DN (makecall), and the new call reaches her as dialing', async () => {
    const r = await anna.requestAction('call', { destination: '05551239988' });
    expect(r).toMatchObject({ ok: true });
    expect(fake.actions.at(-1)).toMatchObject({ dn: '117', action: 'makecall', body: { destination: '05551239988' }, clientId: 'callpop' });
    await waitFor('the dialing call in her log', () => [...anna.store.iterate({})].some((c) => c.direction === 'outgoing' && c.number === '05551239988'));
    expect(logs.some((l) => /^Action by extension 117: call to 055…88: done$/.test(l))).toBe(true);
  });

  it('Hang up and Transfer act on her participant; Answer only where the phone allows it', async () => {
    fake.upsert(participant({ id: 81, dn: '117', status: 'Connected', callid: 8100, callerId: '05550008100' }));
    await waitFor('known', () => cc.participant('117', 81)?.status === 'Connected');
    expect(await anna.requestAction('transfer', { callId: 'cc8100', destination: '204' })).toMatchObject({ ok: true });
    expect(fake.actions.at(-1)).toMatchObject({ dn: '117', action: 'transferto', participantId: 81, body: { destination: '204' } });
    expect(await anna.requestAction('answer', { callId: 'cc8100' })).toMatchObject({ ok: false, error: expect.stringMatching(/does not let the PBX answer/) });
    expect(await anna.requestAction('hangup', { callId: 'cc8100' })).toMatchObject({ ok: true });
    expect(fake.actions.at(-1)).toMatchObject({ dn: '117', action: 'drop', participantId: 81 });
    await waitFor('gone', () => cc.participant('117', 81) === undefined);
  });

  it('refusals in words: another extension’s call, a gone call, a number outside --dial-allow, the PBX refusing; nothing sent for the first three', async () => {
    fake.upsert(participant({ id: 91, dn: '204', status: 'Connected', callid: 9100, callerId: '05550009100' }));
    await waitFor('known', () => cc.participant('204', 91) !== undefined);
    const before = fake.actions.length;
    expect(await anna.requestAction('hangup', { callId: 'cc9100' })).toMatchObject({ ok: false, error: 'The call is gone, or it is not one of your calls.' });
    expect(await anna.requestAction('hangup', { callId: 'cc424242' })).toMatchObject({ ok: false, error: 'The call is gone, or it is not one of your calls.' });
    expect(await anna.requestAction('call', { destination: '+19005550100' })).toMatchObject({ ok: false, error: 'Calls to +19005550100 are not allowed here.' });
    expect(fake.actions.length).toBe(before);
    fake.refuseNextAction(400, 'DestinationBusy');
    expect(await anna.requestAction('call', { destination: '05550001234' })).toMatchObject({ ok: false, error: 'The PBX refused to place the call (HTTP 400: DestinationBusy).' });
    fake.remove('204', 91);
  });

  it('the broker keeps an agent off another extension’s request topic; too many requests are refused', async () => {
    const rawId = agentClientId('agent117');
    const raw = await mqtt.connectAsync(hub.brokerUrl, { username: 'agent117', password: passwords.get('117')!, clientId: rawId, protocolVersion: 4, reconnectPeriod: 0 });
    later.push(() => raw.endAsync(true));
    const before = fake.actions.length;
    await raw.publishAsync(topics.actionsRequest('default', '204'), JSON.stringify({ v: 1, clientId: rawId, requestId: 'x1', action: 'call', destination: '05550000001' }), { qos: 0 }).catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.actions.length).toBe(before);
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await anna.requestAction('call', { destination: '117' }));
    expect(results.some((r) => r.error === 'Too many requests; wait a moment and try again.')).toBe(true);
  });
});

describe('actions with the WebAPI source', () => {
  it('Call back goes to the add-on’s MakeCall with the key; the rest is not supported by this source', async () => {
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200).end('OK');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    later.push(() => new Promise<void>((r) => server.close(() => r())));
    const { hub, passwords } = await hubWithAgents();
    startHubActions(hub, { site: 'default', executor: webApiExecutor({ url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), key: 'K3yAbc' }), logger: silentLogger });
    const anna = await agentClient(hub, '117', passwords.get('117')!);
    expect(await anna.requestAction('call', { destination: '05551239988' })).toMatchObject({ ok: true });
    expect(seen).toEqual(['/webapi/K3yAbc/makecall?first=117&second=05551239988']);
    expect(await anna.requestAction('hangup', { callId: '230307114903_10' })).toMatchObject({ ok: false, error: 'Not supported by this source of calls.' });
    expect(seen).toHaveLength(1);
  });
});
