// The hub's PBX-wide call log: every record of every extension, each with the hub sequence number of
// its latest change, so a client can ask "what changed since N". It reuses the personal call log's
// journal (append-only checksummed JSON lines, group commit + fdatasync, torn-tail repair, compaction)
// and its single-writer lock; the line layout is its own:
//   {"callpop":"hub-log","version":1,"head":N}   header (after a compaction: the head seq then)
//   {"b":N}                                      a start: seqs of this run begin after N
//   {"s":N,"r":{record}}                         a record change (the record of (extension, id) with the highest s wins)
//
// Seqs are monotonic with gaps: each start skips ahead SEQ_START_GAP past everything on disk and
// writes that down before accepting anything. A change is published before it is durable, so a
// crash can lose a seq a client has already seen; the gap guarantees no later change reuses it (a
// client asking "since" that seq would otherwise never get the change that took its number).
import type { CallRecord } from '../../../shared/call-record';
import { silentLogger, type Logger } from '../../../shared/log';
import { mkdir } from 'node:fs/promises';
import { JournalWriter, LogReader, encodeLine, fileError, readLog } from '../call-log/journal';
import { acquireLock } from '../call-log/lock';

export const SEQ_START_GAP = 1_000_000;
const formatVersion = 1;

interface Entry {
  readonly id: string;
  ext: string;
  readonly seq: number;
  /** Byte position and length of the record JSON in the file (valid once json is null). */
  pos: number;
  len: number;
  /** The record JSON until it is on disk (then read back by position). */
  json: string | null;
  readonly open: boolean;
  /** startedAt in ms (retention). */
  readonly startMs: number;
  /** endedAt in ms, or null while open (tracker restore of recent calls). */
  readonly endMs: number | null;
}

export interface SeqRecord {
  seq: number;
  record: CallRecord;
}

const headerOf = (head: number): string => JSON.stringify({ callpop: 'hub-log', version: formatVersion, head });
const recordPrefix = (seq: number): string => `{"s":${seq},"r":`;

