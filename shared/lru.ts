// A bounded map that forgets the least recently used entries, in O(1) without per-entry deletes.
// Two generations: new and touched entries go to `young`; when it is half full it becomes `old`
// and the previous `old` is dropped whole. (Evicting one key at a time with Map#keys().next()
// slows down in V8 as deleted slots pile up at the front of the table.) Values are never undefined,
// so a miss costs one lookup per generation (the tracker asks for every webhook of the PBX).
export class LruMap<K, V extends NonNullable<unknown> | null> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  /** Holds at most `max` entries (and at least max / 2 once that many were added). */
  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const w = this.old.get(key);
    if (w === undefined) return undefined;
    this.old.delete(key);
    this.put(key, w);
    return w;
  }

  has(key: K): boolean {
    return this.young.has(key) || this.old.has(key);
  }

  set(key: K, value: V): this {
    // Set in place when young holds it; otherwise it is new to young (moved from old, or new).
    const before = this.young.size;
    this.young.set(key, value);
    if (this.young.size !== before) {
      this.old.delete(key);
      this.rotate();
    }
    return this;
  }

  /** set() for a key get() just missed (no lookup to find it): the tracker's path for every new call id. */
  addMissing(key: K, value: V): this {
    this.put(key, value);
    return this;
  }

  delete(key: K): boolean {
    const a = this.young.delete(key);
    return this.old.delete(key) || a;
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  private put(key: K, value: V): void {
    this.young.set(key, value);
    this.rotate();
  }

  private rotate(): void {
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}
