// The team on the hub (issue #19), with the real hub, its embedded broker and real MQTT.js clients:
// roles and queues on the command line and on a running hub, and the shared callbacks' rules: one item
// per number and queue (another miss in another number format adds an attempt), claimed by one and
// refused to another, invisible and refused to a non-member, kept with its claim across a hub restart,
// done by a member's answered outgoing call, done by the caller calling again and being answered,
// released and marked done with a note. A desktop's list is followed with the real client code
// (retained list + change messages): a lost change message is noticed and re-synced, and a late joiner
// whose retained list is older than the changes before its subscription still shows them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { main } from '../../main/cli/index';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { setQueue } from '../../main/core/hub/team/queues';
import { sendWebhook } from '../../main/core/listener/test-call';
import { agentClientId, decodePayload } from '../../shared/hub-protocol';
import { boardMessageSchema, callbackResponseSchema, callbacksMessageSchema, teamTopics, type CallbackItem, type CallbacksMessage } from '../../shared/team-protocol';
import type { RawWebhook } from '../../shared/webhook/event';
import { outgoingCall, queueCall } from '../support/team-calls';
import { followCallbacks } from '../support/callback-follower';
import { HubHarness, collect, grantedQos, sleep, until, type Received } from './hub-helpers';

const h = new HubHarness();
beforeEach(() => h.init());
afterEach(() => h.cleanup());

async function send(raws: RawWebhook[]): Promise<void> {
  for (const raw of raws) expect((await sendWebhook(h.hub!.webhookUrl, raw)).status).toBe(200);
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main([...args, '--data-dir', h.dataDir], { stdout: (s) => (out += s), stderr: (s) => (err += s), env: {} });
  return { code, out, err };
}

/**
 * A desktop of `ext`: its callbacks as the desktop shows them (`items`, the real client code), the
 * latest retained list message (`list`) and a way to act on an item.
 */
async function desk(name: string, password: string, ext: string, o: { clientId?: string; drop?: (topic: string, payload: Buffer) => boolean } = {}) {
  const c = await h.connect(name, password, o.clientId ? { clientId: o.clientId } : {});
  const got = collect(c);
  expect(await grantedQos(c, teamTopics.callbacks('default', ext))).toBe(1);
  expect(await grantedQos(c, `callpop/v1/default/ext/${ext}/callbacks/res/+`)).toBe(1);
  const list = (): CallbacksMessage | null => {
    const last = got.filter((m) => m.topic === teamTopics.callbacks('default', ext)).at(-1);
    return last ? callbacksMessageSchema.parse(last.json) : null;
  };
  let n = 0;
  const act = async (id: string, action: 'claim' | 'release' | 'done', note?: string) => {
    const requestId = `r${++n}`;
    await (c as MqttClient).publishAsync(teamTopics.callbacksRequest('default', ext), JSON.stringify({ v: 1, clientId: c.options.clientId, requestId, id, action, ...(note && { note }) }), { qos: 1 });
    let res: Received | undefined;
    await until(() => (res = got.find((m) => m.topic.includes('/callbacks/res/') && (m.json as { requestId?: string }).requestId === requestId)) !== undefined, `answer to ${action}`);
    return callbackResponseSchema.parse(res!.json);
  };
  const follower = await followCallbacks(c, ext, { drop: o.drop });
  return { c, got, list, act, follower, items: (): CallbackItem[] => follower.items() };
}

