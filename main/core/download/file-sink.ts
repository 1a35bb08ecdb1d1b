// The writing end of a download: bytes are copied from the socket's one reused read buffer into
// two 1 MiB buffers, and one is written in the background while the other fills. Nothing is
// allocated per network read (a fresh 64 KiB Buffer per read is what makes Node's http client
// slow and memory-hungry at loopback speed). Every 16 MiB an fdatasync runs in the background, so
// the fsync before the rename does not stall on the whole file. Writes are positional on a file
// descriptor the caller keeps open across retries.
import fs from 'node:fs';

const bufferSize = 1024 * 1024;
/** Flush to disk in the background every this many bytes, so the final fsync has little left to do. */
const syncEvery = 16 * 1024 * 1024;

function writeFully(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number): void => {
      if (off >= buf.length) return resolve();
      fs.write(fd, buf, off, buf.length - off, position + off, (err, n) => (err ? reject(err) : step(off + n)));
    };
    step(0);
  });
}

export class FileSink {
  readonly #fd: number;
  readonly #check: (length: number) => Error | null;
  readonly #buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(bufferSize), Buffer.allocUnsafe(bufferSize)];
  #current: 0 | 1 = 0;
  #used = 0;
  #position: number;
  /** The background write, null once done; never rejects (its error lands in `failure`). */
  #inflight: Promise<void> | null = null;
  /** Background fdatasync; never rejects. */
  #syncing: Promise<void> | null = null;
  #unsynced = 0;
  /** The file-side error, if writing failed. */
  failure: Error | null = null;

  /** `check` sees each piece's length first and may refuse it (size cap, progress). */
  constructor(fd: number, start: number, check: (length: number) => Error | null) {
    this.#fd = fd;
    this.#position = start;
    this.#check = check;
  }

  /**
   * Take src[start, end). Returns null when all of it was copied, or a promise when the disk is
   * behind: then the rest is still read from `src` later, so the caller must neither change
   * src[start, end) nor push more until it resolves. Throws a refusal or a file error.
   */
  push(src: Buffer, start: number, end: number): Promise<void> | null {
    const refused = this.#check(end - start);
    if (refused) throw refused;
    if (this.failure) throw this.failure;
    const s = this.#fill(src, start, end);
    if (s === end) return null;
    return this.#waitAndFill(src, s, end);
  }

  async #waitAndFill(src: Buffer, start: number, end: number): Promise<void> {
    let s = start;
    while (s < end) {
      await this.#inflight;
      if (this.failure) throw this.failure;
      s = this.#fill(src, s, end);
    }
  }

  /** Copy as much as fits without waiting; returns where it stopped. */
  #fill(src: Buffer, start: number, end: number): number {
    let s = start;
    while (s < end) {
      const buf = this.#buffers[this.#current];
      if (this.#used === buf.length) {
        if (this.#inflight) return s;
        this.#flush();
        continue;
      }
      const n = src.copy(buf, this.#used, s, end);
      this.#used += n;
      s += n;
    }
    if (this.#used === bufferSize && !this.#inflight) this.#flush();
    return s;
  }

  /** Write what is buffered and wait for every pending write and sync. */
  async finish(): Promise<void> {
    await this.settled();
    if (this.failure) throw this.failure;
    if (this.#used > 0) this.#flush();
    await this.settled();
    if (this.failure) throw this.failure;
  }

  /** Resolves when no write is pending, so the file size is final (resume reads it). */
  async settled(): Promise<void> {
    await this.#inflight;
    await this.#syncing;
  }

  #flush(): void {
    const buf = this.#buffers[this.#current].subarray(0, this.#used);
    const position = this.#position;
    this.#position += this.#used;
    this.#current = this.#current === 0 ? 1 : 0;
    this.#used = 0;
    this.#unsynced += buf.length;
    this.#inflight = writeFully(this.#fd, buf, position).then(
      () => {
        this.#inflight = null;
        this.#maybeSync();
      },
      (err: Error) => {
        this.failure ??= err;
        this.#inflight = null;
      },
    );
  }

  /** Overlap disk write-back with the download instead of paying for all of it at the end. */
  #maybeSync(): void {
    if (this.#unsynced < syncEvery || this.#syncing) return;
    this.#unsynced = 0;
    this.#syncing = new Promise<void>((resolve) => {
      fs.fdatasync(this.#fd, (err) => {
        if (err) this.failure ??= err;
        this.#syncing = null;
        resolve();
      });
    });
  }
}
