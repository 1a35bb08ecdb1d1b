// The hub against a REAL Mosquitto (Debian's, started on a free loopback port with the files that
// `callpop hub mosquitto-files` writes): Mosquitto accepts the generated password_file, its acl_file
// lets agents read only their own extensions (no delivery through "#", another site or another
// extension) and publish only their own sync requests, a wrong password is refused, and the hub
// publishes through it as its own user (sync requests answered, "offline" on close).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { agentClientId, callChangeMessageSchema, hubStatusMessageSchema, syncResponseSchema, topics, type SyncResponse } from '../../shared/hub-protocol';
import { sendWebhook } from '../../main/core/listener/test-call';
import { addAgent, enableMosquittoHashes, hubUserName, removeAgent } from '../../main/core/hub/accounts/agents';
import { writeMosquittoFiles } from '../../main/core/hub/broker/mosquitto-files';
import { mosquittoAvailable, startMosquitto, type RunningMosquitto } from '../support/mosquitto';
import { HubHarness, collect, grantedQos, sleep, until } from './hub-helpers';

const h = new HubHarness();
let broker: RunningMosquitto | null = null;
let outDir = '';
beforeEach(async () => {
  await h.init();
  // A folder set up for Mosquitto: agents added from here on get a Mosquitto hash too.
  await enableMosquittoHashes(h.dataDir);
  outDir = await mkdtemp(join(tmpdir(), 'callpop-mosq-files-'));
});
afterEach(async () => {
  await h.cleanup();
  await broker?.stop();
  broker = null;
  await rm(outDir, { recursive: true, force: true });
});