export class HubLog {
  /** extension → (call id → entry), each map in ascending seq order (an update moves its entry to the end). */
  private readonly byExt = new Map<string, Map<string, Entry>>();
  /** One string per extension name, shared by its entries. */
  private readonly extNames = new Map<string, string>();
  /** Entries whose write failed: written again with the next append. */
  private readonly dirty = new Set<Entry>();
  private headSeq: number;
  private count = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly writer: JournalWriter,
    private readonly reader: LogReader,
    private readonly release: () => Promise<void>,
    head: number,
    entries: Entry[],
  ) {
    this.headSeq = head;
    entries.sort((a, b) => a.seq - b.seq);
    for (const e of entries) {
      e.ext = this.internExt(e.ext);
      this.place(e);
    }
  }

  /** Opens (creating) the hub log in `dir`, taking its lock; writes this run's start seq before resolving. */
  static async open(dir: string, opts: { logger?: Logger } = {}): Promise<HubLog> {
    const logger = opts.logger ?? silentLogger;
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw fileError('open', dir, err);
    }
    const release = await acquireLock(dir);
    let reader: LogReader | null = null;
    try {
      reader = await LogReader.open(dir);
      const latest = new Map<string, Entry>();
      let head = 0;
      let undecodable = 0;
      const loaded = await readLog(dir, reader, logger, (content, pos, ascii) => {
        const e = decodeLine(content, pos, ascii);
        if (e === null) undecodable++;
        else if (typeof e === 'number') head = Math.max(head, e);
        else {
          head = Math.max(head, e.seq);
          const key = `${e.ext}\u0000${e.id}`;
          const old = latest.get(key);
          if (!old || old.seq < e.seq) latest.set(key, e);
        }
      });
      if (undecodable > 0) logger.warn(`Hub log in ${dir}: ignored ${undecodable} line(s) in an unknown layout`);
      const writer = await JournalWriter.open(dir, loaded.validBytes, loaded.fileBytes, loaded.lines, headerOf(head), logger);
      reader.ensureOpen();
      const start = head + SEQ_START_GAP;
      if (start > Number.MAX_SAFE_INTEGER) throw new Error(`Hub log in ${dir}: sequence numbers exhausted`);
      await writer.append(encodeLine(JSON.stringify({ b: start })), 1, () => {});
      return new HubLog(dir, writer, reader, release, start, [...latest.values()]);
    } catch (err) {
      reader?.close();
      await release();
      throw err;
    }
  }

  /** The seq of the latest change (or this run's start). */
  get head(): number {
    return this.headSeq;
  }

  get size(): number {
    return this.count;
  }

  extensions(): string[] {
    return [...this.byExt.keys()];
  }

  get(ext: string, id: string): SeqRecord | undefined {
    const e = this.byExt.get(ext)?.get(id);
    return e ? { seq: e.seq, record: this.recordOf(e) } : undefined;
  }

  /**
   * Gives each record the next seq now (in order) and starts writing them; `durable` resolves once they
   * (and any earlier failed writes) are on disk, or rejects (they stay queued for the next append).
   */
  append(records: readonly CallRecord[]): { seqs: number[]; durable: Promise<void> } {
    if (this.closed) return { seqs: [], durable: Promise.reject(new Error(`The hub log in ${this.dir} is closed`)) };
    const fresh: Entry[] = records.map((r) => {
      const json = JSON.stringify(r);
      const e: Entry = {
        id: r.id,
        // One string per extension (the map's key), not one per record.
        ext: this.internExt(r.extension),
        seq: ++this.headSeq,
        pos: -1,
        len: -1,
        json,
        open: r.status !== 'ended',
        startMs: Date.parse(r.startedAt),
        endMs: r.endedAt ? Date.parse(r.endedAt) : null,
      };
      this.place(e);
      return e;
    });
    const retry = [...this.dirty].filter((e) => this.current(e));
    this.dirty.clear();
    return { seqs: fresh.map((e) => e.seq), durable: this.write([...retry, ...fresh]) };
  }

  /** Writes what earlier failed writes left (resolves at once when nothing is left). */
  retryDirty(): Promise<void> {
    const retry = [...this.dirty].filter((e) => this.current(e));
    this.dirty.clear();
    return this.write(retry);
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  /**
   * Records of `ext` whose latest change has a seq > `after`, ascending by seq, at most `limit`;
   * `more` when there were more.
   */
  since(ext: string, after: number, limit: number): { records: SeqRecord[]; more: boolean } {
    const map = this.byExt.get(ext);
    const out: SeqRecord[] = [];
    if (!map || after >= this.headSeq) return { records: out, more: false };
    for (const e of map.values()) {
      if (e.seq <= after) continue;
      if (out.length === limit) return { records: out, more: true };
      out.push({ seq: e.seq, record: this.recordOf(e) });
    }
    return { records: out, more: false };
  }

  /** Calls not ended, every extension (tracker restore). */
  openCalls(): CallRecord[] {
    const out: CallRecord[] = [];
    for (const map of this.byExt.values()) for (const e of map.values()) if (e.open) out.push(this.recordOf(e));
    return out;
  }

  /** Calls that ended at or after sinceMs (tracker restore: late recordings). */
  recent(sinceMs: number): CallRecord[] {
    const out: CallRecord[] = [];
    for (const map of this.byExt.values()) for (const e of map.values()) if (e.endMs !== null && e.endMs >= sinceMs) out.push(this.recordOf(e));
    return out;
  }

  /**
   * Forgets ended calls that started before olderThanMs (retention) and rewrites the file without
   * them; resolves once rewritten. Should the rewrite fail, a restart brings them back (to be pruned again).
   */
  async prune(olderThanMs: number): Promise<number> {
    let n = 0;
    for (const [ext, map] of this.byExt) {
      for (const [id, e] of map) {
        if (!e.open && e.startMs < olderThanMs && e.json === null) {
          map.delete(id);
          n++;
        }
      }
      if (map.size === 0) this.byExt.delete(ext);
    }
    this.count -= n;
    if (n > 0 && !this.closed) {
      this.compact(true);
      // The writer runs a requested compaction before the next batch: this empty one ends after it.
      await this.writer.append('', 0, () => {});
    }
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer.close();
    } finally {
      this.reader.close();
      await this.release();
    }
  }

  private recordOf(e: Entry): CallRecord {
    return JSON.parse(e.json ?? this.reader.read(e.pos, e.len)) as CallRecord;
  }

  private internExt(ext: string): string {
    let name = this.extNames.get(ext);
    if (name === undefined) this.extNames.set(ext, (name = ext));
    return name;
  }

  private current(e: Entry): boolean {
    return this.byExt.get(e.ext)?.get(e.id) === e;
  }

  private place(e: Entry): void {
    let map = this.byExt.get(e.ext);
    if (!map) this.byExt.set(e.ext, (map = new Map()));
    const had = map.delete(e.id);
    map.set(e.id, e);
    if (!had) this.count++;
  }

  private write(entries: Entry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const jsons = entries.map((e) => e.json ?? this.reader.read(e.pos, e.len));
    const lines = entries.map((e, i) => encodeLine(`${recordPrefix(e.seq)}${jsons[i]}}`));
    return this.writer
      .append(lines.join(''), lines.length, (at) => {
        let offset = at;
        entries.forEach((e, i) => {
          const lineBytes = Buffer.byteLength(lines[i]!);
          const prefix = 9 + recordPrefix(e.seq).length;
          // On disk now: read it back from the file from here on (only if no newer change replaced it).
          if (e.json !== null) {
            const len = Buffer.byteLength(e.json);
            Object.assign(e, { pos: offset + prefix, len, json: null });
          }
          offset += lineBytes;
        });
        this.compact(false);
      })
      .catch((err: unknown) => {
        for (const e of entries) if (this.current(e)) this.dirty.add(e);
        throw err;
      });
  }

  /** Rewrites the file with only live records when superseded lines dominate (or when forced). */
  private compact(force: boolean): void {
    const writer = this.writer;
    if (!force && !(writer.lines - this.count > Math.max(this.count, 2000))) return;
    let moved: { e: Entry; pos: number; len: number }[] = [];
    let previous: { e: Entry; pos: number; len: number; json: string | null }[] = [];
    const byExt = this.byExt;
    const reader = this.reader;
    const dirty = this.dirty;
    const head = this.headSeq;
    writer.requestCompaction({
      *lines() {
        moved = [];
        const header = encodeLine(headerOf(head));
        let offset = Buffer.byteLength(header);
        yield header;
        // The writer runs this between writes: no entry changes meanwhile.
        for (const map of byExt.values()) {
          for (const e of map.values()) {
            const json = e.json ?? reader.read(e.pos, e.len);
            const line = encodeLine(`${recordPrefix(e.seq)}${json}}`);
            moved.push({ e, pos: offset + 9 + recordPrefix(e.seq).length, len: Buffer.byteLength(json) });
            offset += Buffer.byteLength(line);
            yield line;
          }
        }
      },
      switchTo(path) {
        reader.switchTo(path);
        previous = moved.map(({ e }) => ({ e, pos: e.pos, len: e.len, json: e.json }));
        for (const m of moved) {
          Object.assign(m.e, { pos: m.pos, len: m.len, json: null });
          dirty.delete(m.e);
        }
        moved = [];
      },
      revert() {
        reader.switchTo();
        for (const p of previous) Object.assign(p.e, { pos: p.pos, len: p.len, json: p.json });
        previous = [];
      },
    });
  }
}

