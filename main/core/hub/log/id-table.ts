// Call id → number, off the JS heap: each id's UTF-8 bytes in one arena, found by open addressing.
// A Map<string, number> costs ~70 bytes of V8 heap per id (the string and its entry); a hub keeps a
// million ids and more, and every byte of live heap also raises how far V8 lets the heap grow.

import { grown } from './typed-arrays';

const EMPTY = -1;
const TOMB = -2;
let scratch = Buffer.allocUnsafe(1024);

/** The id's UTF-8 bytes (in a shared scratch buffer, valid until the next call). */
function bytesOf(id: string): Buffer {
  if (id.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(Math.max(id.length * 3, scratch.length * 2));
  return scratch.subarray(0, scratch.write(id, 'utf8'));
}

function hashOf(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

export class IdTable {
  private arena = new Uint8Array(512);
  private used = 0;
  private off = new Int32Array(16);
  private len = new Int32Array(16);
  private hash = new Uint32Array(16);
  /** record → its value; -1 once deleted. */
  value = new Int32Array(16);
  /** Records handed out (live or deleted). */
  records = 0;
  /** Live records. */
  size = 0;
  /** Open addressing over records: EMPTY, TOMB or a record. */
  private table = new Int32Array(32).fill(EMPTY);
  private tombs = 0;

  /** The record of `id`, or -1. */
  find(id: string): number {
    const b = bytesOf(id);
    return this.lookup(b, hashOf(b));
  }

  get(id: string): number | undefined {
    const r = this.find(id);
    return r < 0 ? undefined : this.value[r];
  }

  /** Adds `id` (not present) with `value`; returns its record. */
  insert(id: string, value: number): number {
    const b = bytesOf(id);
    const h = hashOf(b);
    if ((this.size + this.tombs + 1) * 2 > this.table.length) this.rehash(Math.max(32, nextPow2((this.size + 1) * 4)));
    if (this.records === this.off.length) this.growRecords();
    while (this.used + b.length > this.arena.length) this.arena = grown(this.arena, this.arena.length * 2);
    const r = this.records++;
    this.arena.set(b, this.used);
    this.off[r] = this.used;
    this.len[r] = b.length;
    this.hash[r] = h;
    this.value[r] = value;
    this.used += b.length;
    this.size++;
    this.place(r, h);
    return r;
  }

  delete(r: number): void {
    const mask = this.table.length - 1;
    for (let i = this.hash[r]! & mask; ; i = (i + 1) & mask) {
      const t = this.table[i]!;
      if (t === EMPTY) return;
      if (t === r) {
        this.table[i] = TOMB;
        this.tombs++;
        this.value[r] = -1;
        this.size--;
        return;
      }
    }
  }

  /** Whether deleted records take much room (then pack()). */
  get sparse(): boolean {
    return this.records - this.size > Math.max(this.size, 64);
  }

  /** Drops deleted records; returns old record → new record (-1 for deleted). */
  pack(): Int32Array {
    const to = new Int32Array(this.records).fill(-1);
    const c = Math.max(16, nextPow2(this.size + 1));
    const arena = new Uint8Array(Math.max(512, nextPow2(this.used)));
    const off = new Int32Array(c);
    const len = new Int32Array(c);
    const hash = new Uint32Array(c);
    const value = new Int32Array(c);
    let w = 0;
    let used = 0;
    for (let r = 0; r < this.records; r++) {
      if (this.value[r]! < 0) continue;
      arena.set(this.arena.subarray(this.off[r]!, this.off[r]! + this.len[r]!), used);
      off[w] = used;
      len[w] = this.len[r]!;
      hash[w] = this.hash[r]!;
      value[w] = this.value[r]!;
      used += this.len[r]!;
      to[r] = w++;
    }
    this.arena = arena;
    this.used = used;
    this.off = off;
    this.len = len;
    this.hash = hash;
    this.value = value;
    this.records = w;
    this.rehash(Math.max(32, nextPow2((this.size + 1) * 4)));
    return to;
  }

  private lookup(b: Uint8Array, h: number): number {
    const mask = this.table.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const r = this.table[i]!;
      if (r === EMPTY) return -1;
      if (r >= 0 && this.hash[r] === h && this.len[r] === b.length && this.same(r, b)) return r;
    }
  }

  private same(r: number, b: Uint8Array): boolean {
    const o = this.off[r]!;
    for (let i = 0; i < b.length; i++) if (this.arena[o + i] !== b[i]) return false;
    return true;
  }

  private place(r: number, h: number): void {
    const mask = this.table.length - 1;
    let i = h & mask;
    while (this.table[i]! >= 0) i = (i + 1) & mask;
    if (this.table[i] === TOMB) this.tombs--;
    this.table[i] = r;
  }

  private rehash(capacity: number): void {
    this.table = new Int32Array(capacity).fill(EMPTY);
    this.tombs = 0;
    for (let r = 0; r < this.records; r++) if (this.value[r]! >= 0) this.place(r, this.hash[r]!);
  }

  private growRecords(): void {
    const c = this.off.length * 2;
    this.off = grown(this.off, c);
    this.len = grown(this.len, c);
    this.hash = grown(this.hash, c);
    this.value = grown(this.value, c);
  }
}

function nextPow2(n: number): number {
  let c = 1;
  while (c < n) c *= 2;
  return c;
}