describe('roles and queues', () => {
  it('agent add --role supervisor (no extension needed), agent list shows it, queue set/list/remove', async () => {
    const add = await cli(['hub', 'agent', 'add', 'sue', '--role', 'supervisor', '--display-name', 'Sue']);
    expect(add.code).toBe(0);
    expect(add.out).toContain('Added supervisor sue (no extension)');
    expect((await cli(['hub', 'agent', 'add', 'anna', '--extension', '117'])).code).toBe(0);
    expect((await cli(['hub', 'agent', 'list'])).out).toBe('sue\t\tSue\tsupervisor\nanna\t117\t\n');
    await expect(cli(['hub', 'agent', 'add', 'x', '--role', 'boss', '--extension', '1'])).resolves.toMatchObject({ code: 2, err: expect.stringContaining('--role must be agent or supervisor') });
    await expect(cli(['hub', 'agent', 'add', 'y'])).resolves.toMatchObject({ code: 2, err: expect.stringContaining('at least one --extension') });

    expect((await cli(['hub', 'queue', 'set', '820', '--name', 'Sales', '--members', '117,204'])).out).toBe('Added queue 820 "Sales" (members: 117, 204).\n');
    expect((await cli(['hub', 'queue', 'set', '830', '--name', 'Support'])).code).toBe(0);
    expect((await cli(['hub', 'queue', 'list'])).out).toBe('820\tSales\t117,204\n830\tSupport\t(learned from calls)\n');
    await expect(cli(['hub', 'queue', 'set', '82a'])).resolves.toMatchObject({ code: 2, err: expect.stringContaining('A queue is its number') });
    await expect(cli(['hub', 'queue', 'set', '820', '--members', '117,x'])).resolves.toMatchObject({ code: 2, err: expect.stringContaining('--members must be extensions') });
    expect(JSON.parse(await readFile(join(h.dataDir, 'queues.json'), 'utf8'))).toMatchObject({ queues: [{ queue: '820', members: ['117', '204'] }, { queue: '830' }] });
    expect((await cli(['hub', 'queue', 'remove', '830'])).code).toBe(0);
    expect((await cli(['hub', 'queue', 'remove', '830'])).code).toBe(1);
    expect((await cli(['hub', 'queue', 'list'])).out).toBe('820\tSales\t117,204\n');
  });

  it('a role given to a running hub takes effect without a restart; learned members are kept in the data folder, configured ones win', async () => {
    const bob = await addAgent(h.dataDir, { name: 'bob', extensions: ['204'] });
    await h.start();
    const b = await h.connect('bob', bob.password);
    expect(await grantedQos(b, teamTopics.board('default'))).toBe(128);
    // Promoted (same password, given again): the hub re-reads agents.json and closes bob's session.
    await addAgent(h.dataDir, { name: 'bob', extensions: ['204'], password: bob.password, role: 'supervisor', replace: true });
    await until(() => !b.connected, "bob's connection cut on the role change");
    const b2 = await h.connect('bob', bob.password);
    const got = collect(b2);
    expect(await grantedQos(b2, teamTopics.board('default'))).toBe(1);
    // Bob's own desktop is connected now: the board says "free" (it said "offline" while none was).
    const boards = () => got.filter((m) => m.topic === teamTopics.board('default')).map((m) => boardMessageSchema.parse(m.json));
    await until(() => boards().at(-1)?.agents[0]?.state === 'free', 'bob free on the board');
    expect(boards().at(-1)!.agents).toEqual([expect.objectContaining({ ext: '204', name: 'bob', state: 'free' })]);

    // Learned: 117 and 204 ring for queue 830.
    await send(queueCall('261207090000_1', '05551230001', '830', ['117', '204']).ring);
    await until(() => h.hub!.team.queues.members('830').size === 2, 'learned members');
    await h.hub!.team.queues.flush();
    expect(JSON.parse(await readFile(join(h.dataDir, 'queue-members.json'), 'utf8'))).toMatchObject({ learned: { '830': ['117', '204'] } });
    await setQueue(h.dataDir, { queue: '830', name: 'Support', members: ['300'] });
    await until(() => h.hub!.team.queues.name('830') === 'Support', 'queues.json re-read');
    expect([...h.hub!.team.queues.members('830')]).toEqual(['300']);
  });
});

