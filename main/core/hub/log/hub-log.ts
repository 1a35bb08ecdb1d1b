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
//
// Memory: open calls and the most recent ended ones (`hotEnded`, default 50,000) are hot: a full
// slot with an id lookup (./ext-index.ts), as the tracker and most backfills need. Older ended
// records are cold (./cold-list.ts): seq, position, length and start only, read from the file when
// a client asks. So the hub's memory follows its recent traffic, not the 90 days it keeps.
import type { CallRecord } from '../../../../shared/call-record';
import { silentLogger, type Logger } from '../../../../shared/diagnostics-log';
import { mkdir } from 'node:fs/promises';
import { JournalWriter, LogReader, encodeLine, fileError, readLog } from '../../call-log/journal';
import { acquireLock } from '../../call-log/lock';
import { ColdList } from './cold-list';
import { EndedQueue } from './ended-queue';
import { ExtIndex, type SlotFacts } from './ext-index';
import { nextPositions, type NextPositions } from './typed-arrays';

export const SEQ_START_GAP = 1_000_000;
/** Ended records kept hot by default: more than the tracker holds (50,000), so a restore never reads the file. */
export const DEFAULT_HOT_ENDED = 50_000;
const formatVersion = 1;

/** A record line read from the file. */
interface Loaded extends SlotFacts {
  id: string;
  ext: string;
  pos: number;
  len: number;
}

/** A change handed to the writer: which version of which record (its JSON is the slot's pending one). */
interface Change {
  x: ExtIndex;
  id: string;
  seq: number;
  json: string;
}

export interface SeqRecord {
  seq: number;
  record: CallRecord;
}

/** One extension's records: the hot slots and the cold entries (older, ended, on disk only). */
interface ExtLog {
  /** Its number in the ended queue. */
  no: number;
  hot: ExtIndex;
  cold: ColdList;
}

const headerOf = (head: number): string => JSON.stringify({ callpop: 'hub-log', version: formatVersion, head });
const recordPrefix = (seq: number): string => `{"s":${seq},"r":`;

