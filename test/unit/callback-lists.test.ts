// When the hub republishes the retained callback lists (main/core/hub/team/callback-lists.ts): change
// messages go at once; a member's whole retained list waits until changes have been quiet for listMs
// (a republish is every member's list written to every member's socket, and a claim made meanwhile
// queues behind it), but never lags more than listMaxLagMs; the supervisors' single list of every item
// follows at most every listMs. On a real book and queue folder in a temp dir, with the clock faked.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallbackBook } from '../../main/core/hub/team/callbacks';
import { CallbackLists } from '../../main/core/hub/team/callback-lists';
import { QueueDirectory } from '../../main/core/hub/team/queues';
import { teamTopics } from '../../shared/team-protocol';
import { callRecord } from '../support/call-records';

const MEMBERS = ['101', '102', '103'];
let dir = '';
let book: CallbackBook;
let lists: CallbackLists | null = null;
/** `kept`: for later subscribers only (Transport.keepRetained), not sent to the connected clients. */
const sent: { topic: string; seq: number; at: number; kept: boolean }[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-callback-lists-'));
  book = await CallbackBook.open(dir);
  const queues = await QueueDirectory.open(dir, (m) => {
    throw new Error(m);
  });
  for (const e of MEMBERS) queues.learn('820', e);
  queues.learn('830', '104');
  await queues.flush();
  sent.length = 0;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'Date'] });
  lists = new CallbackLists({
    site: 'default',
    book,
    queues,
    listMs: 1000,
    listMaxLagMs: 10_000,
    publish: (topic, payload) => sent.push({ topic, seq: (JSON.parse(String(payload)) as { seq: number }).seq, at: Date.now(), kept: false }),
    keep: (topic, payload) => sent.push({ topic, seq: (JSON.parse(String(payload)) as { seq: number }).seq, at: Date.now(), kept: true }),
  });
});
afterEach(async () => {
  lists?.close();
  vi.useRealTimers();
  await book.flush();
  await rm(dir, { recursive: true, force: true });
});

let serial = 0;
/** A missed queue call from a new number: a new item every member of 820 sees. */
const miss = (): void => {
  serial++;
  const r = callRecord({ id: `261207100000_${serial}`, extension: '101', queue: '820', number: `0555123${String(serial).padStart(4, '0')}` });
  record(r);
};
/** As the team does: the change, its new seq (the book's save), then the change messages. */
const record = (r: ReturnType<typeof callRecord>): void => {
  const changed = book.apply([r], (e) => `Agent ${e}`);
  void book.save();
  lists!.itemsChanged(changed);
};
/** One item, and every member holding its list (as after each desktop's sync). */
const following = async (): Promise<void> => {
  miss();
  for (const e of MEMBERS) lists!.sync(e);
  await vi.advanceTimersByTimeAsync(50);
};
const memberLists = (): typeof sent => sent.filter((m) => MEMBERS.some((e) => m.topic === teamTopics.callbacks('default', e)));
const changes = (): typeof sent => sent.filter((m) => m.topic.endsWith('/callbacks/changes'));
const supervisors = (): typeof sent => sent.filter((m) => m.topic === teamTopics.allCallbacks('default'));

describe('callback lists', () => {
  it("keeps each retained list at the version its member holds, so the change messages after it chain", async () => {
    await following();
    lists!.sync('104');
    await vi.advanceTimersByTimeAsync(50);
    miss();
    await vi.advanceTimersByTimeAsync(10);
    const salesVersion = changes().at(-1)!.seq;
    // A miss in 830 (only 104 sees it): the book moves on, 820's members' versions do not.
    serial++;
    record(callRecord({ id: `261207110000_${serial}`, extension: '104', queue: '830', number: '05559990001' }));
    await vi.advanceTimersByTimeAsync(10);
    expect(book.seq).toBeGreaterThan(salesVersion);
    sent.length = 0;
    await vi.advanceTimersByTimeAsync(1500);
    const kept = new Map(sent.filter((m) => m.kept).map((m) => [m.topic, m.seq]));
    for (const e of MEMBERS) expect(kept.get(teamTopics.callbacks('default', e))).toBe(salesVersion);
    expect(kept.get(teamTopics.callbacks('default', '104'))).toBe(book.seq);
    expect(sent.filter((m) => !m.kept && m.topic.includes('/ext/'))).toEqual([]);
  });


  it('sends change messages at once and holds the members’ retained lists until the changes stop', async () => {
    await following();
    expect(memberLists()).toHaveLength(3);
    sent.length = 0;

    // A change every 200 ms for 5 s.
    for (let k = 0; k < 25; k++) {
      miss();
      await vi.advanceTimersByTimeAsync(200);
    }
    expect(changes()).toHaveLength(25 * 3);
    expect(memberLists()).toEqual([]);
    // The supervisors' list kept up, at most once a second.
    expect(supervisors().length).toBeGreaterThanOrEqual(4);
    expect(supervisors().length).toBeLessThanOrEqual(6);

    // Quiet: a second later every member's list is brought up to date once, at the version of the last
    // change, for later subscribers only (the connected ones have every change already).
    await vi.advanceTimersByTimeAsync(1000);
    expect(memberLists()).toHaveLength(3);
    expect(new Set(memberLists().map((m) => m.seq))).toEqual(new Set([book.seq]));
    expect(memberLists().every((m) => m.kept)).toBe(true);
    expect(changes().at(-1)!.seq).toBe(book.seq);
    await vi.advanceTimersByTimeAsync(5000);
    expect(memberLists()).toHaveLength(3);
  });

  it('republishes the retained lists after at most listMaxLagMs while changes never stop', async () => {
    await following();
    sent.length = 0;
    const start = Date.now();
    for (let k = 0; k < 60; k++) {
      miss();
      await vi.advanceTimersByTimeAsync(300);
    }
    const rounds = memberLists().map((m) => m.at - start);
    // 18 s of changes with a 10-s cap: one round at ~10 s, the next due at ~20 s.
    expect(rounds).toHaveLength(3);
    expect(rounds[0]).toBeGreaterThanOrEqual(9_900);
    expect(rounds[0]).toBeLessThanOrEqual(10_300);
  });
});