describe('shared callbacks', () => {
  it('one item per number and queue; claimed by one, refused to another and to a non-member; kept across a restart; done by an answered outgoing call', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'], displayName: 'Anna' });
    const bob = await addAgent(h.dataDir, { name: 'bob', extensions: ['204'], displayName: 'Bob' });
    const carl = await addAgent(h.dataDir, { name: 'carl', extensions: ['300'], displayName: 'Carl' });
    await setQueue(h.dataDir, { queue: '820', name: 'Sales', members: ['117', '204'] });
    await h.start();
    const a = await desk('anna', anna.password, '117');
    const b = await desk('bob', bob.password, '204');
    const c = await desk('carl', carl.password, '300');
    // Carl is in no queue: another extension's callbacks are refused to him.
    expect(await grantedQos(c.c, teamTopics.callbacks('default', '117'))).toBe(128);
    expect(await grantedQos(c.c, teamTopics.allCallbacks('default'))).toBe(128);

    const call1 = queueCall('261207100000_1', '+90 555 123 99 88', '820', ['117', '204']);
    await send([...call1.ring, ...call1.missed]);
    await until(() => a.items().length === 1 && b.items().length === 1, 'the item on both members');
    const item = a.items()[0]!;
    expect(item).toMatchObject({ number: '+90 555 123 99 88', queue: '820', attempts: 1, state: 'open' });
    expect(b.items()[0]!.id).toBe(item.id);
    // The same caller, written nationally, misses again: the same item, two attempts.
    const call2 = queueCall('261207100500_2', '05551239988', '820', ['117', '204']);
    await send([...call2.ring, ...call2.missed]);
    await until(() => a.items()[0]?.attempts === 2, 'a second attempt');
    expect(a.items()).toHaveLength(1);
    expect(c.items()).toEqual([]);

    expect(await a.act(item.id, 'claim')).toEqual({ v: 1, requestId: 'r1', ok: true });
    const refused = await b.act(item.id, 'claim');
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(/^Anna \(117\) is calling back since \d\d:\d\d UTC\.$/);
    expect((await c.act(item.id, 'claim')).error).toBe('No such callback for this extension.');
    await until(() => b.items()[0]?.state === 'claimed', "bob's list shows the claim");
    expect(b.items()[0]!.claimedBy).toMatchObject({ ext: '117', name: 'Anna' });
    // "ok" came after the fsync: the file has the claim.
    expect(JSON.parse(await readFile(join(h.dataDir, 'callbacks.json'), 'utf8')).items[0]).toMatchObject({ id: item.id, state: 'claimed', attempts: 2 });

    // Restart: every item and claim is still there.
    await h.hub!.close();
    for (const x of [a, b, c]) await x.c.endAsync(true);
    await h.start();
    expect(h.hub!.team.callbacks.get(item.id)).toMatchObject({ state: 'claimed', attempts: 2, claimedBy: { ext: '117' } });
    const b2 = await desk('bob', bob.password, '204');
    await until(() => b2.items()[0]?.state === 'claimed', 'the retained list after the restart');

    // Bob (a member) calls the number back in yet another format and is answered: done by itself.
    await send(outgoingCall('261207101000_3', '204', '00905551239988', true));
    await until(() => b2.items()[0]?.state === 'done', 'done by the outgoing call');
    expect(b2.items()[0]!.doneBy).toMatchObject({ ext: '204', name: 'Bob', how: 'called-back' });
    expect((await b2.act(item.id, 'claim')).error).toMatch(/^Already done by Bob \(204\)/);
  });

  it("a direct missed call is its extension's alone; done when the caller calls again and is answered; release and done with a note", async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'], displayName: 'Anna' });
    const bob = await addAgent(h.dataDir, { name: 'bob', extensions: ['204'], displayName: 'Bob' });
    await h.start();
    const a = await desk('anna', anna.password, '117');
    const b = await desk('bob', bob.password, '204');

    // A direct missed call to 117 is 117's alone (members of queue 820 are learned from calls here).
    const direct = queueCall('261207110000_1', '05550000001', null, ['117']);
    await send([...direct.ring, ...direct.missed]);
    await until(() => a.items().length === 1, 'the direct item');
    expect(a.items()[0]).toMatchObject({ ext: '117', attempts: 1 });
    expect(a.items()[0]!.queue).toBeUndefined();

    const missed = queueCall('261207110100_2', '05550000002', '820', ['117', '204']);
    await send([...missed.ring, ...missed.missed]);
    await until(() => b.items().length === 1 && a.items().length === 2, 'the queue item on both');
    const queued = b.items()[0]!;
    // The caller calls again; Anna answers: done by itself, "called-again".
    const again = queueCall('261207110200_3', '+90 555 000 00 02', '820', ['117', '204']);
    await send([...again.ring, ...again.answer('117')]);
    await until(() => b.items()[0]?.state === 'done', 'done by the call again');
    expect(b.items()[0]!.id).toBe(queued.id);
    expect(b.items()[0]!.doneBy).toMatchObject({ ext: '117', name: 'Anna', how: 'called-again' });
    await send(again.end('117'));

    // Release, then done with a note.
    const directId = a.items().find((i) => i.ext === '117')!.id;
    expect((await a.act(directId, 'claim')).ok).toBe(true);
    expect((await b.act(directId, 'claim')).error).toBe('No such callback for this extension.');
    expect((await a.act(directId, 'release')).ok).toBe(true);
    await until(() => a.items().find((i) => i.id === directId)?.state === 'open', 'released');
    expect((await a.act(directId, 'done', 'Left a voicemail')).ok).toBe(true);
    await until(() => a.items().find((i) => i.id === directId)?.state === 'done', 'marked done');
    expect(a.items().find((i) => i.id === directId)).toMatchObject({ note: 'Left a voicemail', doneBy: { ext: '117', how: 'marked' } });

    // A malformed request changes nothing and closes nothing.
    await a.c.publishAsync(teamTopics.callbacksRequest('default', '117'), '{"v":1,"action":"claim"}', { qos: 1 });
    const before = await readFile(join(h.dataDir, 'callbacks.json'), 'utf8');
    expect((await a.act(directId, 'done')).ok).toBe(true);
    expect(a.c.connected).toBe(true);
    expect(decodePayload(callbacksMessageSchema, JSON.stringify(a.list())).ok).toBe(true);
    expect(JSON.parse(before).items).toHaveLength(2);
  });
});

