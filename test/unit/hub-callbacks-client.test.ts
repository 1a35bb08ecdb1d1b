// The desktop's callbacks list (main/core/hub-client/callbacks.ts) against the orders a broker can hand
// it messages in, which a real hub rarely produces on loopback: a retained list older than the changes
// already applied, a change delivered twice, changes that overtake each other, an item removed, a list
// that arrives only after a change it must absorb, and a hub whose seqs went back (the first list after
// a subscribe is taken whatever its seq). The hub side of the same protocol runs in
// test/integration/hub-team.test.ts.
import { describe, expect, it } from 'vitest';
import { HubCallbacks } from '../../main/core/hub-client/callbacks';
import { teamTopics, type CallbackItem } from '../../shared/team-protocol';

const item = (id: string, state: CallbackItem['state'] = 'open', at = '2026-12-07T10:00:00.000Z'): CallbackItem => ({ id, number: `0555${id}`, queue: '820', firstMissedAt: at, attempts: 1, state });

function client() {
  const sent: string[] = [];
  const cb = new HubCallbacks('default', '117', 'anna-1', async (_topic, payload) => {
    sent.push((JSON.parse(payload) as { action: string }).action);
  });
  const bad: string[] = [];
  const list = (seq: number, items: CallbackItem[]) => cb.handle(teamTopics.callbacks('default', '117'), Buffer.from(JSON.stringify({ v: 1, seq, items })), (e) => bad.push(e));
  const change = (seq: number, prevSeq: number, items: CallbackItem[], removed?: string[]) =>
    cb.handle(teamTopics.callbacksChanges('default', '117'), Buffer.from(JSON.stringify({ v: 1, seq, prevSeq, items, ...(removed && { removed }) })), (e) => bad.push(e));
  const shown = () => cb.list().map((i) => `${i.id}:${i.state}`);
  return { cb, sent, bad, list, change, shown };
}

describe('the desktop callbacks list', () => {
  it('applies changes that follow its version, ignores repeats and a retained list older than what it holds', () => {
    const c = client();
    c.cb.subscribed();
    c.list(10, [item('a')]);
    c.change(11, 10, [item('a', 'claimed')]);
    c.change(11, 10, [item('a', 'open')]); // the same change again (QoS redelivery): nothing
    c.change(12, 11, [item('b', 'open', '2026-12-07T11:00:00.000Z')]);
    expect(c.shown()).toEqual(['b:open', 'a:claimed']);
    c.list(10, [item('a')]); // the coalesced retained list, older
    expect(c.shown()).toEqual(['b:open', 'a:claimed']);
    c.change(13, 12, [], ['b']);
    expect(c.shown()).toEqual(['a:claimed']);
    c.list(13, [item('a', 'claimed')]); // the same version: skipped unparsed
    expect(c.shown()).toEqual(['a:claimed']);
    expect(c.sent).toEqual(['sync']); // only the one after subscribing
    expect(c.bad).toEqual([]);
  });

  it('keeps changes ahead of a gap, asks for a sync, and applies them once a list reaches them', () => {
    const c = client();
    c.cb.subscribed();
    c.list(10, [item('a')]);
    c.change(12, 11, [item('b')]); // 11 never came
    expect(c.shown()).toEqual(['a:open']);
    expect(c.sent).toEqual(['sync', 'sync']);
    c.change(13, 12, [item('a', 'done')]);
    expect(c.shown()).toEqual(['a:open']);
    c.list(11, [item('a', 'claimed')]); // the sync's list, at 11: 12 and 13 follow it
    expect(c.shown()).toEqual(['b:open', 'a:done']);
    c.change(14, 13, [item('c')]);
    expect(c.shown()).toHaveLength(3);
    c.cb.close();
  });

  it('takes the first list after a subscribe whatever its seq (a hub whose data was reset), and a change with no list yet waits for one', () => {
    const c = client();
    c.cb.subscribed();
    c.change(5, 4, [item('x', 'open', '2026-12-07T12:00:00.000Z')]);
    expect(c.shown()).toEqual([]);
    c.list(4, [item('a')]);
    expect(c.shown()).toEqual(['x:open', 'a:open']);
    c.cb.subscribed();
    c.list(2, [item('z')]);
    expect(c.shown()).toEqual(['z:open']);
    c.list(1, [item('old')]); // not the first after the subscribe: older, ignored
    expect(c.shown()).toEqual(['z:open']);
    c.cb.close();
  });

  it('ignores a malformed message with a reason, and messages of another extension', () => {
    const c = client();
    c.cb.subscribed();
    c.list(3, [item('a')]);
    c.cb.handle(teamTopics.callbacksChanges('default', '117'), Buffer.from('{"v":1,"seq":4}'), (e) => c.bad.push(e));
    expect(c.bad).toHaveLength(1);
    expect(c.cb.handle(teamTopics.callbacksChanges('default', '204'), Buffer.from('{}'), (e) => c.bad.push(e))).toBe(false);
    expect(c.shown()).toEqual(['a:open']);
  });
});
