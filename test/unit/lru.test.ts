import { describe, expect, it } from 'vitest';
import { LruMap } from '../../shared/lru';

describe('LruMap', () => {
  it('never holds more than max entries', () => {
    const m = new LruMap<number, number>(100);
    for (let i = 0; i < 10_000; i++) {
      m.set(i, i);
      expect(m.size).toBeLessThanOrEqual(100);
    }
    expect(m.size).toBeGreaterThanOrEqual(50);
  });
  it('keeps recently used entries and forgets old ones', () => {
    const m = new LruMap<string, number>(10);
    m.set('keep', 1);
    for (let i = 0; i < 100; i++) {
      m.set(`k${i}`, i);
      expect(m.get('keep')).toBe(1); // touching it keeps it young
    }
    expect(m.has('k0')).toBe(false);
    expect(m.get('k99')).toBe(99);
  });
  it('updates in place', () => {
    const m = new LruMap<string, number>(4);
    m.set('a', 1).set('a', 2);
    expect(m.get('a')).toBe(2);
    expect(m.size).toBe(1);
  });
  it('addMissing after a miss is set without the lookup: same entries, same bound', () => {
    const a = new LruMap<string, number>(10);
    const b = new LruMap<string, number>(10);
    for (let i = 0; i < 100; i++) {
      const k = `k${i % 37}`;
      if (a.get(k) === undefined) a.addMissing(k, i);
      if (b.get(k) === undefined) b.set(k, i);
      expect(a.size).toBe(b.size);
      expect(a.size).toBeLessThanOrEqual(10);
    }
    for (let i = 0; i < 37; i++) expect(a.get(`k${i}`)).toBe(b.get(`k${i}`));
  });
});
