// Who may read and write what on the hub's embedded broker (aedes), with real MQTT.js clients:
// agents read only their own extensions and the site's status/directory, publish only their own
// sync requests; wrong passwords are refused with CONNACK 4; removed agents are cut off; malformed
// and duplicate client messages change nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect as tcpConnect } from 'node:net';
import mqtt from 'mqtt';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { agentClientId, callChangeMessageSchema, syncResponseSchema, topics } from '../../shared/hub-protocol';
import { sendWebhook } from '../../main/core/listener/test-call';
import { addAgent, removeAgent, updateAgent } from '../../main/core/hub/accounts/agents';
import { HubHarness, collect, grantedQos, sleep, until } from './hub-helpers';

const h = new HubHarness();
beforeEach(() => h.init());
afterEach(() => h.cleanup());

async function play(flowName: string, stamp: string, extension?: string): Promise<void> {
  for (const raw of flowRequests(findSeedFlow(flowName)!, { freshIds: { stamp }, ...(extension && { extension }) })) {
    expect((await sendWebhook(h.hub!.webhookUrl, raw)).status).toBe(200);
  }
}

describe('hub access: subscriptions', () => {
  it("refuses every filter but the agent's own exact forms (negative SUBACK), and no message of another extension reaches the agent", async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    await addAgent(h.dataDir, { name: 'bob', extensions: ['204'] });
    await h.start({ site: 'acme' });
    const own = agentClientId('anna', 'desk1');
    const c = await h.connect('anna', anna.password, { clientId: own });
    const got = collect(c);
    const refused = [
      // Answers addressed to another client id (a colleague's on the same extension).
      'callpop/v1/acme/ext/117/sync/res/desk-1',
      `callpop/v1/acme/ext/117/sync/res/${agentClientId('anna', 'laptop')}`,
      '#',
      '+',
      'callpop/#',
      'callpop/v1/#',
      'callpop/v1/acme/#',
      'callpop/v1/+/ext/117/#',
      'callpop/v1/other/ext/117/#',
      'callpop/v1/acme/ext/204/#',
      'callpop/v1/acme/ext/204/calls',
      'callpop/v1/acme/ext/+/calls',
      'callpop/v1/acme/ext/+/#',
      'callpop/v1/acme/ext/#',
      'callpop/v1/acme/+/117/calls',
      'callpop/v1/acme/ext/117/+',
      'callpop/v1/acme/ext/117/sync/#',
      'callpop/v1/acme/ext/117/sync/req',
      'callpop/v1/acme/hub/#',
      '$SYS/#',
    ];
    for (const filter of refused) expect([filter, await grantedQos(c, filter)]).toEqual([filter, 128]);
    const allowed = ['callpop/v1/acme/ext/117/#', 'callpop/v1/acme/ext/117/calls', 'callpop/v1/acme/ext/117/open', 'callpop/v1/acme/ext/117/sync/res/+', `callpop/v1/acme/ext/117/sync/res/${own}`, 'callpop/v1/acme/hub/status', 'callpop/v1/acme/directory'];
    for (const filter of allowed) expect([filter, await grantedQos(c, filter)]).toEqual([filter, 1]);

    // Calls for 204 (bob) and then 117 (anna): anna sees 117's only.
    await play('incoming-answered', '261201130001', '204');
    await play('incoming-answered', '261201130002', '117');
    await until(() => got.some((m) => m.topic.endsWith('/ext/117/calls') && callChangeMessageSchema.parse(m.json).record.status === 'ended'), "117's end");
    await sleep(100);
    expect(got.filter((m) => m.topic.includes('/ext/') && !m.topic.includes('/ext/117/'))).toEqual([]);
    expect(got.some((m) => m.text.includes('"extension":"204"'))).toBe(false);
    expect(h.logs.some((l) => /refused subscription of agent anna .* to "#"/.test(l))).toBe(true);
  });
});

