// The call log file: append-only JSON lines, each "<crc32 hex> <json>\n". A line is a record (the last
// line of an id wins) or a tombstone {"deleted": id}. Writes are grouped: everything appended while a
// write is in flight goes out in the next single write + fdatasync, and only then is acknowledged.
import { crc32 } from 'node:zlib';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../shared/log';

export const logFileName = 'calls.jsonl';
const compactTempName = 'calls.jsonl.compact';
const newline = 0x0a;

export const encodeLine = (json: string): string => `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;

const errCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

const reasons: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EFBIG: 'file too large (file size limit reached)',
};

export function fileError(verb: 'write' | 'open' | 'read', dir: string, err: unknown): Error {
  const reason = reasons[errCode(err) ?? ''] ?? (err instanceof Error ? err.message : String(err));
  return new Error(`Cannot ${verb} the call log in ${dir}: ${reason}`, { cause: err });
}

export interface LoadedLog {
  /** Content (after the checksum) of every line whose checksum is right, in file order. */
  lines: string[];
  /** Bytes up to the end of the last valid line. */
  validBytes: number;
  fileBytes: number;
}

/** Reads the log; invalid lines in the middle are skipped (and reported), a bad tail is left out of validBytes. */
export async function readLog(dir: string, logger: Logger): Promise<LoadedLog> {
  const path = join(dir, logFileName);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return { lines: [], validBytes: 0, fileBytes: 0 };
    throw fileError('read', dir, err);
  }
  // One decode of the whole file is much faster than per-line Buffer slices. Damaged bytes may decode
  // to U+FFFD, which fails the checksum; "\n" bytes never occur inside UTF-8 sequences, so line
  // numbers match the bytes. One slice per line: garbage is what costs most when opening 100k lines.
  const text = buf.toString('utf8');
  const lines: string[] = [];
  const skipped: { lineNo: number; validBefore: number }[] = [];
  let lineNo = 0;
  let lastValid = -1;
  // Text after the last "\n" is a torn write (never acknowledged).
  for (let start = 0, end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
    if (end - start > 9 && text.charCodeAt(start + 8) === 0x20) {
      const crc = hex8(text, start);
      const content = text.slice(start + 9, end);
      if (crc !== -1 && crc32(content) === crc) {
        lines.push(content);
        lastValid = lineNo++;
        continue;
      }
    }
    skipped.push({ lineNo: ++lineNo, validBefore: lines.length });
  }
  // Invalid lines after the last valid one are a torn tail (cut off by the writer), not damage in the middle.
  const middle = skipped.filter((s) => s.validBefore < lines.length).map((s) => s.lineNo);
  if (middle.length > 0) {
    logger.warn(`Call log ${path}: skipped ${middle.length} damaged line(s) (line ${middle.slice(0, 5).join(', ')}${middle.length > 5 ? ', …' : ''})`);
  }
  return { lines, validBytes: byteOffsetAfterLine(buf, lineNo + 1, lastValid), fileBytes: buf.length };
}

/** The 8 hex digits at text[at] as a number, or -1. */
function hex8(text: string, at: number): number {
  let n = 0;
  for (let i = at; i < at + 8; i++) {
    const c = text.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    n = n * 16 + d;
  }
  return n;
}

/** Byte offset just past line `index` (0-based; -1 → 0), found by counting newlines back from the end. */
function byteOffsetAfterLine(buf: Buffer, pieces: number, index: number): number {
  if (index < 0) return 0;
  // The file has pieces - 1 newlines; newline number k (0-based) ends line k.
  let pos = buf.length;
  for (let k = pieces - 2; k >= index; k--) pos = buf.lastIndexOf(newline, pos - 1);
  return pos + 1;
}

interface Batch {
  data: string;
  lines: number;
  onDurable: () => void;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The single writer of a log file. */
export class JournalWriter {
  private queue: Batch[] = [];
  private draining: Promise<void> | null = null;
  /** Bytes known good; after a failed write the file is cut back to this. */
  private size: number;
  private needsTruncate = false;
  private closed = false;
  private compactRequest: (() => Iterable<string>) | null = null;
  /** Lines in the file (live + superseded), to decide when to compact. */
  lines: number;
  /** After a failed compaction, wait until the file has doubled before trying again. */
  private retryCompactionAt = 0;

  private constructor(
    private readonly dir: string,
    private fh: FileHandle,
    size: number,
    lines: number,
    private readonly logger: Logger,
  ) {
    this.size = size;
    this.lines = lines;
  }

  /** Opens for appending, cutting off a torn or invalid tail after `validBytes`. */
  static async open(dir: string, validBytes: number, fileBytes: number, lines: number, header: string, logger: Logger): Promise<JournalWriter> {
    const path = join(dir, logFileName);
    let fh: FileHandle;
    try {
      fh = await open(path, 'a');
      if (fileBytes > validBytes) {
        await fh.truncate(validBytes);
        await fh.datasync();
        logger.warn(`Call log ${path}: removed an incomplete last line (${fileBytes - validBytes} bytes) left by an interrupted write`);
      }
      if (validBytes === 0) {
        const first = Buffer.from(encodeLine(header));
        await fh.write(first);
        await fh.datasync();
        validBytes = first.length;
        lines = 1;
        await syncDir(dir);
      }
    } catch (err) {
      throw fileError('open', dir, err);
    }
    return new JournalWriter(dir, fh, validBytes, lines, logger);
  }

  /** Resolves once `data` (whole lines) is on disk; `onDurable` runs just before, in append order. */
  append(data: string, lines: number, onDurable: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`The call log in ${this.dir} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ data, lines, onDurable, resolve, reject });
      this.kick();
    });
  }

  /** Rewrites the file with only `lines()` (run between writes, never during one). */
  requestCompaction(lines: () => Iterable<string>): void {
    if (this.lines < this.retryCompactionAt) return;
    this.compactRequest = lines;
    this.kick();
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.draining) await this.draining;
    await this.fh.close();
  }

  private kick(): void {
    // setImmediate rather than a microtask: appends issued in the same tick (and the same I/O round) share one write.
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        // A compaction can wait for the next start; closing should be quick.
        if (this.compactRequest && !this.closed) await this.compact(this.compactRequest);
        else if (this.queue.length > 0) await this.writeBatch(this.queue.splice(0));
        else break;
      }
    } finally {
      this.draining = null;
    }
  }

  private async writeBatch(batch: Batch[]): Promise<void> {
    const buf = Buffer.from(batch.length === 1 ? batch[0]!.data : batch.map((b) => b.data).join(''), 'utf8');
    try {
      if (this.needsTruncate) {
        await this.fh.truncate(this.size);
        this.needsTruncate = false;
      }
      for (let off = 0; off < buf.length; ) off += (await this.fh.write(buf, off, buf.length - off)).bytesWritten;
      await this.fh.datasync();
    } catch (err) {
      // Never leave a partial line for later appends to be glued onto.
      this.needsTruncate = true;
      await this.fh.truncate(this.size).then(
        () => (this.needsTruncate = false),
        () => {},
      );
      const error = fileError('write', this.dir, err);
      this.logger.error(error.message);
      for (const b of batch) b.reject(error);
      return;
    }
    this.size += buf.length;
    for (const b of batch) this.lines += b.lines;
    for (const b of batch) {
      try {
        b.onDurable();
      } catch (err) {
        // The data is on disk whatever the in-memory bookkeeping did; say so rather than hang the put.
        this.logger.error(`Call log in ${this.dir}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const b of batch) b.resolve();
  }

  private async compact(lines: () => Iterable<string>): Promise<void> {
    this.compactRequest = null;
    const path = join(this.dir, logFileName);
    const temp = join(this.dir, compactTempName);
    try {
      const out = await open(temp, 'w');
      let size = 0;
      let count = 0;
      try {
        let chunk: string[] = [];
        let chunkLen = 0;
        for (const line of lines()) {
          chunk.push(line);
          count++;
          chunkLen += line.length;
          if (chunkLen >= 1 << 20) {
            size += await writeAll(out, chunk.join(''));
            chunk = [];
            chunkLen = 0;
          }
        }
        size += await writeAll(out, chunk.join(''));
        await out.sync();
      } finally {
        await out.close();
      }
      await this.fh.close();
      try {
        await rename(temp, path);
        await syncDir(this.dir);
        this.size = size;
        this.lines = count;
        this.needsTruncate = false;
      } finally {
        this.fh = await open(path, 'a');
      }
      this.logger.info(`Call log ${path}: compacted to ${size} bytes`);
    } catch (err) {
      await unlink(temp).catch(() => {});
      this.retryCompactionAt = this.lines * 2;
      this.logger.warn(`Call log ${path}: compaction failed, keeping the current file (${fileError('write', this.dir, err).message})`);
    }
  }
}

async function writeAll(fh: FileHandle, text: string): Promise<number> {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
  return buf.length;
}

/** Makes a rename durable; directories cannot be opened for sync on Windows, where NTFS journals it. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL'].includes(errCode(err) ?? '')) throw err;
  } finally {
    await fh?.close();
  }
}
