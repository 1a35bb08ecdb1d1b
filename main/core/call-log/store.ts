// The personal call log: durable (acknowledged = fdatasync'ed), fast (everything indexed in memory),
// one writer per data directory (lock file), any number of read-only readers (`callpop log`).
// File format and group commit: ./call-log/journal.ts; line layout: ./call-log/entry.ts.
import { mkdir } from 'node:fs/promises';
import { isMissedCall } from '../../../shared/call-outcome';
import { callRecordSchema } from '../../../shared/call-record';
import type { CallRecord } from '../../../shared/call-record';
import type { LogFilter } from '../../../shared/call-log';
import { silentLogger } from '../../../shared/diagnostics-log';
import type { Logger } from '../../../shared/diagnostics-log';
import { numberMatchKey } from '../../../shared/phone';
import { NumberKeys, decodeLine, detached, entryLine, recordColumns, rowOf, rowToObject, tombstoneLine } from './entry';
import type { LogEntry } from './entry';
import { compileFilter } from './filter';
import { HayIndex } from './hay-index';
import { groupMissedPage, type MissedGroup } from './missed-groups';
import { foldText } from './notes';
import { JournalWriter, LogReader, encodeLine, fileError, readLog } from './journal';
import { acquireLock } from './lock';
import { TimeOrder } from './time-order';

export type { LogFilter } from '../../../shared/call-log';
export { parseFilterDate } from './filter';

export interface QueryOptions {
  /** Numbers of contacts whose NAME matches the text (adds them to a text search). */
  numbersForText?: ((text: string) => string[]) | undefined;
  /** Missed calls from one number on one day are one row (missed-groups.ts); `groups` says which. */
  groupMissed?: boolean | undefined;
  /** Ids of calls the text finds by other words than the number (notes, queue/DID names). */
  idsForText?: ((text: string) => ReadonlySet<string>) | undefined;
}

export interface CallLogStore {
  readonly size: number;
  /** The key of a record in this log: its call id, or with OpenOptions.keyOf, that (call id + extension). */
  keyOf(r: CallRecord): string;
  /** Upsert by id; durable when resolved. Once a call is seen it stays seen. A put of a deleted id brings
   * it back (the service checks isDeleted first for the tracker's updates). */
  put(records: readonly CallRecord[]): Promise<void>;
  /** The user deleted this call (and it was not put again since): the tracker's later updates of it (a
   * call deleted while open) must not bring it back. Remembered across restarts, for recent deletions. */
  isDeleted(id: string): boolean;
  get(id: string): CallRecord | undefined;
  /** Newest first. */
  query(filter: LogFilter, page: { offset: number; limit: number }, opts?: QueryOptions): { total: number; records: CallRecord[]; groups?: (MissedGroup | null)[]; calls?: number };
  /** All matches, newest first (export). */
  iterate(filter: LogFilter, opts?: QueryOptions): Iterable<CallRecord>;
  /** Calls with this number (any format), excluding `excludeId`; `last` is the newest of them, `recent`
   * the newest `recentCount` (default 3). `missed` counts missed calls (not own unanswered ones). */
  history(number: string, excludeId?: string, recentCount?: number, beforeMs?: number): { count: number; missed: number; last: CallRecord | null; recent: CallRecord[] };
  /** Ids of the calls that came through one of these queues or DIDs (the log's search by line name). */
  idsOnLines(lines: readonly string[]): Set<string>;
  /** Ids of the calls whose PBX caller name (callerName) contains the text, folded like notes (the log's
   * search by words: a Call Control caller with no contact is found by the name the card showed). */
  idsWithCallerName(text: string): Set<string>;
  /** Calls not ended yet (status ringing or talking), newest first. */
  openCalls(): CallRecord[];
  /** Calls that ended at or after sinceMs (tracker restore). */
  recent(sinceMs: number): CallRecord[];
  /** Incoming missed calls not seen yet. */
  missedUnseen(): number;
  /** Marks the given calls (all unseen ones when omitted) seen; resolves to how many changed. */
  markSeen(ids?: readonly string[]): Promise<number>;
  delete(ids: readonly string[]): Promise<number>;
  /** Deletes ended calls that started before olderThanMs (retention). */
  prune(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Read without taking the writer lock (another process may be writing). */
  readOnly?: boolean;
  logger?: Logger;
  /** ISO 3166 country for reading national numbers (search keys). */
  defaultCountry?: string;
  /**
   * The key of a record (default: its call id, which get/delete/markSeen take). `serve --hub` for an agent
   * with several extensions keys per (call id, extension): a call that rings two of them at once (a ring
   * group) is two records, not one overwriting the other. Records whose key was another are re-keyed
   * when the log opens (a log written before, keyed by call id alone).
   */
  keyOf?: (r: CallRecord) => string;
}

const byCallId = (r: CallRecord): string => r.id;

/** `forget`: a user deletion, remembered so later updates of the call are ignored (retention is not). */
type Change = { id: string; value: CallRecord | null; forget?: boolean };

/** Bumped when the line layout changes (a file of another version is refused with a clear message). Column
 * changes need no bump: the header names the columns, and a file with other columns is validated and rewritten. */
const formatVersion = 2;
/** Format 1 (before the rang-out flag) reads as format 2; the file is rewritten with format 2's header,
 * so no Callpop that knows only format 1 mistakes a rang-out call's flags for a damaged line. */
const readableVersions: readonly unknown[] = [1, formatVersion];
const headerOf = (country: string): string => JSON.stringify({ callpop: 'call-log', version: formatVersion, country, columns: recordColumns });
const sameColumns = (columns: unknown): boolean =>
  Array.isArray(columns) && columns.length === recordColumns.length && columns.every((c, i) => c === recordColumns[i]);

const countsAsMissedUnseen = (e: LogEntry): boolean => isMissedCall(e) && !e.seen;
/** Compact when superseded lines outnumber live records (and are more than a few). */
const needsCompaction = (lines: number, live: number): boolean => lines - live > Math.max(live, 2000);
/** How many user deletions are remembered (kept as tombstones through compaction). A call id names one
 * PBX call (start time + counter), so an update for a deleted id is always that same call, never a new
 * one; only calls deleted recently can still be updated (tracker limits: 12 h), so a bound is safe. */
export const rememberedDeletions = 10_000;

class FileCallLogStore implements CallLogStore {
  private order: TimeOrder;
  private readonly open = new Set<string>();
  private missedUnseenCount = 0;
  /** Changes queued but not yet durable: later read-modify-writes (markSeen) must build on them. */
  private readonly pending = new Map<string, { value: CallRecord | null; forget: boolean; token: object }>();
  private closed = false;
  /** Built on the first number search (keeps open fast), then kept up to date. */
  private hayIndex: HayIndex | null = null;

