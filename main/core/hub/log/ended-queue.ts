// Hot records that ended, in the order of the change that ended them (= seq order): the oldest go
// cold first. An entry whose record changed again since is stale and skipped when it comes up.

export class EndedQueue {
  private ext = new Int32Array(1024);
  private seq = new Float64Array(1024);
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  /** Adds (extension number, seq); seqs must come in ascending order. */
  push(ext: number, seq: number): void {
    if (this.tail === this.seq.length) this.makeRoom();
    this.ext[this.tail] = ext;
    this.seq[this.tail] = seq;
    this.tail++;
  }

  peekExt(): number {
    return this.ext[this.head]!;
  }

  peekSeq(): number {
    return this.seq[this.head]!;
  }

  shift(): void {
    if (this.head < this.tail) this.head++;
  }

  private makeRoom(): void {
    const n = this.length;
    // Shift down when at least half is consumed; grow otherwise (amortised O(1) either way).
    const c = n * 2 <= this.seq.length ? this.seq.length : this.seq.length * 2;
    const ext = c === this.ext.length ? this.ext : new Int32Array(c);
    const seq = c === this.seq.length ? this.seq : new Float64Array(c);
    // set() copies correctly when source and target share a buffer.
    ext.set(this.ext.subarray(this.head, this.tail));
    seq.set(this.seq.subarray(this.head, this.tail));
    this.ext = ext;
    this.seq = seq;
    this.head = 0;
    this.tail = n;
  }
}
