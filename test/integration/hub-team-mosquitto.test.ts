// The team's topics on a REAL Mosquitto with the files `callpop hub mosquitto-files` writes: a
// supervisor reads the board and every queue's callbacks; an agent without the role, and a non-member
// of a queue, get none of it even when Mosquitto grants their subscription (its ACL filters delivery);
// a member's claim goes through Mosquitto to the hub and is answered; a non-member's forged request
// into a member's topic is dropped; a wrong password is refused.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { addAgent, enableMosquittoHashes, hubUserName } from '../../main/core/hub/accounts/agents';
import { writeMosquittoFiles } from '../../main/core/hub/broker/mosquitto-files';
import { setQueue } from '../../main/core/hub/team/queues';
import { sendWebhook } from '../../main/core/listener/test-call';
import { boardMessageSchema, callbackResponseSchema, callbacksMessageSchema, teamTopics } from '../../shared/team-protocol';
import { mosquittoAvailable, startMosquitto, type RunningMosquitto } from '../support/mosquitto';
import { queueCall } from '../support/team-calls';
import { HubHarness, collect, sleep, until } from './hub-helpers';

const h = new HubHarness();
let broker: RunningMosquitto | null = null;
let outDir = '';
beforeEach(async () => {
  await h.init();
  outDir = await mkdtemp(join(tmpdir(), 'callpop-team-mosq-'));
});
afterEach(async () => {
  await h.cleanup();
  await broker?.stop();
  broker = null;
  await rm(outDir, { recursive: true, force: true });
});

