// While a compaction of the hub log writes its new file, records keep arriving: their slots (hot) and
// entries (cold) are not in that file, so their new position must read "not there" (NaN, -1) even when
// the arrival grows the columns. A 0 there would send the switch to byte 0 of the new file.
import { describe, expect, it } from 'vitest';
import { ColdList } from '../../main/core/hub/cold-list';
import { ExtIndex } from '../../main/core/hub/ext-index';
import { nextPositions } from '../../main/core/hub/typed-arrays';

const facts = (seq: number) => ({ seq, open: false, startMs: 0, endMs: 0 });

describe('positions recorded by a compaction', () => {
  it('mark hot slots added during it as not in the new file, across a growth of the columns', () => {
    const x = new ExtIndex();
    for (let s = 0; s < 10; s++) x.add(`id${s}`, facts(s + 1), null, s * 100, 50);
    x.pinned = true;
    x.next = nextPositions(x.seq.length);
    const capacity = x.seq.length;
    for (let s = 0; s < 10; s++) {
      x.next.pos[s] = s * 60;
      x.next.len[s] = 50;
    }
    for (let s = 10; s < capacity * 3; s++) x.add(`id${s}`, facts(s + 1), `{"id":"id${s}"}`);
    expect(x.seq.length).toBeGreaterThan(capacity);
    expect(x.next.pos.length).toBe(x.seq.length);
    for (let s = 0; s < 10; s++) expect([x.next.pos[s], x.next.len[s]]).toEqual([s * 60, 50]);
    for (let s = 10; s < x.n; s++) expect([x.next.pos[s], x.next.len[s]]).toEqual([NaN, -1]);
  });

  it('mark cold entries added during it as not in the new file, across a growth of the columns', () => {
    const c = new ColdList();
    for (let i = 0; i < 10; i++) c.push(i + 1, i * 100, 50, 0);
    c.pinned = true;
    c.next = nextPositions(c.seq.length);
    const capacity = c.seq.length;
    for (let i = 0; i < 10; i++) {
      c.next.pos[i] = i * 60;
      c.next.len[i] = 50;
    }
    for (let i = 10; i < capacity * 3; i++) c.push(i + 1, i * 100, 50, 0);
    expect(c.seq.length).toBeGreaterThan(capacity);
    expect(c.next.pos.length).toBe(c.seq.length);
    for (let i = 0; i < 10; i++) expect([c.next.pos[i], c.next.len[i]]).toEqual([i * 60, 50]);
    for (let i = 10; i < c.n; i++) expect([c.next.pos[i], c.next.len[i]]).toEqual([NaN, -1]);
  });
});
