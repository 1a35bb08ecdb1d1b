// While a compaction of the hub log writes its new file, records keep arriving: their slots (hot) and
// entries (cold) are not in that file, so their new position must read "not there" (NaN, -1) even when
// the arrival grows the columns. A 0 there would send the switch to byte 0 of the new file.
import { describe, expect, it } from 'vitest';
import { ColdList } from '../../main/core/hub/log/cold-list';
import { ExtIndex } from '../../main/core/hub/log/ext-index';
import { nextPositions, type NextPositions } from '../../main/core/hub/log/typed-arrays';

interface Columns {
  seq: Float64Array;
  n: number;
  pinned: boolean;
  next: NextPositions | null;
}

describe.each([
  {
    kind: 'hot slots (ExtIndex)',
    make: () => new ExtIndex(),
    add: (x: Columns, i: number): void => void (x as ExtIndex).add(`id${i}`, { seq: i + 1, open: false, startMs: 0, endMs: 0 }, `{"id":"id${i}"}`),
  },
  { kind: 'cold entries (ColdList)', make: () => new ColdList(), add: (c: Columns, i: number): void => (c as ColdList).push(i + 1, i * 100, 50, 0) },
])('positions recorded by a compaction: $kind', ({ make, add }) => {
  it('mark those added during it as not in the new file, across a growth of the columns', () => {
    const x: Columns = make();
    for (let i = 0; i < 10; i++) add(x, i);
    x.pinned = true;
    const next = (x.next = nextPositions(x.seq.length));
    const capacity = x.seq.length;
    for (let i = 0; i < 10; i++) {
      next.pos[i] = i * 60;
      next.len[i] = 50;
    }
    for (let i = 10; i < capacity * 3; i++) add(x, i);
    expect(x.seq.length).toBeGreaterThan(capacity);
    expect(x.next!.pos.length).toBe(x.seq.length);
    for (let i = 0; i < 10; i++) expect([x.next!.pos[i], x.next!.len[i]]).toEqual([i * 60, 50]);
    for (let i = 10; i < x.n; i++) expect([x.next!.pos[i], x.next!.len[i]]).toEqual([NaN, -1]);
  });
});
