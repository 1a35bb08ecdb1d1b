// The duplicate filter on its own (shared/tracking/duplicates.ts): events are grouped by their id as
// sent and compared by value, so a re-delivery is caught whichever object carries it, another event
// of the same id is not mistaken for one, and memory stays bounded by the event count.
import { describe, expect, it } from 'vitest';
import { DuplicateFilter } from '../../shared/tracking/duplicates';
import type { CallEvent } from '../../shared/webhook/event';

const ringing = (id: string, user: string, callerId = '0555123'): CallEvent => ({
  type: 'ringing',
  ref: { raw: `${id}-0`, callId: id, leg: 0 },
  user,
  callerId,
  did: null,
  userType: 'ext',
});

const window = 60_000;

describe('DuplicateFilter', () => {
  it('a re-delivery (another object, the same values) within the window is a duplicate; the window counts from the first delivery', () => {
    const f = new DuplicateFilter(window, 100);
    expect(f.isDuplicate(ringing('a', '117'), 0)).toBe(false);
    expect(f.isDuplicate(ringing('a', '117'), 30_000)).toBe(true);
    expect(f.isDuplicate(ringing('a', '117'), 59_999)).toBe(true);
    // Past the window: a new occurrence, remembered from now.
    expect(f.isDuplicate(ringing('a', '117'), 60_000)).toBe(false);
    expect(f.isDuplicate(ringing('a', '117'), 100_000)).toBe(true);
  });

  it('other events of the same id are not duplicates, and each is remembered', () => {
    const f = new DuplicateFilter(window, 100);
    expect(f.isDuplicate(ringing('a', '800'), 0)).toBe(false);
    expect(f.isDuplicate(ringing('a', '820'), 1)).toBe(false);
    expect(f.isDuplicate(ringing('a', '117'), 2)).toBe(false);
    expect(f.isDuplicate(ringing('a', '117', '0555999'), 3)).toBe(false);
    for (const user of ['800', '820', '117']) expect(f.isDuplicate(ringing('a', user), 4)).toBe(true);
    expect(f.isDuplicate(ringing('a', '117', '0555999'), 5)).toBe(true);
    // Same values under another id: not a duplicate.
    expect(f.isDuplicate(ringing('b', '117'), 6)).toBe(false);
  });

  it('remembers at least half of its bound of the latest events, and forgets beyond the bound', () => {
    const f = new DuplicateFilter(window, 1000);
    expect(f.isDuplicate(ringing('first', '117'), 0)).toBe(false);
    for (let i = 0; i < 499; i++) f.isDuplicate(ringing(`x${i}`, '117'), 1);
    expect(f.isDuplicate(ringing('first', '117'), 2)).toBe(true);
    for (let i = 0; i < 5000; i++) f.isDuplicate(ringing(`y${i}`, '117'), 3);
    expect(f.isDuplicate(ringing('first', '117'), 4)).toBe(false);
  });

  it('events of one id count towards the bound one by one', () => {
    const f = new DuplicateFilter(window, 1000);
    expect(f.isDuplicate(ringing('first', '117'), 0)).toBe(false);
    // 5,000 distinct events under a single id: the first id's events are forgotten all the same.
    for (let i = 0; i < 5000; i++) f.isDuplicate(ringing('flood', String(i)), 1);
    expect(f.isDuplicate(ringing('first', '117'), 2)).toBe(false);
  });

  it('one id with many events (a queue ringing everyone, a flood) still tells each apart', () => {
    const f = new DuplicateFilter(window, 1000);
    for (let i = 0; i < 100; i++) expect(f.isDuplicate(ringing('q', String(i)), i)).toBe(false);
    for (let i = 0; i < 100; i += 7) expect(f.isDuplicate(ringing('q', String(i)), 200)).toBe(true);
    expect(f.isDuplicate(ringing('q', '100'), 201)).toBe(false);
  });
});