/** Anna's and Bob's desktops; a call to 820 from `number` missed, Bob claims it, Anna's desktop shows the claim. */
async function claimedByBob(annaPassword: string, bobPassword: string, callId: string, number: string) {
  const a = await desk('anna', annaPassword, '117');
  const b = await desk('bob', bobPassword, '204');
  const call = queueCall(callId, number, '820', ['117', '204']);
  await send([...call.ring, ...call.missed]);
  await until(() => a.items().length === 1, 'the item');
  const id = a.items()[0]!.id;
  expect((await b.act(id, 'claim')).ok).toBe(true);
  await until(() => a.items()[0]?.state === 'claimed', "the claim on Anna's desktop");
  return { a, b, id };
}

/** Anna (117) and Bob (204) in queue 820 "Sales", on a hub whose retained lists lag `callbackListMs`. */
async function salesTeam(callbackListMs: number) {
  const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'], displayName: 'Anna' });
  const bob = await addAgent(h.dataDir, { name: 'bob', extensions: ['204'], displayName: 'Bob' });
  await setQueue(h.dataDir, { queue: '820', name: 'Sales', members: ['117', '204'] });
  await h.start({ callbackListMs });
  return { anna, bob };
}

describe('callback lists: change messages, gaps and late joiners', () => {
  it('a change message lost on the way: the next one shows the gap, the client asks for a sync and shows every change', async () => {
    // The retained lists lag a minute here: only the client's sync can bring what it missed.
    const { anna, bob } = await salesTeam(60_000);
    let dropNext = false;
    let dropped = 0;
    const a = await desk('anna', anna.password, '117', {
      drop: (topic) => {
        if (!dropNext || !topic.endsWith('/callbacks/changes')) return false;
        dropNext = false;
        dropped++;
        return true;
      },
    });
    const b = await desk('bob', bob.password, '204');
    const call1 = queueCall('261207120000_1', '05551110001', '820', ['117', '204']);
    await send([...call1.ring, ...call1.missed]);
    await until(() => a.items().length === 1 && b.items().length === 1, 'the item on both');
    const id = a.items()[0]!.id;
    expect(a.follower.syncs()).toBe(1); // the one after subscribing

    // Bob's claim reaches Anna's desktop... not: its change message is lost.
    dropNext = true;
    expect((await b.act(id, 'claim')).ok).toBe(true);
    await until(() => dropped === 1, 'the lost change message');
    expect(a.items()[0]!.state).toBe('open');

    // The next change (another caller misses) does not follow Anna's version: she asks for her list.
    const call2 = queueCall('261207120100_2', '05551110002', '820', ['117', '204']);
    await send([...call2.ring, ...call2.missed]);
    await until(() => a.items().length === 2 && a.items().find((i) => i.id === id)?.state === 'claimed', "Anna's list after the sync");
    expect(a.follower.syncs()).toBeGreaterThanOrEqual(2);
    expect(a.items().find((i) => i.id === id)!.claimedBy).toMatchObject({ ext: '204', name: 'Bob' });
    expect(a.items().map((i) => i.id)).toEqual(b.items().map((i) => i.id));
    expect(a.follower.bad).toEqual([]);
  });

  it('a retained list brought up to date once changes stop is not sent again to the desktops following it; a later subscriber starts from it', async () => {
    const { anna, bob } = await salesTeam(200);
    const { a, b, id } = await claimedByBob(anna.password, bob.password, '261207140000_1', '05553330001');
    const listTopic = teamTopics.callbacks('default', '117');
    const listsSent = a.got.filter((m) => m.topic === listTopic).length;
    const version = (a.got.filter((m) => m.topic.endsWith('/callbacks/changes')).at(-1)!.json as { seq: number }).seq;

    // What a subscriber gets now: polled by subscribing again and again until it shows the claim.
    const probe = await h.connect('anna', anna.password, { clientId: agentClientId('anna', 'probe') });
    const probed = collect(probe);
    let retained: CallbacksMessage | null = null;
    const end = Date.now() + 5000;
    while (retained?.items[0]?.state !== 'claimed') {
      if (Date.now() > end) throw new Error(`the retained list never showed the claim: ${JSON.stringify(retained)}`);
      probed.length = 0;
      await probe.subscribeAsync(listTopic, { qos: 1 });
      await until(() => probed.some((m) => m.topic === listTopic), 'the retained list');
      retained = callbacksMessageSchema.parse(probed.find((m) => m.topic === listTopic)!.json);
      await probe.unsubscribeAsync(listTopic);
      await sleep(50);
    }
    // Made at the version Anna's desktop holds (the change messages after it chain)…
    expect(retained.seq).toBe(version);
    // …and not sent to her desktop, which had every change already.
    await sleep(300);
    expect(a.got.filter((m) => m.topic === listTopic)).toHaveLength(listsSent);
    expect(a.items()).toEqual(b.items());

    // A desktop subscribing now starts from it, and follows the next change without a gap.
    const late = await desk('anna', anna.password, '117', { clientId: agentClientId('anna', 'laptop') });
    await until(() => late.items()[0]?.state === 'claimed', 'the claim on the late joiner');
    expect(callbacksMessageSchema.parse(late.got.find((m) => m.topic === listTopic)!.json).items[0]).toMatchObject({ id, state: 'claimed' });
    const call2 = queueCall('261207140100_2', '05553330002', '820', ['117', '204']);
    await send([...call2.ring, ...call2.missed]);
    await until(() => late.items().length === 2 && a.items().length === 2, 'the second item on both of Anna\'s desktops');
    expect(late.items()).toEqual(a.items());
    expect(late.follower.bad).toEqual([]);
  });

  it("a late joiner whose retained list is older than the changes before its subscription shows them (its sync's list)", async () => {
    const { anna, bob } = await salesTeam(60_000);
    const { a, id } = await claimedByBob(anna.password, bob.password, '261207130000_1', '05552220001');

    // Anna's second desktop subscribes now: the broker hands it the retained list, made before the claim.
    const late = await desk('anna', anna.password, '117', { clientId: agentClientId('anna', 'laptop') });
    await until(() => late.items()[0]?.state === 'claimed', 'the claim on the late joiner');
    const lists = late.got.filter((m) => m.topic === teamTopics.callbacks('default', '117')).map((m) => callbacksMessageSchema.parse(m.json));
    expect(lists[0]!.items.find((i) => i.id === id)?.state).not.toBe('claimed');
    expect(lists.at(-1)!.items[0]).toMatchObject({ id, state: 'claimed', claimedBy: { ext: '204' } });
    expect(late.items()).toEqual(a.items());
  });
});