  constructor(
    private readonly dir: string,
    private readonly keys: NumberKeys,
    /** The live records by id (taken over from the loader). */
    private readonly byId: Map<string, LogEntry>,
    private readonly writer: JournalWriter | null,
    private readonly reader: LogReader,
    private readonly release: (() => Promise<void>) | null,
    /** Ids the user deleted, oldest first (bounded by rememberedDeletions). */
    private readonly deleted: Set<string> = new Set(),
    readonly keyOf: (r: CallRecord) => string = byCallId,
  ) {
    const entries: LogEntry[] = [];
    for (const e of byId.values()) {
      entries.push(e);
      this.count(e, 1);
    }
    this.order = TimeOrder.of(entries);
  }

  get size(): number {
    return this.byId.size;
  }

  async put(records: readonly CallRecord[]): Promise<void> {
    const changes: Change[] = [];
    for (const input of records) {
      const parsed = callRecordSchema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const id = JSON.stringify(String((input as { id?: unknown } | null)?.id));
        throw new Error(`Invalid call record ${id}: ${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}`);
      }
      let record = parsed.data;
      const key = this.keyOf(record);
      // Seen is sticky: the tracker's copy of a call does not know the user looked at it.
      if (!record.seen && this.latest(key)?.seen) record = { ...record, seen: true };
      this.indexLines(record, key);
      this.indexName(record, key);
      changes.push({ id: key, value: record });
    }
    // A redelivered identical record needs no write (unless a change of it is still in flight).
    await this.write(
      changes.filter((c) => {
        const stored = this.byId.get(c.id);
        return this.pending.has(c.id) || stored === undefined || this.jsonOf(stored) !== rowOf(c.value!);
      }),
    );
  }

  isDeleted(id: string): boolean {
    const p = this.pending.get(id);
    return p ? p.value === null && p.forget : this.deleted.has(id);
  }