describe("hub access: an agent's own extensions (issue 16: login names never in the directory)", () => {
  it('each agent reads its own extensions on its own retained topic and no other agent\'s; the directory names no login', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna.s@acme', extensions: ['117', '118'], displayName: 'Anna' });
    const bob = await addAgent(h.dataDir, { name: 'bob', extensions: ['204'] });
    await h.start({ site: 'acme' });
    const annaTopic = topics.agentExtensions('acme', 'anna.s@acme');
    expect(annaTopic).toBe('callpop/v1/acme/agent/anna_ds_aacme/extensions');
    const a = await h.connect('anna.s@acme', anna.password, { clientId: agentClientId('anna.s@acme', 'desk1') });
    const got = collect(a);
    for (const filter of [topics.agentExtensions('acme', 'bob'), 'callpop/v1/acme/agent/+/extensions', 'callpop/v1/acme/agent/#', 'callpop/v1/acme/agent/bob/+', 'callpop/v1/other/agent/anna_ds_aacme/extensions']) {
      expect([filter, await grantedQos(a, filter)]).toEqual([filter, 128]);
    }
    expect(await grantedQos(a, annaTopic)).toBe(1);
    expect(await grantedQos(a, topics.directory('acme'))).toBe(1);
    await until(() => got.some((m) => m.topic === annaTopic) && got.some((m) => m.topic === topics.directory('acme')), 'her extensions and the directory');
    expect(got.find((m) => m.topic === annaTopic)).toMatchObject({ json: { v: 1, extensions: ['117', '118'] }, retain: true });
    // Display names only: bob (no display name) is not in it, and no login name is.
    expect(got.find((m) => m.topic === topics.directory('acme'))?.json).toEqual({ v: 1, agents: { '117': 'Anna', '118': 'Anna' } });
    expect(got.some((m) => m.text.includes('bob') || m.text.includes('anna.s'))).toBe(false);

    // Bob reads his own, never hers.
    const b = await h.connect('bob', bob.password, { clientId: agentClientId('bob', 'desk1') });
    const bobGot = collect(b);
    expect(await grantedQos(b, annaTopic)).toBe(128);
    expect(await grantedQos(b, topics.agentExtensions('acme', 'bob'))).toBe(1);
    await until(() => bobGot.some((m) => m.topic === topics.agentExtensions('acme', 'bob')), 'his extensions');
    expect(bobGot.map((m) => [m.topic, m.json])).toEqual([[topics.agentExtensions('acme', 'bob'), { v: 1, extensions: ['204'] }]]);

    // A change of her extensions is published again (her connection is cut for it; she reconnects).
    await updateAgent(h.dataDir, 'anna.s@acme', { extensions: ['117'] });
    await h.hub!.reloadAgents();
    const a2 = await h.connect('anna.s@acme', anna.password, { clientId: agentClientId('anna.s@acme', 'desk2') });
    const got2 = collect(a2);
    expect(await grantedQos(a2, annaTopic)).toBe(1);
    await until(() => got2.some((m) => m.topic === annaTopic), 'her new extensions');
    expect(got2.find((m) => m.topic === annaTopic)?.json).toEqual({ v: 1, extensions: ['117'] });
    expect(bobGot.filter((m) => m.topic === annaTopic)).toEqual([]);
  });
});

describe('hub access: publishing', () => {
  it("closes an agent's connection when it publishes anything but its own sync request; nothing it sent reaches anyone", async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    const bob = await addAgent(h.dataDir, { name: 'bob', extensions: ['204'] });
    await h.start();
    const b = await h.connect('bob', bob.password);
    const bobGot = collect(b);
    await grantedQos(b, topics.extensionTree('default', '204'));
    await grantedQos(b, topics.directory('default'));
    await grantedQos(b, topics.hubStatus('default'));
    await until(() => bobGot.length >= 3, 'retained status, directory, open');
    bobGot.length = 0;
    const forbidden: [string, boolean][] = [
      [topics.calls('default', '204'), false],
      [topics.open('default', '204'), false],
      [topics.syncRequest('default', '204'), false],
      [topics.syncResponse('default', '204', 'x'), false],
      [topics.calls('default', '117'), false],
      [topics.directory('default'), false],
      [topics.hubStatus('default'), false],
      ['callpop/v1/other/ext/117/sync/req', false],
      ['anything/else', false],
      [topics.syncRequest('default', '117'), true], // own, but retained
    ];
    for (const [topic, retain] of forbidden) {
      const a = await h.connect('anna', anna.password);
      const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
      a.publish(topic, JSON.stringify({ v: 1, seq: 99, change: 'ringing', record: {} }), { qos: 1, retain });
      await closed;
      expect(a.connected).toBe(false);
    }
    await sleep(100);
    expect(bobGot).toEqual([]);
    expect(h.logs.some((l) => /refused publish of agent anna .*ext\/204\/calls/.test(l))).toBe(true);
    // The hub still works for bob afterwards.
    await play('incoming-answered', '261201130003', '204');
    await until(() => bobGot.some((m) => m.topic === topics.calls('default', '204')), "bob's call");
  });
});