describe.skipIf(!mosquittoAvailable)('hub with a real Mosquitto', () => {
  it('enforces the generated password_file and acl_file, and the hub publishes and answers sync requests through it', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'], displayName: 'Anna' });
    const bob = await addAgent(h.dataDir, { name: 'bob', extensions: ['204'] });
    const files = await writeMosquittoFiles(h.dataDir, outDir, 'acme');
    expect(await readFile(files.passwordFile, 'utf8')).toMatch(/^callpop-hub:\$7\$10000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==\nanna:\$7\$10000\$/);
    expect(await readFile(files.aclFile, 'utf8')).toContain('user anna\ntopic read callpop/v1/acme/hub/status\ntopic read callpop/v1/acme/directory\ntopic read callpop/v1/acme/agent/anna/extensions\ntopic read callpop/v1/acme/ext/117/calls\ntopic read callpop/v1/acme/ext/117/open\ntopic read callpop/v1/acme/ext/117/head\ntopic read callpop/v1/acme/ext/117/sync/res/+\ntopic read callpop/v1/acme/ext/117/actions/res/+\ntopic read callpop/v1/acme/ext/117/callbacks\ntopic read callpop/v1/acme/ext/117/callbacks/changes\ntopic read callpop/v1/acme/ext/117/callbacks/res/+\ntopic write callpop/v1/acme/ext/117/sync/req');
    broker = await startMosquitto({ passwordFile: files.passwordFile, aclFile: files.aclFile });

    const hubPassword = (await readFile(files.hubPasswordFile, 'utf8')).trim();
    await h.start({ site: 'acme', broker: { kind: 'external', url: broker.url, username: hubUserName, password: hubPassword } });
    expect(h.hub!.brokerUrl).toBe(broker.url);

    const conn = (user: string, password: string, clientId: string) => mqtt.connectAsync(broker!.url, { username: user, password, clientId, reconnectPeriod: 0 });
    const a = await conn('anna', anna.password, 'anna-1');
    const b = await conn('bob', bob.password, 'bob-1');
    h.clients.push(a, b);
    const annaGot = collect(a);
    const bobGot = collect(b);
    // Mosquitto may grant a wide filter; its ACL still filters what is delivered.
    for (const f of ['#', 'callpop/#', 'callpop/v1/other/ext/117/#', topics.extensionTree('acme', '204'), topics.extensionTree('acme', '117'), topics.hubStatus('acme'), topics.directory('acme'), topics.agentExtensions('acme', 'bob'), topics.agentExtensions('acme', 'anna')]) await grantedQos(a, f).catch(() => 128);
    await grantedQos(b, topics.extensionTree('acme', '204'));

    const flow = findSeedFlow('incoming-answered')!;
    for (const [stamp, ext] of [
      ['261201150001', '204'],
      ['261201150002', '117'],
    ] as const) {
      for (const raw of flowRequests(flow, { freshIds: { stamp }, extension: ext })) expect((await sendWebhook(h.hub!.webhookUrl, raw)).status).toBe(200);
    }
    const ended = (got: typeof annaGot, ext: string) => got.some((m) => m.topic === topics.calls('acme', ext) && callChangeMessageSchema.parse(m.json).record.status === 'ended');
    await until(() => ended(annaGot, '117') && ended(bobGot, '204'), 'both calls through Mosquitto');
    await sleep(200);
    expect(annaGot.filter((m) => m.topic.includes('/ext/204/') || !m.topic.startsWith('callpop/v1/acme/'))).toEqual([]);
    expect(bobGot.every((m) => m.topic.startsWith('callpop/v1/acme/ext/204/'))).toBe(true);
    expect(annaGot.some((m) => m.topic === topics.hubStatus('acme') && hubStatusMessageSchema.parse(m.json).state === 'online')).toBe(true);
    expect(annaGot.find((m) => m.topic === topics.directory('acme'))?.json).toEqual({ v: 1, agents: { '117': 'Anna' } });
    // Her own extensions on her own topic; bob's never reach her (nor his login name anywhere).
    expect(annaGot.find((m) => m.topic === topics.agentExtensions('acme', 'anna'))?.json).toEqual({ v: 1, extensions: ['117'] });
    expect(annaGot.some((m) => m.topic.includes('/agent/bob/') || m.text.includes('bob'))).toBe(false);

    // Anna cannot write into bob's topics (Mosquitto drops it) …
    bobGot.length = 0;
    await a.publishAsync(topics.calls('acme', '204'), '{"forged":true}', { qos: 1 });
    await a.publishAsync(topics.syncRequest('acme', '204'), JSON.stringify({ v: 1, since: 0, clientId: 'anna-1', requestId: 'steal' }), { qos: 1 });
    // … but her own sync request is answered through the broker.
    await a.publishAsync(topics.syncRequest('acme', '117'), JSON.stringify({ v: 1, since: 0, clientId: 'anna-1', requestId: 'mine' }), { qos: 1 });
    await until(() => annaGot.some((m) => m.topic === topics.syncResponse('acme', '117', 'anna-1') && (m.json as SyncResponse).done), 'sync answer');
    const answer = syncResponseSchema.parse(annaGot.find((m) => m.topic === topics.syncResponse('acme', '117', 'anna-1'))!.json);
    expect(answer.records.map((r) => [r.record.id, r.record.extension])).toEqual([['261201150002_10', '117']]);
    await sleep(200);
    // Nothing of Anna's reached Bob: neither her forged change nor an answer to her request (Bob may still
    // get his own retained open list, republished at most every 500 ms after his call).
    expect(bobGot.filter((m) => m.topic !== topics.open('acme', '204'))).toEqual([]);
    expect(annaGot.some((m) => m.json && (m.json as SyncResponse).requestId === 'steal')).toBe(false);

    // A wrong password is refused by Mosquitto (3.1.1 CONNACK 5, not authorised).
    const err = await conn('anna', 'wrong-password', 'anna-2').then(
      () => null,
      (e: Error & { code?: number }) => e,
    );
    expect(err?.code).toBe(5);

    // A removed agent's extensions are cleared: the hub's own user (it reads the whole site) finds only anna's.
    await removeAgent(h.dataDir, 'bob');
    await h.hub!.reloadAgents();
    const site = await mqtt.connectAsync(broker.url, { username: hubUserName, password: hubPassword, clientId: 'probe-agents', reconnectPeriod: 0 });
    h.clients.push(site);
    const siteGot = collect(site);
    // Retained messages come with each new subscription; the hub's clear may still be on its way.
    for (let i = 0; i < 20; i++) {
      siteGot.length = 0;
      await site.subscribeAsync('callpop/v1/acme/agent/+/extensions', { qos: 1 });
      await sleep(100);
      await site.unsubscribeAsync('callpop/v1/acme/agent/+/extensions');
      if (siteGot.length === 1) break;
    }
    expect(siteGot.map((m) => [m.topic, m.json])).toEqual([[topics.agentExtensions('acme', 'anna'), { v: 1, extensions: ['117'] }]]);

    // The hub's clean stop leaves "offline" retained.
    await h.hub!.close();
    h.hub = null;
    const late = await conn('anna', anna.password, 'anna-3');
    h.clients.push(late);
    const lateGot = collect(late);
    await late.subscribeAsync(topics.hubStatus('acme'), { qos: 1 });
    await until(() => lateGot.length > 0, 'retained status');
    expect(hubStatusMessageSchema.parse(lateGot[0]!.json).state).toBe('offline');
  }, 30_000);

  it("ignores and clears a retained sync request (Mosquitto's ACL cannot forbid the retain flag), and a colleague on the same extension never reads another's sync requests", async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    const carl = await addAgent(h.dataDir, { name: 'carl.d', extensions: ['117'] });
    const files = await writeMosquittoFiles(h.dataDir, outDir, 'default');
    broker = await startMosquitto({ passwordFile: files.passwordFile, aclFile: files.aclFile });
    const hubPassword = (await readFile(files.hubPasswordFile, 'utf8')).trim();
    const carlId = agentClientId('carl.d', 'desk');
    const c = await mqtt.connectAsync(broker.url, { username: 'carl.d', password: carl.password, clientId: carlId, reconnectPeriod: 0 });
    h.clients.push(c);
    const carlGot = collect(c);
    await grantedQos(c, topics.extensionTree('default', '117')).catch(() => 128);
    const annaId = agentClientId('anna', 'desk');
    const a = await mqtt.connectAsync(broker.url, { username: 'anna', password: anna.password, clientId: annaId, reconnectPeriod: 0 });
    h.clients.push(a);
    // Left retained before the hub starts: it must not be answered at this start or any later one.
    await a.publishAsync(topics.syncRequest('default', '117'), JSON.stringify({ v: 1, since: 0, clientId: annaId, requestId: 'retained' }), { qos: 1, retain: true });
    await h.start({ broker: { kind: 'external', url: broker.url, username: hubUserName, password: hubPassword } });
    await until(() => h.logs.some((l) => l.includes('Ignored a retained sync request')), 'the retained request ignored');
    const annaGot = collect(a);
    await a.subscribeAsync(topics.syncResponse('default', '117', annaId), { qos: 1 });
    await a.publishAsync(topics.syncRequest('default', '117'), JSON.stringify({ v: 1, since: 0, clientId: annaId, requestId: 'live' }), { qos: 1 });
    await until(() => annaGot.some((m) => (m.json as SyncResponse).requestId === 'live'), 'the live request answered');
    expect(annaGot.some((m) => (m.json as SyncResponse).requestId === 'retained')).toBe(false);
    // Cleared: a new subscriber (the hub's own user) finds no retained request.
    const probe = await mqtt.connectAsync(broker.url, { username: hubUserName, password: hubPassword, clientId: 'probe-retained', reconnectPeriod: 0 });
    h.clients.push(probe);
    const probeGot = collect(probe);
    await probe.subscribeAsync(topics.syncRequest('default', '117'), { qos: 1 });
    await sleep(300);
    expect(probeGot.filter((m) => m.text.length > 0)).toEqual([]);
    // Carl, on the same extension, saw none of anna's sync requests.
    expect(carlGot.filter((m) => m.topic.endsWith('/sync/req'))).toEqual([]);
  }, 30_000);

  it("writes a password_file that Mosquitto's own mosquitto_passwd tool reads (it can add to it)", async () => {
    await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    const files = await writeMosquittoFiles(h.dataDir, outDir, 'default');
    execFileSync('mosquitto_passwd', ['-b', files.passwordFile, 'extra', 'extra-password']);
    const text = await readFile(files.passwordFile, 'utf8');
    expect(text.split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual(['callpop-hub', 'anna', 'extra']);
  });

  it('keeps acknowledging webhooks while Mosquitto is down, reconnects, and a client catches up with everything', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    const files = await writeMosquittoFiles(h.dataDir, outDir, 'default');
    broker = await startMosquitto({ passwordFile: files.passwordFile, aclFile: files.aclFile });
    const port = broker.port;
    const hubPassword = (await readFile(files.hubPasswordFile, 'utf8')).trim();
    await h.start({ broker: { kind: 'external', url: broker.url, username: hubUserName, password: hubPassword, maxOfflineQueue: 3 } });
    const before = await mqtt.connectAsync(broker.url, { username: 'anna', password: anna.password, clientId: 'before', reconnectPeriod: 0 });
    const beforeGot = collect(before);
    await before.subscribeAsync(topics.hubStatus('default'), { qos: 1 });
    await until(() => beforeGot.length > 0, 'status');
    const firstSince = hubStatusMessageSchema.parse(beforeGot[0]!.json).since;
    await before.endAsync(true);
    await broker.kill();
    await broker.stop();
    const flow = findSeedFlow('incoming-answered')!;
    for (const raw of flowRequests(flow, { freshIds: { stamp: '261201170001' } })) expect((await sendWebhook(h.hub!.webhookUrl, raw)).status).toBe(200);
    // More changes than the offline queue holds: the rest are dropped (they are in the log), with one line.
    await until(() => h.logs.some((l) => /3 messages queued, dropping the rest/.test(l)), 'the queue bound');
    broker = await startMosquitto({ passwordFile: files.passwordFile, aclFile: files.aclFile, port });
    await until(() => h.logs.filter((l) => l.startsWith('Connected to the broker')).length >= 2, 'the hub reconnecting', 15_000);
    const c = await mqtt.connectAsync(broker.url, { username: 'anna', password: anna.password, clientId: 'after', reconnectPeriod: 0 });
    h.clients.push(c);
    const got = collect(c);
    await c.subscribeAsync([topics.syncResponse('default', '202', 'after'), topics.hubStatus('default')], { qos: 1 });
    await c.publishAsync(topics.syncRequest('default', '202'), JSON.stringify({ v: 1, since: 0, clientId: 'after', requestId: 'catch-up' }), { qos: 1 });
    await until(() => got.some((m) => (m.json as SyncResponse).done), 'sync answer');
    const records = got.filter((m) => m.topic.includes('/sync/res/')).flatMap((m) => syncResponseSchema.parse(m.json).records);
    expect(records.map((r) => [r.record.id, r.record.status])).toEqual([['261201170001_10', 'ended']]);
    // The retained status came back with the reconnect, online since the reconnect.
    const status = got.find((m) => m.topic === topics.hubStatus('default'));
    expect(hubStatusMessageSchema.parse(status?.json)).toMatchObject({ state: 'online' });
    expect(Date.parse(hubStatusMessageSchema.parse(status?.json).since)).toBeGreaterThan(Date.parse(firstSince));
    expect(h.logs.some((l) => /back: \d+ message\(s\) were dropped meanwhile/.test(l))).toBe(true);
  }, 30_000);

  it("publishes the hub's last will (offline, retained) when the hub process dies", async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    const files = await writeMosquittoFiles(h.dataDir, outDir, 'default');
    broker = await startMosquitto({ passwordFile: files.passwordFile, aclFile: files.aclFile });
    const cli = join(__dirname, '../../main/cli/index.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'hub', '--data-dir', h.dataDir, '--host', '127.0.0.1', '--port', '0', '--broker', broker.url, '--broker-user', hubUserName, '--broker-password-file', files.hubPasswordFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until(() => out.includes('Publishing to'), 'hub start', 20_000);
      expect(out).toContain(`Publishing to ${broker.url}`);
      const c = await mqtt.connectAsync(broker.url, { username: 'anna', password: anna.password, clientId: 'watch', reconnectPeriod: 0 });
      h.clients.push(c);
      const got = collect(c);
      await c.subscribeAsync(topics.hubStatus('default'), { qos: 1 });
      await until(() => got.some((m) => hubStatusMessageSchema.parse(m.json).state === 'online'), 'online');
      child.kill('SIGKILL');
      await until(() => got.some((m) => hubStatusMessageSchema.parse(m.json).state === 'offline'), 'the last will');
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('refuses to start when the external broker refuses the hub credentials (one clear line), and frees its data folder', async () => {
    const files = await writeMosquittoFiles(h.dataDir, outDir, 'default');
    broker = await startMosquitto({ passwordFile: files.passwordFile, aclFile: files.aclFile });
    await expect(h.start({ broker: { kind: 'external', url: broker.url, username: hubUserName, password: 'not-the-password' } })).rejects.toThrow(
      `The broker ${broker.url} refused the hub's credentials (Connection refused: Not authorized). Check --broker-user and --broker-password-file.`,
    );
    // The lock on the hub's log was released: a good start works at once.
    const hubPassword = (await readFile(files.hubPasswordFile, 'utf8')).trim();
    await h.start({ broker: { kind: 'external', url: broker.url, username: hubUserName, password: hubPassword } });
    expect(h.hub!.brokerUrl).toBe(broker.url);
  });
});