  /** The stored JSON of an entry: in memory until written, then read back from the file. */
  jsonOf(e: LogEntry): string {
    return e.json ?? this.reader.read(e.pos, e.len);
  }

  recordOf(e: LogEntry): CallRecord {
    return rowToObject(this.jsonOf(e)) as CallRecord;
  }

  get(id: string): CallRecord | undefined {
    const e = this.byId.get(id);
    return e ? this.recordOf(e) : undefined;
  }

  query(filter: LogFilter, page: { offset: number; limit: number }, opts?: QueryOptions): { total: number; records: CallRecord[]; groups?: (MissedGroup | null)[]; calls?: number } {
    const offset = Math.max(0, Math.floor(page.offset));
    const end = offset + Math.max(0, Math.floor(page.limit));
    if (opts?.groupMissed) {
      const r = groupMissedPage(this.matching(filter, opts), offset, end);
      return { total: r.total, calls: r.calls, records: r.rows.map((x) => this.recordOf(x.e)), groups: r.rows.map((x) => x.group) };
    }
    const records: CallRecord[] = [];
    let total = 0;
    for (const e of this.matching(filter, opts)) {
      if (total >= offset && total < end) records.push(this.recordOf(e));
      total++;
    }
    return { total, records };
  }

  *iterate(filter: LogFilter, opts?: QueryOptions): Iterable<CallRecord> {
    // Matches are collected first: an export that awaits between records must not see the order shift.
    const matches = [...this.matching(filter, opts)];
    for (const e of matches) yield this.recordOf(e);
  }

  history(number: string, excludeId?: string, recentCount = 3, beforeMs = Infinity): { count: number; missed: number; last: CallRecord | null; recent: CallRecord[] } {
    const key = numberMatchKey(number, this.keys.defaultCountry);
    let count = 0;
    let missed = 0;
    const recent: LogEntry[] = [];
    if (key !== '') {
      for (const e of this.order.items) {
        // Only calls before the one shown: the history of a call at 01:04 has nothing from 01:06.
        if (e.key !== key || e.id === excludeId || e.t >= beforeMs) continue;
        count++;
        if (isMissedCall(e)) missed++;
        if (recent.length < Math.max(1, recentCount)) recent.push(e);
      }
    }
    const records = recent.map((e) => this.recordOf(e));
    return { count, missed, last: records[0] ?? null, recent: records.slice(0, recentCount) };
  }

  idsOnLines(lines: readonly string[]): Set<string> {
    const ids = new Set<string>();
    if (lines.length === 0) return ids;
    // Queue and DID are not in an entry's meta: read once from the records (a search by a line's name
    // is rare), then kept up to date by put().
    if (!this.lineIndex) {
      this.lineIndex = new Map();
      for (const e of this.byId.values()) this.indexLines(this.recordOf(e), e.id);
    }
    for (const line of lines) for (const id of this.lineIndex.get(line) ?? []) if (this.byId.has(id)) ids.add(id);
    return ids;
  }

  private lineIndex: Map<string, Set<string>> | null = null;

  idsWithCallerName(text: string): Set<string> {
    const ids = new Set<string>();
    const q = foldText(text.trim());
    if (q === '') return ids;
    // Built on the first search by words (reads every record once), then kept up to date by put().
    if (!this.nameIndex) {
      this.nameIndex = new Map();
      for (const e of this.byId.values()) this.indexName(this.recordOf(e), e.id);
    }
    for (const [id, name] of this.nameIndex) if (name.includes(q) && this.byId.has(id)) ids.add(id);
    return ids;
  }

  /** Folded callerName by record key, for the records that have one. */
  private nameIndex: Map<string, string> | null = null;

  private indexName(r: CallRecord, key: string): void {
    if (!this.nameIndex) return;
    if (r.callerName) this.nameIndex.set(key, foldText(r.callerName));
    else this.nameIndex.delete(key);
  }

  private indexLines(r: CallRecord, key: string): void {
    if (!this.lineIndex) return;
    for (const line of [r.queue, r.did]) {
      if (line === null) continue;
      let set = this.lineIndex.get(line);
      if (!set) this.lineIndex.set(line, (set = new Set()));
      set.add(key);
    }
  }

  openCalls(): CallRecord[] {
    return [...this.open]
      .map((id) => this.byId.get(id)!)
      .sort((a, b) => b.t - a.t)
      .map((e) => this.recordOf(e));
  }