export class HubLog {
  /** extension → its records. */
  private readonly byExt = new Map<string, ExtLog>();
  /** ExtLog by number (undefined once dropped), for the ended queue. */
  private readonly extByNo: (ExtLog | undefined)[] = [];
  private readonly ended = new EndedQueue();
  /** Changes whose write failed: written again with the next append. */
  private dirty: Change[] = [];
  /** Indexes a compaction of the file is recording positions in (released by the next write). */
  private pinned: ExtLog[] = [];
  /** What a compaction replaced, to put back should the new file not take the log's place. */
  private undo: { x: ExtIndex; pos: Float64Array; len: Int32Array; pending: Map<number, string> }[] = [];
  private coldUndo: { c: ColdList; pos: Float64Array; len: Int32Array; dropped: number }[] = [];
  private undoDirty: Change[] = [];
  private headSeq: number;
  private count = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly writer: JournalWriter,
    private readonly reader: LogReader,
    private readonly release: () => Promise<void>,
    head: number,
    loaded: Map<string, ExtIndex>,
    private readonly hotEnded: number,
  ) {
    this.headSeq = head;
    // Everything loaded is hot at first; the oldest ended records beyond hotEnded go cold.
    const endedSeqs: number[] = [];
    for (const [ext, x] of loaded) {
      x.sortBySeq();
      this.extLog(ext, x);
      this.count += x.live;
      for (let s = 0; s < x.n; s++) if (x.isLive(s) && !x.isOpen(s)) endedSeqs.push(x.seq[s]!);
    }
    const cut = endedSeqs.length > hotEnded ? endedSeqs.sort((a, b) => a - b)[endedSeqs.length - hotEnded - 1]! : -Infinity;
    const queued: { no: number; seq: number }[] = [];
    for (const e of this.byExt.values()) {
      const x = e.hot;
      for (let s = 0; s < x.n; s++) {
        if (!x.isLive(s) || x.isOpen(s)) continue;
        if (x.seq[s]! <= cut) {
          e.cold.push(x.seq[s]!, x.pos[s]!, x.len[s]!, x.startMs[s]!);
          x.remove(s);
        } else queued.push({ no: e.no, seq: x.seq[s]! });
      }
      x.squeeze();
    }
    for (const q of queued.sort((a, b) => a.seq - b.seq)) this.ended.push(q.no, q.seq);
  }

  /** Opens (creating) the hub log in `dir`, taking its lock; writes this run's start seq before resolving. */
  static async open(dir: string, opts: { logger?: Logger; hotEnded?: number } = {}): Promise<HubLog> {
    const logger = opts.logger ?? silentLogger;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fileError('open', dir, err);
    }
    const release = await acquireLock(dir);
    let reader: LogReader | null = null;
    try {
      reader = await LogReader.open(dir);
      // Straight into the columnar indexes (no object per line kept): the newest line per (extension, id) wins.
      const byExt = new Map<string, ExtIndex>();
      let head = 0;
      let undecodable = 0;
      const loaded = await readLog(dir, reader, logger, (content, pos, ascii) => {
        const e = decodeLine(content, pos, ascii);
        if (e === null) undecodable++;
        else if (typeof e === 'number') head = Math.max(head, e);
        else {
          head = Math.max(head, e.seq);
          let x = byExt.get(e.ext);
          if (!x) byExt.set(e.ext, (x = new ExtIndex()));
          const old = x.slotOf(e.id);
          if (old === undefined || x.seq[old]! < e.seq) x.add(e.id, e, null, e.pos, e.len);
        }
      });
      if (undecodable > 0) logger.warn(`Hub log in ${dir}: ignored ${undecodable} line(s) in an unknown layout`);
      const writer = await JournalWriter.open(dir, loaded.validBytes, loaded.fileBytes, loaded.lines, headerOf(head), logger);
      reader.ensureOpen();
      const start = head + SEQ_START_GAP;
      if (start > Number.MAX_SAFE_INTEGER) throw new Error(`Hub log in ${dir}: sequence numbers exhausted`);
      await writer.append(encodeLine(JSON.stringify({ b: start })), 1, () => {});
      return new HubLog(dir, writer, reader, release, start, byExt, Math.max(0, opts.hotEnded ?? DEFAULT_HOT_ENDED));
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

  /** Records held cold (tests, figures). */
  get coldSize(): number {
    let n = 0;
    for (const e of this.byExt.values()) n += e.cold.live;
    return n;
  }

  /** The latest change of (ext, id); a cold record is searched for in the file (tests and tools, not the hot path). */
  get(ext: string, id: string): SeqRecord | undefined {
    const e = this.byExt.get(ext);
    if (!e) return undefined;
    const s = e.hot.slotOf(id);
    if (s !== undefined) return { seq: e.hot.seq[s]!, record: this.recordOf(e.hot, s) };
    const c = e.cold;
    for (let i = c.n - 1; i >= 0; i--) {
      if (!c.isLive(i)) continue;
      const json = this.reader.read(c.pos[i]!, c.len[i]!);
      if (idOf(json) === id) return { seq: c.seq[i]!, record: JSON.parse(json) as CallRecord };
    }
    return undefined;
  }

  /**
   * Gives each record the next seq now (in order) and starts writing them; `durable` resolves once they
   * (and any earlier failed writes) are on disk, or rejects (they stay queued for the next append).
   */
  append(records: readonly CallRecord[]): { seqs: number[]; durable: Promise<void> } {
    if (this.closed) return { seqs: [], durable: Promise.reject(new Error(`The hub log in ${this.dir} is closed`)) };
    const fresh: Change[] = records.map((r) => {
      const e = this.byExt.get(r.extension) ?? this.extLog(r.extension, new ExtIndex());
      const x = e.hot;
      const seq = ++this.headSeq;
      const had = x.live;
      const json = JSON.stringify(r);
      const open = r.status !== 'ended';
      // A record that was cold gets a hot slot here too: its cold entry is superseded (readers skip it).
      x.add(r.id, { seq, open, startMs: Date.parse(r.startedAt), endMs: r.endedAt ? Date.parse(r.endedAt) : null }, json);
      if (!open) this.ended.push(e.no, seq);
      this.count += x.live - had;
      return { x, id: r.id, seq, json };
    });
    const retry = this.takeDirty();
    return { seqs: fresh.map((c) => c.seq), durable: this.write([...retry, ...fresh]) };
  }

  /** Writes what earlier failed writes left (resolves at once when nothing is left). */
  retryDirty(): Promise<void> {
    return this.write(this.takeDirty());
  }

  get hasDirty(): boolean {
    return this.dirty.length > 0;
  }

  /**
   * Records of `ext` whose latest change has a seq > `after`, ascending by seq, at most `limit`;
   * `more` when there were more.
   */
  since(ext: string, after: number, limit: number): { records: SeqRecord[]; more: boolean } {
    const e = this.byExt.get(ext);
    const out: SeqRecord[] = [];
    if (!e || after >= this.headSeq) return { records: out, more: false };
    const { hot: x, cold: c } = e;
    // Two runs ascending by seq, merged: cold entries (older) and hot slots.
    let i = c.firstAfter(after);
    let s = x.firstAfter(after);
    for (;;) {
      while (i < c.n && !c.isLive(i)) i++;
      while (s < x.n && !x.isLive(s)) s++;
      if (i >= c.n && s >= x.n) return { records: out, more: false };
      if (out.length === limit) return { records: out, more: true };
      if (i < c.n && (s >= x.n || c.seq[i]! < x.seq[s]!)) {
        const record = JSON.parse(this.reader.read(c.pos[i]!, c.len[i]!)) as CallRecord;
        // Changed again since it went cold: its hot slot is the newer change (sent in its turn, or already had).
        if (x.slotOf(record.id) === undefined) out.push({ seq: c.seq[i]!, record });
        i++;
      } else {
        out.push({ seq: x.seq[s]!, record: this.recordOf(x, s) });
        s++;
      }
    }
  }

  /** Calls not ended, every extension (tracker restore). Never cold. */
  openCalls(): CallRecord[] {
    const out: CallRecord[] = [];
    for (const { hot: x } of this.byExt.values()) for (let s = 0; s < x.n; s++) if (x.isLive(s) && x.isOpen(s)) out.push(this.recordOf(x, s));
    return out;
  }

  /** Hot calls that ended at or after sinceMs (tracker restore: late recordings; the tracker holds fewer than hotEnded). */
  recent(sinceMs: number): CallRecord[] {
    const out: CallRecord[] = [];
    for (const { hot: x } of this.byExt.values()) for (let s = 0; s < x.n; s++) if (x.isLive(s) && x.endMs[s]! >= sinceMs) out.push(this.recordOf(x, s));
    return out;
  }

  /**
   * Forgets ended calls that started before olderThanMs (retention) and rewrites the file without
   * them; resolves once rewritten. Should the rewrite fail, a restart brings them back (to be pruned again).
   */
  async prune(olderThanMs: number): Promise<number> {
    let n = 0;
    for (const [ext, e] of this.byExt) {
      const x = e.hot;
      for (let s = 0; s < x.n; s++) {
        if (x.isLive(s) && !x.isOpen(s) && x.startMs[s]! < olderThanMs && !x.pending.has(s)) {
          x.remove(s);
          n++;
        }
      }
      n += e.cold.removeStartedBefore(olderThanMs);
      if (x.live === 0 && e.cold.live === 0 && !x.pinned) {
        this.byExt.delete(ext);
        this.extByNo[e.no] = undefined;
      } else x.squeeze();
    }
    this.count -= n;
    if (n > 0 && !this.closed) {
      this.compact(true);
      // The writer runs a requested compaction before the next batch: this empty one ends after it.
      await this.writer.append('', 0, () => this.unpin());
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

  private extLog(ext: string, hot: ExtIndex): ExtLog {
    const e: ExtLog = { no: this.extByNo.length, hot, cold: new ColdList() };
    this.extByNo.push(e);
    this.byExt.set(ext, e);
    return e;
  }

  /** Moves the oldest ended hot records past hotEnded to cold (only once on disk: a pending one waits for its write). */
  private demote(): void {
    const q = this.ended;
    while (q.length > this.hotEnded) {
      const e = this.extByNo[q.peekExt()];
      const seq = q.peekSeq();
      if (e) {
        const x = e.hot;
        const s = x.firstAfter(seq - 1);
        if (s < x.n && x.seq[s] === seq && x.isLive(s) && !x.isOpen(s)) {
          if (x.pending.has(s)) return;
          e.cold.push(seq, x.pos[s]!, x.len[s]!, x.startMs[s]!);
          x.remove(s);
          x.squeeze();
        }
      }
      q.shift();
    }
  }

  private recordOf(x: ExtIndex, s: number): CallRecord {
    return JSON.parse(x.pending.get(s) ?? this.reader.read(x.pos[s]!, x.len[s]!)) as CallRecord;
  }

  /** The slot holding this change if it is still its record's latest and not yet on disk. */
  private unwritten(c: Change): number | undefined {
    const s = c.x.slotOf(c.id);
    return s !== undefined && c.x.seq[s] === c.seq && c.x.pending.has(s) ? s : undefined;
  }

  private takeDirty(): Change[] {
    const retry = this.dirty.filter((c) => this.unwritten(c) !== undefined);
    this.dirty = [];
    return retry;
  }

  private write(changes: Change[]): Promise<void> {
    if (changes.length === 0) return Promise.resolve();
    const lines = changes.map((c) => encodeLine(`${recordPrefix(c.seq)}${c.json}}`));
    // Byte lengths only: the line strings need not stay alive until the fsync (thousands may be in flight).
    const lineBytes = lines.map((l) => Buffer.byteLength(l));
    return this.writer
      .append(lines.join(''), lines.length, (at) => {
        this.unpin();
        let offset = at;
        changes.forEach((c, i) => {
          // On disk now: read it back from the file from here on (unless a newer change replaced it,
          // or a compaction already put it in the new file).
          const s = this.unwritten(c);
          if (s !== undefined) {
            c.x.pos[s] = offset + 9 + recordPrefix(c.seq).length;
            c.x.len[s] = Buffer.byteLength(c.json);
            c.x.pending.delete(s);
          }
          offset += lineBytes[i]!;
        });
        for (const c of changes) c.x.squeeze();
        this.demote();
        this.compact(false);
      })
      .catch((err: unknown) => {
        for (const c of changes) if (this.unwritten(c) !== undefined) this.dirty.push(c);
        throw err;
      });
  }

  /** Ends a compaction's hold on slot numbers (the writer has moved on to a write). */
  private unpin(): void {
    for (const { hot, cold } of this.pinned) {
      hot.pinned = false;
      hot.next = null;
      cold.pinned = false;
      cold.next = null;
      cold.squeeze();
    }
    this.pinned = [];
    this.undo = [];
    this.coldUndo = [];
    this.undoDirty = [];
  }

  /** Rewrites the file with only live records when superseded lines dominate (or when forced). */
  private compact(force: boolean): void {
    if (!force && !(this.writer.lines - this.count > Math.max(this.count, 2000))) return;
    const head = this.headSeq;
    this.writer.requestCompaction({
      lines: () => this.compactedLines(head),
      switchTo: (path) => this.switchTo(path),
      revert: () => this.revert(),
    });
  }

  /** The compacted file's lines, noting where each slot's JSON lands in it. */
  private *compactedLines(head: number): Generator<string> {
    this.unpin();
    const header = encodeLine(headerOf(head));
    let offset = Buffer.byteLength(header);
    yield header;
    /** The line of a record in the new file, noting where its JSON lands there as entry `i` of `next`. */
    const place = (seq: number, json: string, next: NextPositions, i: number): string => {
      const prefix = recordPrefix(seq);
      const line = encodeLine(`${prefix}${json}}`);
      next.pos[i] = offset + 9 + prefix.length;
      next.len[i] = Buffer.byteLength(json);
      offset += Buffer.byteLength(line);
      return line;
    };
    // The writer runs this between writes: no position changes meanwhile, but appends may add slots
    // (visited too: x.n is read each time) and free visited ones (their new slot comes later).
    for (const e of this.byExt.values()) {
      const x = e.hot;
      x.next = nextPositions(x.seq.length);
      x.pinned = true;
      const cold = e.cold;
      cold.next = nextPositions(cold.seq.length);
      cold.pinned = true;
      this.pinned.push(e);
      // Cold entries newest first: an older one of the same id, or one the hot slots supersede, is left out.
      const seen = new Set<string>();
      for (let i = cold.n - 1; i >= 0; i--) {
        if (!cold.isLive(i)) continue;
        const json = this.reader.read(cold.pos[i]!, cold.len[i]!);
        const id = idOf(json);
        if (seen.has(id) || x.slotOf(id) !== undefined) continue;
        seen.add(id);
        yield place(cold.seq[i]!, json, cold.next!, i);
      }
      for (let s = 0; s < x.n; s++) {
        if (!x.isLive(s)) continue;
        // x.next, read each time: growing the arrays replaces it.
        yield place(x.seq[s]!, x.pending.get(s) ?? this.reader.read(x.pos[s]!, x.len[s]!), x.next!, s);
      }
    }
  }

  /** The compacted file is complete and about to become the log: positions from it, its records no longer pending. */
  private switchTo(path: string): void {
    this.reader.switchTo(path);
    for (const { hot: x, cold } of this.pinned) {
      // Cold entries left out of the new file (superseded) are removed; revert() brings them back.
      const cn = cold.next!;
      let dropped = 0;
      for (let i = 0; i < cold.n; i++) {
        if (!cold.isLive(i)) cn.len[i] = -1;
        else if (Number.isNaN(cn.pos[i])) {
          cn.len[i] = -1;
          dropped++;
        }
      }
      cold.live -= dropped;
      this.count -= dropped;
      this.coldUndo.push({ c: cold, pos: cold.pos, len: cold.len, dropped });
      cold.pos = cn.pos;
      cold.len = cn.len;
      cold.next = null;
      const next = x.next!;
      const pending = new Map<number, string>();
      for (let s = 0; s < x.n; s++) {
        if (Number.isNaN(next.pos[s])) {
          next.pos[s] = x.pos[s]!;
          next.len[s] = x.len[s]!;
        } else {
          const json = x.pending.get(s);
          if (json !== undefined) {
            pending.set(s, json);
            x.pending.delete(s);
          }
        }
      }
      this.undo.push({ x, pos: x.pos, len: x.len, pending });
      x.pos = next.pos;
      x.len = next.len;
      x.next = null;
    }
    this.undoDirty = this.dirty;
    this.dirty = this.dirty.filter((c) => this.unwritten(c) !== undefined);
  }

  /** The compacted file did not replace the log: back to the log's positions (slots are still pinned). */
  private revert(): void {
    this.reader.switchTo();
    for (const { c, pos, len, dropped } of this.coldUndo) {
      c.pos = pos;
      c.len = len;
      c.live += dropped;
      this.count += dropped;
    }
    this.coldUndo = [];
    for (const { x, pos, len, pending } of this.undo) {
      const n = Math.min(pos.length, x.n);
      x.pos.set(pos.subarray(0, n));
      x.len.set(len.subarray(0, n));
      for (const [s, json] of pending) if (x.isLive(s)) x.pending.set(s, json);
    }
    this.dirty = [...this.undoDirty];
    this.undo = [];
    this.undoDirty = [];
  }
}

/** A record JSON's id (JSON.stringify of a CallRecord starts with it; parsed in full otherwise). */
function idOf(json: string): string {
  if (json.startsWith('{"id":"')) {
    const end = json.indexOf('"', 7);
    if (end > 0 && json.lastIndexOf('\\', end) < 7) return json.slice(7, end);
  }
  return String((JSON.parse(json) as { id?: unknown }).id);
}

/** A line's content: a record entry, a seq mark (header head / start base), or null when unknown. */
function decodeLine(content: string, pos: number, ascii: boolean): Loaded | number | null {
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
