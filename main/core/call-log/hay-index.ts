// Number search over many records: every distinct set of search keys ("hay") is stored once in one
// big string, so a query is a few native indexOf scans instead of one substring test per record.
// Records refer to their hay by a small integer id.
export class HayIndex {
  private readonly ids = new Map<string, number>();
  /** Start offset of each hay in `blob` (plus the end offset). */
  private readonly offsets: number[] = [0];
  private blob = '';
  private pending: string[] = [];

  get size(): number {
    return this.ids.size;
  }

  intern(hay: string): number {
    let id = this.ids.get(hay);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(hay, id);
      this.pending.push(hay);
      // "\n" separates hays (keys are digits and commas), so no match spans two of them.
      this.offsets.push(this.offsets[this.offsets.length - 1]! + hay.length + 1);
    }
    return id;
  }

  /** Appends hays interned since the last search to the searched string. */
  flush(): void {
    if (this.pending.length > 0) {
      this.blob += `${this.pending.join('\n')}\n`;
      this.pending = [];
    }
  }

  /** matched[id] === 1 for every hay containing one of the keys. */
  match(keys: readonly string[]): Uint8Array {
    this.flush();
    const matched = new Uint8Array(this.ids.size);
    const { blob, offsets } = this;
    for (const key of keys) {
      if (key === '') continue;
      let id = 0;
      for (let p = blob.indexOf(key); p !== -1; ) {
        while (offsets[id + 1]! <= p) id++;
        matched[id] = 1;
        // Done with this hay: continue from the next one.
        p = blob.indexOf(key, offsets[id + 1]!);
      }
    }
    return matched;
  }
}
