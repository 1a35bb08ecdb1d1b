// One extension's records that only the file holds: ended calls that are no longer among the hub's
// most recent changes. 24 bytes each (seq, position, length, start) instead of the ~130 of a hot
// slot (./ext-index.ts): a hub keeps 90 days of a PBX's calls, and only the recent ones are ever
// changed again, restored into the tracker or asked for by a client that was briefly away.
//
// Entries are in ascending seq order (records go cold oldest change first). There is no id lookup:
// a cold record changed again gets a hot slot with a higher seq and its cold entry is superseded.
// Readers skip it while that hot slot exists; should the newer change go cold too, a backfill sends
// both (ascending seq: a client keeps the highest) until the next compaction or start drops the older.

import { grown, grownNext, type NextPositions } from './typed-arrays';

const minCapacity = 16;
/** Start seconds of a record whose start is unknown: never old enough to prune. */
const NEVER = 0xffffffff;

export class ColdList {
  seq: Float64Array;
  /** Byte position and length of the record JSON in the file; len -1 once removed. */
  pos: Float64Array;
  len: Int32Array;
  /** startedAt in whole seconds (retention). */
  private start: Uint32Array;
  /** Entries in use (live or removed). */
  n = 0;
  live = 0;
  /** A compaction of the file is recording positions by entry number: never packed until unpinned. */
  pinned = false;
  /** Where that compaction put each entry's JSON in the new file (NaN: not there). */
  next: NextPositions | null = null;

  constructor(capacity = minCapacity) {
    const c = Math.max(minCapacity, capacity);
    this.seq = new Float64Array(c);
    this.pos = new Float64Array(c);
    this.len = new Int32Array(c);
    this.start = new Uint32Array(c);
  }

  isLive(i: number): boolean {
    return this.len[i]! >= 0;
  }

  /** Adds a record whose seq is above every entry's. */
  push(seq: number, pos: number, len: number, startMs: number): void {
    if (this.n === this.seq.length) this.makeRoom();
    const i = this.n++;
    this.seq[i] = seq;
    this.pos[i] = pos;
    this.len[i] = len;
    this.start[i] = Number.isFinite(startMs) ? Math.min(NEVER - 1, Math.max(0, Math.floor(startMs / 1000))) : NEVER;
    this.live++;
  }

  /** The first entry whose seq is above `after` (n when none). */
  firstAfter(after: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seq[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  remove(i: number): void {
    if (!this.isLive(i)) return;
    this.len[i] = -1;
    this.live--;
  }

  /** Removes the records that started before olderThanMs; returns how many. */
  removeStartedBefore(olderThanMs: number): number {
    const cut = olderThanMs / 1000;
    let removed = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.isLive(i) && this.start[i]! < cut) {
        this.remove(i);
        removed++;
      }
    }
    this.squeeze();
    return removed;
  }

  /** Drops removed entries when they are many (not while a compaction records positions by entry). */
  squeeze(): void {
    if (this.pinned || this.n - this.live <= Math.max(this.live >> 1, minCapacity)) return;
    this.rebuild();
  }

  private makeRoom(): void {
    if (!this.pinned && this.n - this.live >= this.n / 4) return this.rebuild();
    const c = Math.ceil(this.seq.length * 1.5);
    this.seq = grown(this.seq, c);
    this.pos = grown(this.pos, c);
    this.len = grown(this.len, c);
    this.start = grown(this.start, c);
    if (this.next) this.next = grownNext(this.next, c);
  }

  private rebuild(): void {
    const c = Math.max(minCapacity, this.live + (this.live >> 1));
    const seq = new Float64Array(c);
    const pos = new Float64Array(c);
    const len = new Int32Array(c);
    const start = new Uint32Array(c);
    let w = 0;
    for (let i = 0; i < this.n; i++) {
      if (!this.isLive(i)) continue;
      seq[w] = this.seq[i]!;
      pos[w] = this.pos[i]!;
      len[w] = this.len[i]!;
      start[w] = this.start[i]!;
      w++;
    }
    this.seq = seq;
    this.pos = pos;
    this.len = len;
    this.start = start;
    this.n = w;
  }
}

