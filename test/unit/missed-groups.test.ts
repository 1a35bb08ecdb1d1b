// The log's rows with missed calls gathered by caller and day (main/core/call-log/missed-groups.ts):
// paging sees the same rows as one big page, a group's later calls are never rows of their own, a new
// day starts new groups, and only missed calls to the agent are gathered.
import { describe, expect, it } from 'vitest';
import { groupMissedPage } from '../../main/core/call-log/missed-groups';
import type { LogEntry } from '../../main/core/call-log/entry';

const at = (day: number, hour: number, min: number) => new Date(2026, 11, day, hour, min).getTime();
function entry(id: string, key: string, t: number, result: 'missed' | 'answered' = 'missed', direction: 'incoming' | 'outgoing' = 'incoming', seen = false): LogEntry {
  return { id, t, end: t + 30_000, direction, result, status: 'ended', seen, endedBy: null, key, hay: key, hid: -1, json: null, pos: 0, len: 0 };
}

// Newest first, as the store yields them.
const entries = [
  entry('a5', '5051234567', at(7, 10, 42)),
  entry('b2', '2125550101', at(7, 10, 40)),
  entry('a4', '5051234567', at(7, 10, 30), 'missed', 'incoming', true),
  entry('o1', '5051234567', at(7, 10, 20), 'missed', 'outgoing'),
  entry('x1', '2125550199', at(7, 10, 10), 'answered'),
  entry('a3', '5051234567', at(7, 9, 0)),
  entry('w1', '', at(7, 8, 0)),
  entry('w2', '', at(7, 7, 0)),
  entry('a2', '5051234567', at(6, 18, 0)),
  entry('a1', '5051234567', at(6, 17, 0)),
];

describe('groupMissedPage', () => {
  it('one row per caller and day at the newest, with the count, the unseen ones and the ids', () => {
    const r = groupMissedPage(entries, 0, 100);
    expect(r.calls).toBe(10);
    expect(r.rows.map((x) => x.e.id)).toEqual(['a5', 'b2', 'o1', 'x1', 'w1', 'w2', 'a2']);
    expect(r.total).toBe(7);
    expect(r.rows[0]!.group).toEqual({ count: 3, unseen: 2, ids: ['a5', 'a4', 'a3'] });
    // Not gathered: a single missed call, the agent's own unanswered call, withheld numbers.
    expect(r.rows.filter((x) => x.group === null).map((x) => x.e.id)).toEqual(['b2', 'o1', 'x1', 'w1', 'w2']);
    // The day before is a group of its own.
    expect(r.rows[6]!.group).toEqual({ count: 2, unseen: 2, ids: ['a2', 'a1'] });
  });

  it('pages see the same rows as one page, and a group is whole on the page of its newest call', () => {
    const whole = groupMissedPage(entries, 0, 100);
    const paged = [0, 2, 4, 6].flatMap((offset) => groupMissedPage(entries, offset, offset + 2).rows);
    expect(paged.map((x) => [x.e.id, x.group])).toEqual(whole.rows.map((x) => [x.e.id, x.group]));
    expect(groupMissedPage(entries, 6, 8)).toMatchObject({ total: 7, calls: 10 });
  });
});
