// The writable end of a download: copies incoming network chunks into two 1 MiB buffers and
// writes one in the background while the other fills. Compared with one async write per 64 KiB
// socket chunk this keeps the fs thread-pool round trips ~16x fewer and lets chunk buffers die
// young, which is most of the CPU (and GC) cost of a loopback-speed download. Every 16 MiB an
// fdatasync runs in the background, so the fsync before the rename does not stall on the whole
// file. Writes are positional on a file descriptor the caller keeps open across retries.
import fs from 'node:fs';
import { Writable } from 'node:stream';

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

export class FileSink extends Writable {
  readonly #fd: number;
  readonly #check: (chunk: Buffer) => Error | null;
  readonly #buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(bufferSize), Buffer.allocUnsafe(bufferSize)];
  #current: 0 | 1 = 0;
  #used = 0;
  #position: number;
  /** The background write; never rejects (its error lands in `failure`). */
  #inflight: Promise<void> | null = null;
  /** Background fdatasync; never rejects. */
  #syncing: Promise<void> | null = null;
  #unsynced = 0;
  /** The file-side error, if writing failed (pipeline errors may also come from the network side). */
  failure: Error | null = null;

  /** `check` sees each chunk first and may refuse it (size cap, progress); its error fails the stream. */
  constructor(fd: number, start: number, check: (chunk: Buffer) => Error | null) {
    super({ highWaterMark: 256 * 1024 });
    this.#fd = fd;
    this.#position = start;
    this.#check = check;
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
      () => this.#maybeSync(),
      (err: Error) => {
        this.failure ??= err;
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

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const refused = this.#check(chunk);
    if (refused) return cb(refused);
    if (this.failure) return cb(this.failure);
    let offset = 0;
    const fill = (): void => {
      while (offset < chunk.length) {
        const buf = this.#buffers[this.#current];
        const n = chunk.copy(buf, this.#used, offset);
        this.#used += n;
        offset += n;
        if (this.#used === buf.length) {
          // Full: the other buffer may still be on its way to disk; wait for it, then swap.
          const previous = this.#inflight;
          if (previous) {
            void previous.then(() => {
              this.#inflight = null;
              if (this.failure) return cb(this.failure);
              this.#flush();
              fill();
            });
            return;
          }
          this.#flush();
        }
      }
      cb();
    };
    fill();
  }

  override _final(cb: (err?: Error | null) => void): void {
    void this.settled().then(() => {
      if (this.failure) return cb(this.failure);
      if (this.#used > 0) this.#flush();
      void this.settled().then(() => cb(this.failure));
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    void this.settled().then(() => cb(err));
  }
}
