// The call log file: append-only JSON lines, each "<crc32 hex> <json>\n". A line is a record (the last
// line of an id wins) or a tombstone {"deleted": id}. Writes are grouped: everything appended while a
// write is in flight goes out in the next single write + fdatasync, and only then is acknowledged.
import { crc32 } from 'node:zlib';
import { closeSync, open as openCb, openSync, read as readCb, readSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../shared/diagnostics-log';

export const logFileName = 'calls.jsonl';
const readAsync = promisify(readCb);
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

/**
 * Reads records back from the log file by byte position. It holds one descriptor on the file it
 * loaded, so positions stay right even if another process replaces the file (a compaction by the
 * writer while `callpop log` reads); the writer moves it to the compacted file with switchTo.
 */
export class LogReader {
  private constructor(
    private readonly dir: string,
    private fd: number | null,
  ) {}

  /** Opens the log file of `dir` (no descriptor while there is no file yet). */
  static async open(dir: string): Promise<LogReader> {
    try {
      return new LogReader(dir, await promisify(openCb)(join(dir, logFileName), 'r'));
    } catch (err) {
      if (errCode(err) === 'ENOENT') return new LogReader(dir, null);
      throw fileError('read', dir, err);
    }
  }

  /** Reads up to `length` bytes at file offset `position` into buf[offset…]; 0 at the end (or with no file). */
  async readAt(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    if (this.fd === null) return 0;
    try {
      return (await readAsync(this.fd, buf, offset, length, position)).bytesRead;
    } catch (err) {
      throw fileError('read', this.dir, err);
    }
  }

  /** For a writer that has just created the file. */
  ensureOpen(): void {
    this.fd ??= openSync(join(this.dir, logFileName), 'r');
  }

  read(pos: number, len: number): string {
    if (this.fd === null) throw new Error(`Cannot read the call log in ${this.dir}: it is closed`);
    const buf = Buffer.allocUnsafe(len);
    for (let off = 0; off < len; ) {
      const n = readSync(this.fd, buf, off, len - off, pos + off);
      if (n === 0) throw new Error(`Cannot read the call log in ${this.dir}: a record lies past the end of the file`);
      off += n;
    }
    return buf.toString('utf8');
  }

  /** Reads from `path` from now on (a compacted file; the log itself to go back). */
  switchTo(path: string = join(this.dir, logFileName)): void {
    const fd = openSync(path, 'r');
    const old = this.fd;
    this.fd = fd;
    if (old !== null) closeSync(old);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

export interface LoadedLog {
  /** Lines whose checksum is right. */
  lines: number;
  /** Bytes up to the end of the last valid line. */
  validBytes: number;
  fileBytes: number;
}

/** A valid line: its content (after the checksum), the content's byte offset in the file, and whether
 * the line is all ASCII (character offsets in it are byte offsets). */
export type LineHandler = (content: string, pos: number, ascii: boolean) => void;

/** Bytes read at a time when opening (a chunk's text is garbage once its lines are decoded). */
export const defaultChunkBytes = 1 << 18;

/**
 * Reads the log through `reader`, handing each valid line to `onLine` in file order; invalid lines in
 * the middle are skipped (and reported), a bad tail is left out of validBytes. The file is read in
 * chunks of whole lines, so opening never holds the whole file (twice: bytes and text) at once.
 */
export async function readLog(dir: string, reader: LogReader, logger: Logger, onLine: LineHandler, chunkBytes = defaultChunkBytes): Promise<LoadedLog> {
  const path = join(dir, logFileName);
  let buf = Buffer.allocUnsafe(chunkBytes);
  /** File offset of buf[0]; bytes [0, carry) of buf are a line begun in the previous chunk. */
  let filePos = 0;
  let carry = 0;
  let lineNo = 0;
  let valid = 0;
  let validBytes = 0;
  const skipped: { lineNo: number; validBefore: number }[] = [];
  for (;;) {
    if (carry === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, carry);
      buf = bigger;
    }
    const n = await reader.readAt(buf, carry, buf.length - carry, filePos + carry);
    // Bytes after the last "\n" are a torn write (never acknowledged).
    if (n === 0) break;
    const filled = carry + n;
    const last = buf.lastIndexOf(newline, filled - 1);
    if (last === -1) {
      carry = filled;
      continue;
    }
    // One decode per chunk is much faster than per-line Buffer slices. Damaged bytes may decode to
    // U+FFFD, which fails the checksum; "\n" bytes never occur inside UTF-8 sequences, so chunks end
    // on whole characters and the text's lines are the bytes' lines.
    const text = buf.toString('utf8', 0, last + 1);
    const allAscii = text.length === last + 1;
    let byteStart = 0;
    for (let start = 0, end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
      const at = allAscii ? start : byteStart;
      const byteEnd = allAscii ? end : buf.indexOf(newline, byteStart);
      byteStart = byteEnd + 1;
      lineNo++;
      if (end - start > 9 && text.charCodeAt(start + 8) === 0x20) {
        const crc = hex8(text, start);
        const content = text.slice(start + 9, end);
        if (crc !== -1 && crc32(content) === crc) {
          onLine(content, filePos + at + 9, allAscii || byteEnd - at === end - start);
          valid++;
          validBytes = filePos + byteEnd + 1;
          continue;
        }
      }
      skipped.push({ lineNo, validBefore: valid });
    }
    buf.copy(buf, 0, last + 1, filled);
    carry = filled - last - 1;
    filePos += last + 1;
  }
  // Invalid lines after the last valid one are a torn tail (cut off by the writer), not damage in the middle.
  const middle = skipped.filter((s) => s.validBefore < valid).map((s) => s.lineNo);
  if (middle.length > 0) {
    logger.warn(`Call log ${path}: skipped ${middle.length} damaged line(s) (line ${middle.slice(0, 5).join(', ')}${middle.length > 5 ? ', …' : ''})`);
  }
  return { lines: valid, validBytes, fileBytes: filePos + carry };
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

interface Batch {
  data: string;
  lines: number;
  /** Gets the byte offset in the file where `data` was written. */
  onDurable: (at: number) => void;
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
  private compactRequest: Compaction | null = null;
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
      fh = await open(path, 'a', 0o600);
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

  /** Resolves once `data` (whole lines) is on disk; `onDurable(offset of data in the file)` runs just before, in append order. */
  append(data: string, lines: number, onDurable: (at: number) => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`The call log in ${this.dir} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ data, lines, onDurable, resolve, reject });
      this.kick();
    });
  }

  /** Rewrites the file with only `lines()` (run between writes, never during one). */
  requestCompaction(compaction: Compaction): void {
    if (this.lines < this.retryCompactionAt) return;
    this.compactRequest = compaction;
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
    const start = this.size;
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
    let at = start;
    for (const b of batch) {
      const offset = at;
      at += batch.length === 1 ? buf.length : Buffer.byteLength(b.data);
      try {
        b.onDurable(offset);
      } catch (err) {
        // The data is on disk whatever the in-memory bookkeeping did; say so rather than hang the put.
        this.logger.error(`Call log in ${this.dir}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const b of batch) b.resolve();
  }

  private async compact(compaction: Compaction): Promise<void> {
    this.compactRequest = null;
    const path = join(this.dir, logFileName);
    const temp = join(this.dir, compactTempName);
    let switched = false;
    let renamed = false;
    try {
      const out = await open(temp, 'w', 0o600);
      let size = 0;
      let count = 0;
      try {
        let chunk: string[] = [];
        let chunkLen = 0;
        for (const line of compaction.lines()) {
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
      // Records are read from the complete new file from now on (it becomes the log by the rename).
      compaction.switchTo(temp);
      switched = true;
      try {
        await this.fh.close();
        await rename(temp, path);
        renamed = true;
        this.size = size;
        this.lines = count;
        this.needsTruncate = false;
        await syncDir(this.dir);
      } finally {
        this.fh = await open(path, 'a', 0o600);
      }
      this.logger.info(`Call log ${path}: compacted to ${size} bytes`);
    } catch (err) {
      if (switched && !renamed) compaction.revert();
      if (!renamed) await unlink(temp).catch(() => {});
      this.retryCompactionAt = this.lines * 2;
      this.logger.warn(`Call log ${path}: compaction failed, keeping the current file (${fileError('write', this.dir, err).message})`);
    }
  }
}

/** A rewrite of the log with only live lines. */
export interface Compaction {
  lines(): Iterable<string>;
  /** The new file is complete at `path` and about to replace the log: read records from it. */
  switchTo(path: string): void;
  /** Replacing the log failed: read records from the log again, at their old positions. */
  revert(): void;
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