describe('hub access: connecting', () => {
  it('refuses a wrong password and an unknown agent with CONNACK 4 (bad user name or password), and logs it', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    await h.start();
    for (const [username, password] of [
      ['anna', `${anna.password}x`],
      ['nobody', anna.password],
      ['anna', ''],
    ]) {
      const err = await mqtt.connectAsync(h.hub!.brokerUrl, { username, password, reconnectPeriod: 0, protocolVersion: 4 }).then(
        (c) => {
          h.clients.push(c);
          return null;
        },
        (e: Error & { code?: number }) => e,
      );
      expect(err?.code).toBe(4);
      expect(err?.message).toMatch(/Bad username or password/i);
    }
    expect(h.logs.some((l) => /wrong password for agent anna/.test(l))).toBe(true);
    expect(h.logs.some((l) => /unknown agent "nobody"/.test(l))).toBe(true);
  });

  it('refuses logins beyond the bound of password checks in progress with CONNACK 3 (server unavailable), and logs it', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    await h.start({ broker: { kind: 'embedded', host: '127.0.0.1', port: 0, maxPendingLogins: 2 } });
    const codes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        mqtt.connectAsync(h.hub!.brokerUrl, { username: 'anna', password: `wrong-${i}-password`, reconnectPeriod: 0 }).then(
          () => 0,
          (e: Error & { code?: number }) => e.code,
        ),
      ),
    );
    expect(codes.filter((c) => c === 3).length).toBeGreaterThan(0);
    expect(codes.filter((c) => c === 4).length).toBeGreaterThanOrEqual(2);
    expect(h.logs.some((l) => /too many logins being checked at once/.test(l))).toBe(true);
    // Once the checks are done, the right password gets in.
    const c = await h.connect('anna', anna.password);
    expect(c.connected).toBe(true);
  });

  it('refuses persistent sessions (clean session 0) with CONNACK 2: the in-memory broker would queue an absent agent\'s calls without bound', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    await h.start();
    const err = await mqtt.connectAsync(h.hub!.brokerUrl, { username: 'anna', password: anna.password, clientId: agentClientId('anna', 'persistent'), clean: false, reconnectPeriod: 0 }).then(
      (c) => {
        h.clients.push(c);
        return null;
      },
      (e: Error & { code?: number }) => e.code,
    );
    expect(err).toBe(2);
    expect(h.logs.some((l) => /persistent sessions \(clean session 0\) are not accepted/.test(l))).toBe(true);
  });

  it('refuses MQTT 5 clients with CONNACK 1 (aedes speaks MQTT 3.1.1)', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    await h.start();
    const err = await mqtt.connectAsync(h.hub!.brokerUrl, { username: 'anna', password: anna.password, reconnectPeriod: 0, protocolVersion: 5 }).then(
      (c) => {
        h.clients.push(c);
        return null;
      },
      (e: Error & { code?: number }) => e,
    );
    expect(err?.code).toBe(1);
  });

  it('lets two connections of one agent (laptop and desk PC, different client ids) both receive its calls', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    await h.start();
    const laptop = await h.connect('anna', anna.password, { clientId: agentClientId('anna', 'laptop') });
    const desk = await h.connect('anna', anna.password, { clientId: agentClientId('anna', 'desk') });
    const [l, d] = [collect(laptop), collect(desk)];
    await grantedQos(laptop, topics.calls('default', '117'));
    await grantedQos(desk, topics.calls('default', '117'));
    await play('incoming-answered', '261201130004', '117');
    await until(() => l.length >= 3 && d.length >= 3, 'both');
    expect(l.map((m) => m.text)).toEqual(d.map((m) => m.text));
    expect(laptop.connected && desk.connected).toBe(true);
  });

  it('cuts the connections of an agent removed while the hub runs, and lets an agent added meanwhile in', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    await h.start();
    const c = await h.connect('anna', anna.password);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    expect(await removeAgent(h.dataDir, 'anna')).toBe(true);
    await closed;
    const again = await mqtt.connectAsync(h.hub!.brokerUrl, { username: 'anna', password: anna.password, reconnectPeriod: 0 }).then(
      () => null,
      (e: Error & { code?: number }) => e.code,
    );
    expect(again).toBe(4);
    // Added while running: in without a restart.
    const carl = await addAgent(h.dataDir, { name: 'carl', extensions: ['300'] });
    await until(() => h.logs.some((l) => l.includes('added carl')), 'reload');
    const cc = await h.connect('carl', carl.password);
    expect(await grantedQos(cc, topics.calls('default', '300'))).toBe(1);
  });
});