/** A line's content: a record entry, a seq mark (header head / start base), or null when unknown. */
function decodeLine(content: string, pos: number, ascii: boolean): Entry | number | null {
  if (content.startsWith('{"s":')) {
    const at = content.indexOf(',"r":');
    const seq = Number(content.slice(5, at));
    if (at < 0 || !Number.isSafeInteger(seq) || !content.endsWith('}')) return null;
    const json = content.slice(at + 5, -1);
    let r: Partial<CallRecord>;
    try {
      r = JSON.parse(json) as Partial<CallRecord>;
    } catch {
      return null;
    }
    if (typeof r.id !== 'string' || typeof r.extension !== 'string' || typeof r.startedAt !== 'string') return null;
    return {
      id: r.id,
      ext: r.extension,
      seq,
      pos: pos + at + 5,
      len: ascii ? json.length : Buffer.byteLength(json),
      json: null,
      open: r.status !== 'ended',
      startMs: Date.parse(r.startedAt),
      endMs: typeof r.endedAt === 'string' ? Date.parse(r.endedAt) : null,
    };
  }
  try {
    const j = JSON.parse(content) as { b?: unknown; head?: unknown; callpop?: unknown; version?: unknown };
    if (typeof j.b === 'number') return j.b;
    if (j.callpop === 'hub-log') {
      if (j.version !== formatVersion) throw new Error(`The hub log was written by another version of Callpop (format ${String(j.version)}); update Callpop to read it`);
      return typeof j.head === 'number' ? j.head : 0;
    }
  } catch (e) {
    if (e instanceof SyntaxError) return null;
    throw e;
  }
  return null;
}