  recent(sinceMs: number): CallRecord[] {
    const out: CallRecord[] = [];
    for (const e of this.order.items) if (e.end !== null && e.end >= sinceMs) out.push(this.recordOf(e));
    return out;
  }

  missedUnseen(): number {
    return this.missedUnseenCount;
  }

  async markSeen(ids?: readonly string[]): Promise<number> {
    const targets = ids ? [...new Set(ids)].map((id) => ({ id, r: this.latest(id) })) : this.allLatest((e) => !e.seen).map((x) => ({ id: x.id, r: x.record() }));
    const changes: Change[] = [];
    for (const { id, r } of targets) if (r && !r.seen) changes.push({ id, value: { ...r, seen: true } });
    await this.write(changes);
    return changes.length;
  }

  async delete(ids: readonly string[]): Promise<number> {
    const changes = [...new Set(ids)].filter((id) => this.latest(id)).map((id): Change => ({ id, value: null, forget: true }));
    await this.write(changes);
    return changes.length;
  }

  async prune(olderThanMs: number): Promise<number> {
    const old = this.allLatest((e) => e.status === 'ended' && e.t < olderThanMs);
    const changes = old.filter((x) => {
      const r = x.record();
      return r.status === 'ended' && Date.parse(r.startedAt) < olderThanMs;
    });
    await this.write(changes.map((x): Change => ({ id: x.id, value: null })));
    return changes.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer?.close();
    } finally {
      this.reader.close();
      await this.release?.();
    }
  }

  /** Asks the writer to rewrite the file when superseded lines dominate (it runs between writes). */
  maybeCompact(force = false): void {
    const writer = this.writer;
    if (!writer || !(force || needsCompaction(writer.lines, this.byId.size))) return;
    const { byId, keys, deleted, reader } = this;
    // Where each record's JSON lands in the new file, applied when reads switch to it.
    let moved: { e: LogEntry; pos: number; len: number }[] = [];
    let previous: { e: LogEntry; pos: number; len: number; json: string | null }[] = [];
    const jsonOf = (e: LogEntry): string => this.jsonOf(e);
    writer.requestCompaction({
      *lines() {
        moved = [];
        const header = encodeLine(headerOf(keys.defaultCountry));
        let offset = Buffer.byteLength(header);
        yield header;
        // The writer runs this between writes: no entry changes meanwhile.
        for (const e of byId.values()) {
          const json = jsonOf(e);
          const line = encodeLine(entryLine(e, json));
          const lineBytes = Buffer.byteLength(line);
          const len = e.len >= 0 ? e.len : Buffer.byteLength(json);
          moved.push({ e, pos: offset + lineBytes - 1 - len, len });
          offset += lineBytes;
          yield line;
        }
        // Remembered deletions survive the rewrite (and a restart) as tombstones.
        for (const id of deleted) yield encodeLine(tombstoneLine(id));
      },
      switchTo(path) {
        reader.switchTo(path);
        previous = moved.map(({ e }) => ({ e, pos: e.pos, len: e.len, json: e.json }));
        for (const m of moved) Object.assign(m.e, { pos: m.pos, len: m.len, json: null });
        moved = [];
      },
      revert() {
        reader.switchTo();
        for (const p of previous) Object.assign(p.e, { pos: p.pos, len: p.len, json: p.json });
        previous = [];
      },
    });
  }

  private *matching(filter: LogFilter, opts?: QueryOptions): Generator<LogEntry> {
    const f = compileFilter(filter, {
      defaultCountry: this.keys.defaultCountry,
      numbersForText: opts?.numbersForText,
      idsForText: opts?.idsForText,
      numberMatcher: (keys) => {
        const matched = this.numberIndex().match(keys);
        return (e) => matched[e.hid] === 1;
      },
    });
    const items = this.order.items;
    const end = this.order.firstBelow(f.fromMs);
    for (let i = this.order.firstBelow(f.toMs); i < end; i++) {
      const e = items[i]!;
      if (f.test(e)) yield e;
    }
  }

  warmUp(): void {
    if (!this.closed) this.numberIndex().flush();
  }

  private numberIndex(): HayIndex {
    if (!this.hayIndex) {
      const index = new HayIndex();
      for (const e of this.byId.values()) e.hid = index.intern(e.hay);
      this.hayIndex = index;
    }
    return this.hayIndex;
  }

  /** The newest value of a record, including changes not yet durable. */
  private latest(id: string): CallRecord | null {
    const p = this.pending.get(id);
    if (p) return p.value;
    const e = this.byId.get(id);
    return e ? this.recordOf(e) : null;
  }

  /** Records (including changes in flight) whose committed or pending state passes `pick`; parsed on demand. */
  private allLatest(pick: (e: LogEntry) => boolean): { id: string; record: () => CallRecord }[] {
    const out: { id: string; record: () => CallRecord }[] = [];
    for (const [id, e] of this.byId) if (!this.pending.has(id) && pick(e)) out.push({ id, record: () => this.recordOf(e) });
    for (const [id, p] of this.pending) {
      const value = p.value;
      if (value) out.push({ id, record: () => value });
    }
    return out;
  }

  private async write(changes: Change[]): Promise<void> {
    if (this.closed) throw new Error(`The call log in ${this.dir} is closed`);
    if (!this.writer) throw new Error(`The call log in ${this.dir} was opened read-only`);
    if (changes.length === 0) return;
    const token = {};
    const entries = changes.map((c) => (c.value ? this.keys.entry(c.value, c.id) : null));
    for (const c of changes) this.pending.set(c.id, { value: c.value, forget: c.forget === true, token });
    const settle = (): void => {
      for (const c of changes) if (this.pending.get(c.id)?.token === token) this.pending.delete(c.id);
    };
    const lines = changes.map((c, i) => encodeLine(entries[i] ? entryLine(entries[i]) : tombstoneLine(c.id)));
    try {
      await this.writer.append(lines.join(''), changes.length, (at) => {
        let offset = at;
        changes.forEach((c, i) => {
          const e = entries[i];
          const lineBytes = Buffer.byteLength(lines[i]!);
          if (e) {
            // On disk now: drop the JSON from memory, read it back from the file when needed.
            const len = Buffer.byteLength(e.json!);
            Object.assign(e, { pos: offset + lineBytes - 1 - len, len, json: null });
          }
          offset += lineBytes;
          this.apply(c.id, e ?? null, c.forget === true);
        });
        settle();
        this.maybeCompact();
      });
    } catch (err) {
      settle();
      throw err;
    }
  }

  private apply(id: string, e: LogEntry | null, forget: boolean): void {
    const old = this.byId.get(id);
    if (old) this.count(old, -1);
    if (forget) rememberDeletion(this.deleted, id);
    else this.deleted.delete(id);
    if (e === null) {
      if (old) {
        this.byId.delete(id);
        this.order.remove(old);
      }
      return;
    }
    if (this.hayIndex) e.hid = this.hayIndex.intern(e.hay);
    this.byId.set(id, e);
    if (old) this.order.replace(old, e);
    else this.order.insert(e);
    this.count(e, 1);
  }

  private count(e: LogEntry, sign: 1 | -1): void {
    if (countsAsMissedUnseen(e)) this.missedUnseenCount += sign;
    if (e.status !== 'ended') {
      if (sign > 0) this.open.add(e.id);
      else this.open.delete(e.id);
    }
  }
}