describe.skipIf(!mosquittoAvailable)('team topics on a real Mosquitto', () => {
  it('board and callbacks: supervisors only, members only, requests only into one own extension', async () => {
    // Set up for Mosquitto before the agents are added, so they get a Mosquitto hash too.
    await enableMosquittoHashes(h.dataDir);
    const sue = await addAgent(h.dataDir, { name: 'sue', extensions: [], role: 'supervisor', displayName: 'Sue' });
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'], displayName: 'Anna' });
    await addAgent(h.dataDir, { name: 'bob', extensions: ['204'] });
    const carl = await addAgent(h.dataDir, { name: 'carl', extensions: ['300'] });
    await setQueue(h.dataDir, { queue: '820', name: 'Sales', members: ['117', '204'] });
    const files = await writeMosquittoFiles(h.dataDir, outDir, 'default');
    const acl = await readFile(files.aclFile, 'utf8');
    expect(acl).toContain('user sue\ntopic read callpop/v1/default/hub/status\ntopic read callpop/v1/default/directory\ntopic read callpop/v1/default/agent/sue/extensions\ntopic read callpop/v1/default/board\ntopic read callpop/v1/default/callbacks\n');
    expect(acl).toContain('topic write callpop/v1/default/ext/117/callbacks/req');
    broker = await startMosquitto({ passwordFile: files.passwordFile, aclFile: files.aclFile });
    const hubPassword = (await readFile(files.hubPasswordFile, 'utf8')).trim();
    await h.start({ broker: { kind: 'external', url: broker.url, username: hubUserName, password: hubPassword } });

    const conn = async (user: string, password: string, clientId: string): Promise<MqttClient> => {
      const c = await mqtt.connectAsync(broker!.url, { username: user, password, clientId, reconnectPeriod: 0, protocolVersion: 4 });
      h.clients.push(c);
      return c;
    };
    const s = await conn('sue', sue.password, 'sue-1');
    const a = await conn('anna', anna.password, 'anna-1');
    const c = await conn('carl', carl.password, 'carl-1');
    const [sueGot, annaGot, carlGot] = [collect(s), collect(a), collect(c)];
    await s.subscribeAsync([teamTopics.board('default'), teamTopics.allCallbacks('default')], { qos: 1 });
    await a.subscribeAsync([teamTopics.callbacks('default', '117'), teamTopics.callbacksChanges('default', '117'), 'callpop/v1/default/ext/117/callbacks/res/anna-1'], { qos: 1 });
    // Carl asks for everything he must not see; Mosquitto may grant it, its ACL still filters delivery.
    await c
      .subscribeAsync([teamTopics.board('default'), teamTopics.allCallbacks('default'), teamTopics.callbacks('default', '117'), 'callpop/v1/default/#', 'callpop/v1/default/ext/300/callbacks/res/carl-1'], { qos: 1 })
      .catch(() => {});

    const call = queueCall('261207130000_1', '05551239988', '820', ['117', '204']);
    for (const raw of [...call.ring, ...call.missed]) expect((await sendWebhook(h.hub!.webhookUrl, raw)).status).toBe(200);
    const annaList = () => annaGot.filter((m) => m.topic === teamTopics.callbacks('default', '117')).map((m) => callbacksMessageSchema.parse(m.json)).at(-1);
    await until(() => (annaList()?.items.length ?? 0) === 1, "anna's list through Mosquitto");
    const id = annaList()!.items[0]!.id;
    await until(() => sueGot.some((m) => m.topic === teamTopics.board('default')) && sueGot.some((m) => m.topic === teamTopics.allCallbacks('default') && callbacksMessageSchema.parse(m.json).items.length === 1), "the supervisor's board and callbacks");
    expect(boardMessageSchema.parse(sueGot.filter((m) => m.topic === teamTopics.board('default')).at(-1)!.json).agents.map((x) => x.ext)).toEqual(['117', '204', '300']);

    // Carl forges a claim into Anna's request topic: Mosquitto drops it; his own request is refused by the hub.
    await c.publishAsync(teamTopics.callbacksRequest('default', '117'), JSON.stringify({ v: 1, clientId: 'carl-1', requestId: 'steal', id, action: 'claim' }), { qos: 1 });
    await c.publishAsync(teamTopics.callbacksRequest('default', '300'), JSON.stringify({ v: 1, clientId: 'carl-1', requestId: 'mine', id, action: 'claim' }), { qos: 1 });
    const answer = (got: typeof carlGot, requestId: string) => got.find((m) => m.topic.includes('/callbacks/res/') && (m.json as { requestId?: string }).requestId === requestId);
    await until(() => answer(carlGot, 'mine') !== undefined, "the hub's answer to carl");
    expect(callbackResponseSchema.parse(answer(carlGot, 'mine')!.json)).toMatchObject({ ok: false, error: 'No such callback for this extension.' });
    // Anna's claim goes through.
    await a.publishAsync(teamTopics.callbacksRequest('default', '117'), JSON.stringify({ v: 1, clientId: 'anna-1', requestId: 'r1', id, action: 'claim' }), { qos: 1 });
    await until(() => answer(annaGot, 'r1') !== undefined, "the answer to anna's claim");
    expect(callbackResponseSchema.parse(answer(annaGot, 'r1')!.json).ok).toBe(true);
    await until(() => annaList()?.items[0]?.claimedBy?.name === 'Anna', 'claimed by Anna (not Carl)');
    // The claim also came as a change message on her own extension's topics (the generated acl_file lets it through).
    const change = annaGot.find((m) => m.topic === teamTopics.callbacksChanges('default', '117'));
    expect(change?.json).toMatchObject({ v: 1, items: [{ id, state: 'claimed', claimedBy: { ext: '117' } }] });
    await sleep(200);
    // Nothing of the board, the queue's callbacks or Anna's list ever reached Carl.
    expect(carlGot.map((m) => m.topic).filter((t) => t !== 'callpop/v1/default/ext/300/callbacks/res/carl-1' && !t.startsWith('callpop/v1/default/ext/300/') && t !== 'callpop/v1/default/hub/status' && t !== 'callpop/v1/default/directory' && t !== 'callpop/v1/default/agent/carl/extensions')).toEqual([]);

    const err = await conn('sue', 'wrong-password', 'sue-2').then(
      () => null,
      (e: Error & { code?: number }) => e,
    );
    expect(err?.code).toBe(5);
  }, 30_000);
});
