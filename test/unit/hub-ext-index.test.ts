// One extension's hot slots in the hub log: an id keeps exactly one live slot through frees,
// squeezes and id-table packs (a pack renumbers the table's records under a change in progress).
import { describe, expect, it } from 'vitest';
import { ExtIndex } from '../../main/core/hub/log/ext-index';

const facts = (seq: number) => ({ seq, open: false, startMs: 0, endMs: 0 });

describe('ExtIndex', () => {
  it('gives a changed id one live slot even when making room packs the id table', () => {
    const x = new ExtIndex();
    let seq = 0;
    for (let i = 0; i < 200; i++) x.add(`id${i}`, facts(++seq), null, i, 1);
    // Forget most ids (records going cold): the id table is now sparse.
    for (let i = 0; i < 190; i++) x.remove(x.slotOf(`id${i}`)!);
    // Changes of the ids left fill the arrays until making room squeezes them and packs the table.
    for (let round = 0; round < 50; round++) for (let i = 190; i < 200; i++) x.add(`id${i}`, facts(++seq), null, seq, 1);
    expect(x.live).toBe(10);
    let liveSlots = 0;
    for (let s = 0; s < x.n; s++) if (x.isLive(s)) liveSlots++;
    expect(liveSlots).toBe(10);
    for (let i = 190; i < 200; i++) expect(x.seq[x.slotOf(`id${i}`)!]).toBe(seq - 199 + i);
    expect(x.slotOf('id5')).toBeUndefined();
  });
});
