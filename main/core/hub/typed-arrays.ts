// Growing the typed-array columns of the hub log's indexes (./ext-index.ts, ./cold-list.ts, ./id-table.ts).

export type Column = Float64Array | Int32Array | Uint32Array | Uint8Array;

/** A copy of `from` in a new array of the same type with room for `capacity` entries. */
export function grown<T extends Column>(from: T, capacity: number): T {
  const to = new (from.constructor as new (n: number) => T)(capacity);
  to.set(from);
  return to;
}
