// Growing the typed-array columns of the hub log's indexes (./ext-index.ts, ./cold-list.ts, ./id-table.ts),
// and the positions a compaction records for them by entry number.

export type Column = Float64Array | Int32Array | Uint32Array | Uint8Array;

/** A copy of `from` in a new array of the same type with room for `capacity` entries. */
export function grown<T extends Column>(from: T, capacity: number): T {
  const to = new (from.constructor as new (n: number) => T)(capacity);
  to.set(from);
  return to;
}

/** Where a compaction put each entry's JSON in the new file, by entry number: NaN / -1 where it is not there. */
export interface NextPositions {
  pos: Float64Array;
  len: Int32Array;
}

/** Positions for `capacity` entries, none there yet. */
export function nextPositions(capacity: number): NextPositions {
  return { pos: new Float64Array(capacity).fill(NaN), len: new Int32Array(capacity).fill(-1) };
}

/** `from` with room for `capacity` entries; the new ones are not there yet. */
export function grownNext(from: NextPositions, capacity: number): NextPositions {
  const to = nextPositions(capacity);
  to.pos.set(from.pos);
  to.len.set(from.len);
  return to;
}
