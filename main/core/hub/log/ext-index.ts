// One extension's records in the hub log, columnar: a slot per kept change (typed arrays grown by
// half) and an off-heap table from call id to its live slot (./id-table.ts). No object per record: a hub keeps every call
// of the PBX for 90 days, and an object per record (~250 bytes) made its memory grow past 1 GB.
//
// Slots are in ascending seq order (a change takes the next slot and frees its id's previous one), so
// "what changed since N" is a binary search then a scan. Freed slots are squeezed out when the arrays
// are full, unless a compaction of the file is recording positions by slot number (`pinned`).

import { grown, grownNext, type NextPositions } from './typed-arrays';
import { IdTable } from './id-table';

const LIVE = 1;
const OPEN = 2;
const minCapacity = 16;

export interface SlotFacts {
  seq: number;
  open: boolean;
  startMs: number;
  /** endedAt in ms, or null while there is none. */
  endMs: number | null;
}

export class ExtIndex {
  /** call id → its live slot */
  private ids = new IdTable();
  /** slot → its id's record in `ids` */
  private rec: Int32Array;
  /** The record JSON of slots not yet on disk (then read back by position). */
  pending = new Map<number, string>();
  seq: Float64Array;
  /** Byte position and length of the record JSON in the file (valid unless pending). */
  pos: Float64Array;
  len: Int32Array;
  /** startedAt in ms (retention). */
  startMs: Float64Array;
  /** endedAt in ms, NaN when none (tracker restore of recent calls). */
  endMs: Float64Array;
  private flags: Uint8Array;
  /** Slots in use (live or freed). */
  n = 0;
  /** A compaction of the file is under way: slots keep their number (never squeezed) until unpinned. */
  pinned = false;
  /** Where that compaction put each slot's JSON in the new file (NaN: not there). */
  next: NextPositions | null = null;

  constructor(capacity = minCapacity) {
    const c = Math.max(minCapacity, capacity);
    this.seq = new Float64Array(c);
    this.pos = new Float64Array(c);
    this.len = new Int32Array(c);
    this.startMs = new Float64Array(c);
    this.endMs = new Float64Array(c);
    this.flags = new Uint8Array(c);
    this.rec = new Int32Array(c);
  }

  get live(): number {
    return this.ids.size;
  }

  isLive(slot: number): boolean {
    return (this.flags[slot]! & LIVE) !== 0;
  }

  isOpen(slot: number): boolean {
    return (this.flags[slot]! & OPEN) !== 0;
  }

  /** The slot of `id`, or undefined. */
  slotOf(id: string): number | undefined {
    return this.ids.get(id);
  }

  /**
   * Puts a change of `id` in a new slot (freeing its previous one), with its JSON pending or its file
   * position; returns the slot. Its seq must be above every slot's (appends; open() sorts afterwards).
   */
  add(id: string, facts: SlotFacts, json: string | null, pos = -1, len = -1): number {
    // Room first: squeezing may pack the id table, which renumbers its records.
    if (this.n === this.seq.length) this.makeRoom();
    let r = this.ids.find(id);
    if (r >= 0) this.free(this.ids.value[r]!);
    const s = this.n++;
    if (r >= 0) this.ids.value[r] = s;
    else r = this.ids.insert(id, s);
    this.rec[s] = r;
    this.seq[s] = facts.seq;
    this.pos[s] = pos;
    this.len[s] = len;
    this.startMs[s] = facts.startMs;
    this.endMs[s] = facts.endMs ?? NaN;
    this.flags[s] = LIVE | (facts.open ? OPEN : 0);
    if (json !== null) this.pending.set(s, json);
    return s;
  }

  /** Forgets the record in live slot `s` (retention). */
  remove(s: number): void {
    if (!this.isLive(s)) return;
    this.ids.delete(this.rec[s]!);
    this.free(s);
  }

  /** The first slot whose seq is above `after` (n when none). */
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

  /** Drops freed slots and puts the live ones in ascending seq order (after loading a file, whose lines need not be). */
  sortBySeq(): void {
    const order = new Uint32Array(this.live);
    let k = 0;
    for (let s = 0; s < this.n; s++) if (this.flags[s]! & LIVE) order[k++] = s;
    const seq = this.seq;
    order.sort((a, b) => seq[a]! - seq[b]!);
    this.rebuild(order);
  }

  /** Drops freed slots when there are many (not while a compaction of the file is recording positions by slot). */
  squeeze(): void {
    if (this.pinned || this.n - this.live <= Math.max(this.live, minCapacity)) return;
    this.rebuild(null);
  }

  private free(s: number): void {
    this.flags[s] = 0;
    this.pending.delete(s);
  }

  private makeRoom(): void {
    // Squeezing rather than growing when at least a quarter of the slots are freed.
    if (!this.pinned && this.n - this.live >= this.n / 4) return this.rebuild(null);
    const c = Math.ceil(this.seq.length * 1.5);
    this.seq = grown(this.seq, c);
    this.pos = grown(this.pos, c);
    this.len = grown(this.len, c);
    this.startMs = grown(this.startMs, c);
    this.endMs = grown(this.endMs, c);
    this.flags = grown(this.flags, c);
    this.rec = grown(this.rec, c);
    if (this.next) this.next = grownNext(this.next, c);
  }

  /** Rewrites the arrays with only the live slots, in `order` (ascending slot order when null). */
  private rebuild(order: Uint32Array | null): void {
    const live = this.live;
    // Room for half as many again: the next squeeze comes after live/2 changes (amortised O(1) each).
    const c = Math.max(minCapacity, live + (live >> 1));
    const seq = new Float64Array(c);
    const pos = new Float64Array(c);
    const len = new Int32Array(c);
    const startMs = new Float64Array(c);
    const endMs = new Float64Array(c);
    const flags = new Uint8Array(c);
    const rec = new Int32Array(c);
    const to = new Int32Array(this.n).fill(-1);
    let w = 0;
    const take = (s: number): void => {
      seq[w] = this.seq[s]!;
      pos[w] = this.pos[s]!;
      len[w] = this.len[s]!;
      startMs[w] = this.startMs[s]!;
      endMs[w] = this.endMs[s]!;
      flags[w] = this.flags[s]!;
      rec[w] = this.rec[s]!;
      to[s] = w++;
    };
    if (order) for (const s of order) take(s);
    else for (let s = 0; s < this.n; s++) if (this.flags[s]! & LIVE) take(s);
    const ids = this.ids;
    for (let r = 0; r < ids.records; r++) if (ids.value[r]! >= 0) ids.value[r] = to[ids.value[r]!]!;
    if (ids.sparse) {
      const moved = ids.pack();
      for (let s = 0; s < w; s++) rec[s] = moved[rec[s]!]!;
    }
    const pending = new Map<number, string>();
    for (const [s, json] of this.pending) if (to[s]! >= 0) pending.set(to[s]!, json);
    this.seq = seq;
    this.pos = pos;
    this.len = len;
    this.startMs = startMs;
    this.endMs = endMs;
    this.flags = flags;
    this.rec = rec;
    this.n = w;
    this.pending = pending;
  }
}