describe('hub: oversized packets', () => {
  it('cuts a connection (even before login) whose packet announces more than 64 KiB, and keeps serving others', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start();
    const port = Number(new URL(h.hub!.brokerUrl).port);
    // A CONNECT announcing 100 MB: aedes alone would buffer it all.
    const sock = tcpConnect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.on('error', () => {});
    sock.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x30]));
    sock.write(Buffer.alloc(1024, 0x61));
    await closed;
    await until(() => h.logs.some((l) => /Broker cut a connection from 127\.0\.0\.1: it announced a packet of at least 100663296 bytes/.test(l)), 'the log line');
    // A logged-in agent sending a big publish is cut too; a normal one still works afterwards.
    const big = await h.connect('anna', anna.password);
    const bigClosed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish(topics.syncRequest('default', '202'), 'x'.repeat(100_000), { qos: 0 });
    await bigClosed;
    const ok = await h.connect('anna', anna.password);
    expect(await grantedQos(ok, topics.calls('default', '202'))).toBe(1);
  });
});

describe('hub: client messages', () => {
  it('ignores malformed sync requests (one log line each, no answer, nothing changes), still answers a good one, and answers a duplicate QoS-1 request identically', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start();
    await play('incoming-answered', '261201130005');
    await h.hub!.flush();
    const head = h.hub!.headSeq;
    const desk = agentClientId('anna', 'desk');
    const c = await h.connect('anna', anna.password, { clientId: desk });
    const got = collect(c);
    await grantedQos(c, topics.syncResponse('default', '202', desk));
    const req = topics.syncRequest('default', '202');
    const bad = [
      'not json',
      '\u00ff\u00fe',
      '{}',
      JSON.stringify({ v: 2, since: 0, clientId: desk, requestId: 'x' }),
      JSON.stringify({ v: 1, since: -1, clientId: desk, requestId: 'x' }),
      JSON.stringify({ v: 1, since: 1e300, clientId: desk, requestId: 'x' }),
      JSON.stringify({ v: 1, since: 0, clientId: 'de/sk', requestId: 'x' }),
      JSON.stringify({ v: 1, since: 0, clientId: desk, requestId: '' }),
      JSON.stringify({ v: 1, since: 0, clientId: '#', requestId: 'x' }),
      JSON.stringify([1, 2, 3]),
      'null',
    ];
    for (const payload of bad) await c.publishAsync(req, payload, { qos: 1 });
    await sleep(150);
    expect(got).toEqual([]);
    expect(c.connected).toBe(true);
    expect(h.logs.filter((l) => l.startsWith('Ignored a sync request')).length).toBeGreaterThanOrEqual(5);
    expect(h.logs.some((l) => /protocol version 2 is not understood/.test(l))).toBe(true);

    const good = JSON.stringify({ v: 1, since: 0, clientId: desk, requestId: 'dup' });
    await c.publishAsync(req, good, { qos: 1 });
    await c.publishAsync(req, good, { qos: 1 });
    await until(() => got.length === 2, 'two answers');
    const [first, second] = got.map((m) => syncResponseSchema.parse(m.json));
    expect(second).toEqual(first);
    expect(first!.records).toHaveLength(1);
    expect(h.hub!.headSeq).toBe(head);
  });

  it('answers a flood of sync requests from one client at most one at a time with the latest one waiting (the others replaced, with a log line)', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start();
    const flow = findSeedFlow('incoming-missed')!;
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 1200; i++) for (const raw of flowRequests(flow, { freshIds: { stamp: String(261201160000 + i) } })) pending.push(h.hub!.ingest(raw));
    await Promise.all(pending);
    const flood = agentClientId('anna', 'flood');
    const c = await h.connect('anna', anna.password, { clientId: flood });
    const got = collect(c);
    await grantedQos(c, topics.syncResponse('default', '202', flood));
    const req = topics.syncRequest('default', '202');
    for (let i = 0; i < 20; i++) c.publish(req, JSON.stringify({ v: 1, since: 0, clientId: flood, requestId: `r${i}` }), { qos: 1 });
    await until(() => h.logs.some((l) => l.includes(`Sync request of client ${flood} replaced an earlier one still waiting`)), 'ignored requests');
    await sleep(1500);
    const answers = new Set(got.map((m) => syncResponseSchema.parse(m.json)).filter((r) => r.done).map((r) => r.requestId));
    expect(answers.size).toBeGreaterThanOrEqual(2);
    expect(answers.size).toBeLessThan(20);
    expect(answers.has('r0')).toBe(true);
    // Every answer that was started is complete: 1200 records in 3 chunks.
    for (const id of answers) expect(got.map((m) => syncResponseSchema.parse(m.json)).filter((r) => r.requestId === id).reduce((n, r) => n + r.records.length, 0)).toBe(1200);
  });
});