/**
 * Moves the records whose key in the file is not `keyOf`'s (a log keyed by call id alone, opened by
 * `serve --hub` for several extensions) to their key; a record already under that key is newer and
 * stays. Reads every record once: only logs opened with keyOf pay for it. Returns how many moved.
 */
function rekey(latest: Map<string, LogEntry>, keyOf: (r: CallRecord) => string, jsonOf: (e: LogEntry) => string): number {
  const moves: { from: string; to: string; e: LogEntry }[] = [];
  for (const [key, e] of latest) {
    const to = keyOf(rowToObject(jsonOf(e)) as CallRecord);
    if (to !== key) moves.push({ from: key, to, e });
  }
  for (const { from, to, e } of moves) {
    latest.delete(from);
    if (!latest.has(to)) latest.set(to, { ...e, id: to });
  }
  return moves.length;
}

function rememberDeletion(deleted: Set<string>, id: string): void {
  deleted.delete(id);
  deleted.add(id);
  if (deleted.size > rememberedDeletions) deleted.delete(deleted.values().next().value!);
}

/** Opens (creating if needed) the call log in `dir`. A writer takes the directory's lock. */
export async function openCallLogStore(dir: string, opts: OpenOptions = {}): Promise<CallLogStore> {
  const logger = opts.logger ?? silentLogger;
  const keys = new NumberKeys(opts.defaultCountry ?? 'US');
  let release: (() => Promise<void>) | null = null;
  if (!opts.readOnly) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw fileError('open', dir, err);
    }
    try {
      release = await acquireLock(dir);
    } catch (err) {
      // "in use by process N" is already clear; file system errors get the usual wording.
      throw (err as NodeJS.ErrnoException).code ? fileError('open', dir, err) : err;
    }
  }
  let reader: LogReader | null = null;
  try {
    // One descriptor both loads the file and reads records back later (see LogReader).
    reader = await LogReader.open(dir);
    // Last line per id wins; a tombstone removes the id. Tombstones are remembered as deletions (those
    // of retention too, until the next compaction drops them: harmless, pruned calls get no updates).
    const latest = new Map<string, LogEntry>();
    const deleted = new Set<string>();
    // (Assigned in the line callback, which TypeScript's narrowing does not see.)
    let header = null as Record<string, unknown> | null;
    let undecodable = 0;
    // A number's search keys are shared by all its calls: one copy each, detached from the file text.
    const shared = new Map<string, string>();
    const share = (k: string): string => {
      let v = shared.get(k);
      if (v === undefined) shared.set(k, (v = detached(k)));
      return v;
    };
    const loaded = await readLog(dir, reader, logger, (content, pos, ascii) => {
      const d = decodeLine(content, { pos, ascii });
      if (d === null) undecodable++;
      else if (d.kind === 'entry') {
        d.entry.key = detached(d.entry.key);
        d.entry.hay = share(d.entry.hay);
        latest.set(d.entry.id, d.entry);
        // A file from before deletions were remembered may hold a call brought back after a delete.
        deleted.delete(d.entry.id);
      } else if (d.kind === 'tombstone') {
        latest.delete(d.id);
        rememberDeletion(deleted, detached(d.id));
      } else header ??= d.header;
    });
    shared.clear();
    if (undecodable > 0) logger.warn(`Call log in ${dir}: ignored ${undecodable} line(s) in an unknown layout`);
    if (header !== null && !readableVersions.includes(header.version)) {
      throw new Error(`The call log in ${dir} was written by another version of Callpop (format ${String(header.version)}); update Callpop to read it`);
    }
    let rewrite = false;
    if (header === null || !sameColumns(header.columns) || header.version !== formatVersion) {
      // Not a file this version wrote (columns changed, or the header line was damaged): check every
      // record against the schema and rewrite the file in the current layout.
      const columns = header !== null && Array.isArray(header.columns) ? (header.columns as unknown[]).map(String) : recordColumns;
      let invalid = 0;
      for (const [id, e] of latest) {
        const parsed = callRecordSchema.safeParse(rowToObject(e.json ?? reader.read(e.pos, e.len), columns));
        if (parsed.success) latest.set(id, keys.entry(parsed.data, id));
        else {
          latest.delete(id);
          invalid++;
        }
      }
      if (invalid > 0) logger.warn(`Call log in ${dir}: ignored ${invalid} record(s) that are not valid call records`);
      rewrite = latest.size > 0 || loaded.lines > 0;
    } else if (header.country !== keys.defaultCountry) {
      // The stored search keys were made for another default country.
      for (const e of latest.values()) Object.assign(e, keys.of((rowToObject(e.json ?? reader.read(e.pos, e.len)) as CallRecord).number));
      rewrite = true;
    }
    if (opts.keyOf && !opts.readOnly && rekey(latest, opts.keyOf, (e) => e.json ?? reader!.read(e.pos, e.len)) > 0) rewrite = true;
    if (opts.readOnly && loaded.fileBytes > loaded.validBytes) logger.debug(`Call log in ${dir}: ignoring an incomplete last line (being written?)`);
    const writer = opts.readOnly
      ? null
      : await JournalWriter.open(dir, loaded.validBytes, loaded.fileBytes, loaded.lines, headerOf(keys.defaultCountry), logger);
    // A new log file was just created by the writer: read records back from it.
    if (writer) reader.ensureOpen();
    const store = new FileCallLogStore(dir, keys, latest, writer, reader, release, deleted, opts.keyOf);
    store.maybeCompact(rewrite);
    // Build the number index soon after start-up rather than on the user's first search.
    if (!opts.readOnly) setTimeout(() => store.warmUp(), 20).unref();
    return store;
  } catch (err) {
    reader?.close();
    await release?.();
    throw err;
  }
}
