// The callback book's rules that call flows reach only in odd orders (on real files in a temp folder):
// a queue call one leg of which was missed while another member answered is no missed call (in either
// order), a done item leaves the book at the hub's local midnight (kept across a reopen until then),
// and a withheld number or a test call makes no item.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallbackBook, MAX_OPEN_ITEMS, localDayStart } from '../../main/core/hub/team/callbacks';
import { callRecord } from '../support/call-records';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-callbacks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const nameOf = (ext: string): string => `Agent ${ext}`;
const missedLeg = (id: string, ext: string, number = '05551239988') => callRecord({ id, extension: ext, queue: '820', number });
const answeredLeg = (id: string, ext: string, number = '05551239988') =>
  callRecord({ id, extension: ext, queue: '820', number, status: 'talking', result: 'answered', answeredAt: '2026-11-24T10:00:20.000Z', endedAt: null });

describe('callback book', () => {
  it('takes back a missed leg of a queue call that another member answered, in either order', async () => {
    const book = await CallbackBook.open(dir);
    expect(book.apply([missedLeg('261124100000_1', '204')], nameOf)).toHaveLength(1);
    expect(book.list()).toHaveLength(1);
    book.apply([answeredLeg('261124100000_1', '117')], nameOf);
    expect(book.list()).toEqual([]);
    // Answered first, a leg ends "missed" afterwards: no item either.
    book.apply([answeredLeg('261124100100_2', '117', '05550000002')], nameOf);
    expect(book.apply([missedLeg('261124100100_2', '204', '05550000002')], nameOf)).toEqual([]);
    expect(book.list()).toEqual([]);
  });

  it('past MAX_OPEN_ITEMS open, drops the oldest open one (a claimed one stays), says so, and still finds a number among them all', async () => {
    const errors: string[] = [];
    const book = await CallbackBook.open(dir, { onError: (m) => errors.push(m) });
    const num = (i: number): string => `0555${String(i).padStart(7, '0')}`;
    const first = book.apply([missedLeg('261124090000_0', '204', num(0))], nameOf)[0]!;
    expect(book.act(first.id, 'claim', { ext: '204', name: 'Bob' }).ok).toBe(true);
    for (let i = 1; i <= MAX_OPEN_ITEMS; i++) book.apply([missedLeg(`261124090000_${i}`, '204', num(i))], nameOf);
    // MAX_OPEN_ITEMS + 1 made: the oldest open one (1) went, the claimed one (0) stayed.
    expect(errors).toEqual([`Callbacks: more than ${MAX_OPEN_ITEMS} open; dropped the oldest (${num(1)}, missed 2026-11-24T10:00:30.000Z)`]);
    const numbers = new Set(book.list().map((i) => i.number));
    expect(numbers.size).toBe(MAX_OPEN_ITEMS);
    expect(numbers.has(num(0)) && !numbers.has(num(1)) && numbers.has(num(2))).toBe(true);
    // An answered call from one of them (in another format) closes it; another miss adds an attempt.
    const last = num(MAX_OPEN_ITEMS);
    const callAgain = callRecord({ id: '261124110000_1', extension: '117', number: `+90${last.slice(1)}`, status: 'talking', result: 'answered', startedAt: '2026-11-24T11:00:00.000Z', answeredAt: '2026-11-24T11:00:10.000Z', endedAt: null });
    const [done] = book.apply([callAgain], nameOf);
    expect(done).toMatchObject({ number: last, state: 'done', doneBy: { ext: '117', how: 'called-again' } });
    expect(book.apply([missedLeg('261124110100_2', '204', num(5))], nameOf)[0]).toMatchObject({ number: num(5), attempts: 2 });
  });

  it('makes no item for a withheld number or a test call', async () => {
    const book = await CallbackBook.open(dir);
    expect(book.apply([missedLeg('261124100000_1', '204', ''), missedLeg('001764000000_1', '204')], nameOf)).toEqual([]);
  });

  it('keeps a done item until the local midnight, across a reopen, then drops it', async () => {
    let now = Date.parse('2026-11-24T10:00:00.000Z');
    const book = await CallbackBook.open(dir, { now: () => now });
    const [item] = book.apply([missedLeg('261124100000_1', '204')], nameOf);
    expect(book.act(item!.id, 'done', { ext: '204', name: 'Bob' }, 'no answer, left a message')).toMatchObject({ ok: true });
    await book.save();
    const again = await CallbackBook.open(dir, { now: () => now });
    expect(again.get(item!.id)).toMatchObject({ state: 'done', note: 'no answer, left a message', doneBy: { ext: '204', how: 'marked' } });
    now = localDayStart(now) + 86_400_000 + 60_000; // one minute past the next local midnight
    const nextDay = await CallbackBook.open(dir, { now: () => now });
    expect(nextDay.get(item!.id)).toBeUndefined();
    expect(nextDay.purgedAtOpen.map((i) => i.id)).toEqual([item!.id]);
  });

  it('never hands out a seq again: each open skips a million past the file, and starts no lower than the clock in ms', async () => {
    const t = Date.parse('2026-12-07T10:00:00.000Z');
    const fresh = await CallbackBook.open(dir, { now: () => t });
    expect(fresh.seq).toBe(t);
    fresh.apply([missedLeg('261207100000_1', '117')], nameOf);
    await fresh.save();
    const reopened = await CallbackBook.open(dir, { now: () => t });
    expect(reopened.seq).toBe(t + 1 + 1_000_000);
    // callbacks.json moved away: a start an hour later still counts above what clients hold.
    await rm(join(dir, 'callbacks.json'));
    expect((await CallbackBook.open(dir, { now: () => t + 3_600_000 })).seq).toBeGreaterThan(reopened.seq);
  });
});
