// The popup's card state (renderer/src/popup/cards.ts): order, ring timeout, sticky "stopped ringing?".
import { describe, expect, it } from 'vitest';
import type { CallView } from '../../shared/ipc/contract';
import { applyUpdate, closeAt, closeDue, markStale, nextStaleAt, ordered } from '../../renderer/src/popup/cards';

const base = { direction: 'incoming' as const, number: '05551230000', extension: '117', queue: null, did: null, startedAt: '2026-12-01T09:00:00.000Z', durationSec: null, transferType: null, transferredTo: null, transferredFrom: null, answeredBy: null, recordings: [] as string[], seen: false, contactName: null };
const ringing = (id: string): CallView => ({ ...base, id, status: 'ringing', result: null, answeredAt: null, endedAt: null });
const talking = (id: string): CallView => ({ ...base, id, status: 'talking', result: 'answered', answeredAt: '2026-12-01T09:00:05.000Z', endedAt: null });
const missed = (id: string): CallView => ({ ...base, id, status: 'ended', result: 'missed', answeredAt: null, endedAt: '2026-12-01T09:03:00.000Z', seen: false });
const ended = (id: string): CallView => ({ ...base, id, status: 'ended', result: 'answered', answeredAt: '2026-12-01T09:00:05.000Z', endedAt: '2026-12-01T09:01:00.000Z' });

describe('popup cards', () => {
  it('live cards above ended and stale ones, newest first in each group', () => {
    let cs = applyUpdate([], ringing('a'), 0);
    cs = applyUpdate(cs, talking('b'), 1);
    cs = applyUpdate(cs, ended('c'), 2);
    cs = applyUpdate(cs, ringing('d'), 3);
    expect(ordered(cs).map((c) => c.call.id)).toEqual(['d', 'b', 'a', 'c']);
    cs = markStale(cs, 10, 10.5); // a (news at 0) and nothing else... d rang at 3: 13 > 10.5
    expect(ordered(cs).map((c) => c.call.id)).toEqual(['d', 'b', 'c', 'a']);
  });

  it('a ringing call goes stale after the ring timeout without news; news resets the clock', () => {
    let cs = applyUpdate([], ringing('a'), 0);
    expect(nextStaleAt(cs, 30_000)).toBe(30_000);
    cs = applyUpdate(cs, { ...ringing('a'), queue: '820' }, 20_000);
    expect(nextStaleAt(cs, 30_000)).toBe(50_000);
    expect(markStale(cs, 30_000, 49_999)[0]!.staleAt).toBeNull();
    cs = markStale(cs, 30_000, 50_000);
    expect(cs[0]!.staleAt).toBe(50_000);
    expect(nextStaleAt(cs, 30_000)).toBeNull();
  });

  it('the ring timeout ending a stale call as missed keeps it stale; a real event brings it back', () => {
    let cs = markStale(applyUpdate([], ringing('a'), 0), 10, 10);
    cs = applyUpdate(cs, missed('a'), 20);
    expect(cs[0]).toMatchObject({ staleAt: 10, endedAt: 20 });
    let cs2 = markStale(applyUpdate([], ringing('b'), 0), 10, 10);
    cs2 = applyUpdate(cs2, talking('b'), 20);
    expect(cs2[0]).toMatchObject({ staleAt: null, endedAt: null, newsAt: 20 });
  });

  it('ended as missed by the tracker\'s ring timeout just before the page\'s own timer: stopped ringing too', () => {
    const cs = applyUpdate(applyUpdate([], ringing('a'), 0, 30_000), missed('a'), 29_500, 30_000);
    expect(cs[0]).toMatchObject({ staleAt: 29_500 });
    // A missed end long before the ring timeout (the PBX said so) is a plain missed call.
    const cs2 = applyUpdate(applyUpdate([], ringing('b'), 0, 30_000), missed('b'), 5_000, 30_000);
    expect(cs2[0]).toMatchObject({ staleAt: null, endedAt: 5_000 });
  });

  it('talking calls never go stale', () => {
    const cs = markStale(applyUpdate([], talking('a'), 0), 10, 1_000_000);
    expect(cs[0]!.staleAt).toBeNull();
    expect(nextStaleAt(cs, 10)).toBeNull();
  });

  it('closing by itself: ended cards after autoCloseSec, missed and stopped-ringing ones only with autoCloseMissed, none with 0', () => {
    const rule = { autoCloseSec: 8, autoCloseMissed: false };
    const cs = applyUpdate(applyUpdate(applyUpdate([], ended('e'), 1000), missed('m'), 1000), talking('t'), 1000);
    expect(cs.map((c) => closeAt(c, rule))).toEqual([null, null, 9000]);
    const stale = applyUpdate(markStale(applyUpdate([], ringing('s'), 0), 10, 10), missed('s'), 20);
    expect(closeAt(stale[0]!, rule)).toBeNull();
    expect(closeAt(stale[0]!, { ...rule, autoCloseMissed: true })).toBe(8020);
    expect(cs.map((c) => closeAt(c, { autoCloseSec: 0, autoCloseMissed: true }))).toEqual([null, null, null]);
  });

  it('a due card in use stays and counts its whole delay again; the others close', () => {
    const rule = { autoCloseSec: 8, autoCloseMissed: true };
    const cs = applyUpdate(applyUpdate([], ended('a'), 0), ended('b'), 0);
    expect(closeDue(cs, rule, 7999, () => false)).toEqual({ close: [], next: cs });
    const { close, next } = closeDue(cs, rule, 8000, (id) => id === 'a');
    expect(close).toEqual(['b']);
    expect(next.map((c) => [c.call.id, c.endedAt])).toEqual([['a', 8000]]);
    expect(closeAt(next[0]!, rule)).toBe(16_000);
  });
});
