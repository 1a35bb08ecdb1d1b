// The hub log's off-heap id table against a Map: inserts, lookups, deletes, packing, non-ASCII ids.
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../main/core/hub/log/id-table';

describe('IdTable', () => {
  it('finds every id a Map would, through growth, deletes and packs', () => {
    const t = new IdTable();
    const m = new Map<string, number>();
    const records = new Map<string, number>();
    const idOf = (i: number): string => (i % 7 === 0 ? `Ünïcødé-${i}-☎` : i % 5 === 0 ? `${'x'.repeat(300)}${i}` : `17${i}_${i * 3}`);
    for (let i = 0; i < 5000; i++) {
      const id = idOf(i);
      records.set(id, t.insert(id, i));
      m.set(id, i);
    }
    // Delete two in three, then pack and keep checking with the new record numbers.
    for (let i = 0; i < 5000; i++) {
      if (i % 3 === 0) continue;
      t.delete(records.get(idOf(i))!);
      m.delete(idOf(i));
    }
    expect(t.size).toBe(m.size);
    expect(t.sparse).toBe(true);
    const moved = t.pack();
    for (const [id, r] of records) if (m.has(id)) records.set(id, moved[r]!);
    for (let i = 0; i < 5000; i++) expect(t.get(idOf(i))).toBe(m.get(idOf(i)));
    for (const [id, v] of m) expect(t.value[records.get(id)!]).toBe(v);
    // Ids differing only in their last byte, and prefixes of one another, stay apart.
    t.insert('A1', 1);
    t.insert('A1 ', 2);
    t.insert('A', 3);
    expect([t.get('A1'), t.get('A1 '), t.get('A'), t.get('A2')]).toEqual([1, 2, 3, undefined]);
  });
});
