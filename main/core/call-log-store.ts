// The personal call log: durable (acknowledged = fdatasync'ed), fast (everything indexed in memory),
// one writer per data directory (lock file), any number of read-only readers (`callpop log`).
// File format and group commit: ./call-log/journal.ts.
import { mkdir } from 'node:fs/promises';
import { callRecordSchema } from '../../shared/call-record';
import type { CallRecord } from '../../shared/call-record';
import type { LogFilter } from '../../shared/ipc/contract';
import { silentLogger } from '../../shared/log';
import type { Logger } from '../../shared/log';
import { numberMatchKey } from '../../shared/phone';
import { NumberKeys } from './call-log/entry';
import type { LogEntry } from './call-log/entry';
import { compileFilter } from './call-log/filter';
import { JournalWriter, encodeLine, fileError, readLog } from './call-log/journal';
import { acquireLock } from './call-log/lock';
import { TimeOrder } from './call-log/time-order';

export type { LogFilter } from '../../shared/ipc/contract';
export { parseFilterDate } from './call-log/filter';

export interface QueryOptions {
  /** Numbers of contacts whose NAME matches the text (adds them to a text search). */
  numbersForText?: ((text: string) => string[]) | undefined;
}

export interface CallLogStore {
  readonly size: number;
  /** Upsert by id; durable when resolved. Once a call is seen it stays seen. */
  put(records: readonly CallRecord[]): Promise<void>;
  get(id: string): CallRecord | undefined;
  /** Newest first. */
  query(filter: LogFilter, page: { offset: number; limit: number }, opts?: QueryOptions): { total: number; records: CallRecord[] };
  /** All matches, newest first (export). */
  iterate(filter: LogFilter, opts?: QueryOptions): Iterable<CallRecord>;
  /** Calls with this number (any format), excluding `excludeId`; `last` is the newest of them. */
  history(number: string, excludeId?: string): { count: number; missed: number; last: CallRecord | null };
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
}

type Change = { id: string; value: CallRecord | null };

const copy = (r: CallRecord): CallRecord => ({ ...r, recordings: [...r.recordings] });
const countsAsMissedUnseen = (r: CallRecord): boolean => r.direction === 'incoming' && r.result === 'missed' && !r.seen;
/** Compact when superseded lines outnumber live records (and are more than a few). */
const needsCompaction = (lines: number, live: number): boolean => lines - live > Math.max(live, 2000);

function asTombstone(v: unknown): string | null {
  const d = (v as { deleted?: unknown } | null)?.deleted;
  return typeof d === 'string' ? d : null;
}

class FileCallLogStore implements CallLogStore {
  private readonly byId = new Map<string, LogEntry>();
  private order: TimeOrder;
  private readonly open = new Set<string>();
  private missedUnseenCount = 0;
  /** Changes queued but not yet durable: later read-modify-writes (markSeen) must build on them. */
  private readonly pending = new Map<string, { value: CallRecord | null; token: object }>();
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly keys: NumberKeys,
    entries: LogEntry[],
    private readonly writer: JournalWriter | null,
    private readonly release: (() => Promise<void>) | null,
  ) {
    for (const e of entries) {
      this.byId.set(e.record.id, e);
      this.count(e.record, 1);
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
        throw new Error(`Invalid call record ${JSON.stringify(String((input as { id?: unknown }).id))}: ${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}`);
      }
      let record = parsed.data;
      const before = this.latest(record.id);
      if (before?.seen && !record.seen) record = { ...record, seen: true };
      changes.push({ id: record.id, value: record });
    }
    // A redelivered identical record needs no write (only when nothing for it is still in flight).
    const needed = changes.filter((c) => this.pending.has(c.id) || JSON.stringify(this.byId.get(c.id)?.record) !== JSON.stringify(c.value));
    await this.write(needed);
  }

  get(id: string): CallRecord | undefined {
    const e = this.byId.get(id);
    return e ? copy(e.record) : undefined;
  }

  query(filter: LogFilter, page: { offset: number; limit: number }, opts?: QueryOptions): { total: number; records: CallRecord[] } {
    const offset = Math.max(0, Math.floor(page.offset));
    const end = offset + Math.max(0, Math.floor(page.limit));
    const records: CallRecord[] = [];
    let total = 0;
    for (const e of this.matching(filter, opts)) {
      if (total >= offset && total < end) records.push(copy(e.record));
      total++;
    }
    return { total, records };
  }

  *iterate(filter: LogFilter, opts?: QueryOptions): Iterable<CallRecord> {
    for (const e of this.matching(filter, opts)) yield copy(e.record);
  }

  history(number: string, excludeId?: string): { count: number; missed: number; last: CallRecord | null } {
    const key = numberMatchKey(number, this.keys.defaultCountry);
    let count = 0;
    let missed = 0;
    let last: LogEntry | null = null;
    if (key !== '') {
      for (const e of this.order.items) {
        if (e.key !== key || e.record.id === excludeId) continue;
        count++;
        if (e.record.result === 'missed') missed++;
        last ??= e;
      }
    }
    return { count, missed, last: last ? copy(last.record) : null };
  }

  openCalls(): CallRecord[] {
    return [...this.open]
      .map((id) => this.byId.get(id)!)
      .sort((a, b) => b.t - a.t)
      .map((e) => copy(e.record));
  }

  recent(sinceMs: number): CallRecord[] {
    const out: CallRecord[] = [];
    for (const e of this.order.items) {
      const { endedAt } = e.record;
      if (endedAt !== null && Date.parse(endedAt) >= sinceMs) out.push(copy(e.record));
    }
    return out;
  }

  missedUnseen(): number {
    return this.missedUnseenCount;
  }

  async markSeen(ids?: readonly string[]): Promise<number> {
    const targets = ids ? [...new Set(ids)].map((id) => this.latest(id)) : this.allLatest();
    const changes: Change[] = [];
    for (const r of targets) if (r && !r.seen) changes.push({ id: r.id, value: { ...r, seen: true } });
    await this.write(changes);
    return changes.length;
  }

  async delete(ids: readonly string[]): Promise<number> {
    const changes = [...new Set(ids)].filter((id) => this.latest(id)).map((id): Change => ({ id, value: null }));
    await this.write(changes);
    return changes.length;
  }

  async prune(olderThanMs: number): Promise<number> {
    const changes: Change[] = [];
    for (const r of this.allLatest()) {
      if (r.status === 'ended' && Date.parse(r.startedAt) < olderThanMs) changes.push({ id: r.id, value: null });
    }
    await this.write(changes);
    return changes.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer?.close();
    } finally {
      await this.release?.();
    }
  }

  private *matching(filter: LogFilter, opts?: QueryOptions): Generator<LogEntry> {
    const f = compileFilter(filter, { defaultCountry: this.keys.defaultCountry, numbersForText: opts?.numbersForText });
    const items = this.order.items;
    const end = this.order.firstBelow(f.fromMs);
    for (let i = this.order.firstBelow(f.toMs); i < end; i++) {
      const e = items[i]!;
      if (f.test(e)) yield e;
    }
  }

  /** The newest value of a record, including changes not yet durable. */
  private latest(id: string): CallRecord | null {
    const p = this.pending.get(id);
    return p ? p.value : (this.byId.get(id)?.record ?? null);
  }

  private allLatest(): CallRecord[] {
    const out: CallRecord[] = [];
    for (const [id, e] of this.byId) if (!this.pending.has(id)) out.push(e.record);
    for (const p of this.pending.values()) if (p.value) out.push(p.value);
    return out;
  }

  private async write(changes: Change[]): Promise<void> {
    if (this.closed) throw new Error(`The call log in ${this.dir} is closed`);
    if (!this.writer) throw new Error(`The call log in ${this.dir} was opened read-only`);
    if (changes.length === 0) return;
    const writer = this.writer;
    const token = {};
    for (const c of changes) this.pending.set(c.id, { value: c.value, token });
    const settle = (): void => {
      for (const c of changes) if (this.pending.get(c.id)?.token === token) this.pending.delete(c.id);
    };
    const data = changes.map((c) => encodeLine(JSON.stringify(c.value ?? { deleted: c.id }))).join('');
    try {
      await writer.append(data, changes.length, () => {
        for (const c of changes) this.apply(c);
        settle();
        this.maybeCompact();
      });
    } catch (err) {
      settle();
      throw err;
    }
  }

  /** Asks the writer to rewrite the file when superseded lines dominate (it runs between writes). */
  maybeCompact(): void {
    const writer = this.writer;
    if (!writer || !needsCompaction(writer.lines, this.byId.size)) return;
    const byId = this.byId;
    writer.requestCompaction(function* () {
      for (const e of byId.values()) yield encodeLine(JSON.stringify(e.record));
    });
  }

  private apply({ id, value }: Change): void {
    const old = this.byId.get(id);
    if (old) this.count(old.record, -1);
    if (value === null) {
      if (old) {
        this.byId.delete(id);
        this.order.remove(old);
      }
      return;
    }
    const e = this.keys.entry(value);
    this.byId.set(id, e);
    if (old) this.order.replace(old, e);
    else this.order.insert(e);
    this.count(value, 1);
  }

  private count(r: CallRecord, sign: 1 | -1): void {
    if (countsAsMissedUnseen(r)) this.missedUnseenCount += sign;
    if (r.status !== 'ended') {
      if (sign > 0) this.open.add(r.id);
      else this.open.delete(r.id);
    }
  }
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
    release = await acquireLock(dir);
  }
  try {
    const loaded = await readLog(dir, logger);
    // Last line per id wins; a tombstone removes the id (a later put brings it back).
    const latest = new Map<string, unknown>();
    for (const v of loaded.values) {
      const deleted = asTombstone(v);
      if (deleted !== null) latest.delete(deleted);
      else {
        const id = (v as { id?: unknown } | null)?.id;
        if (typeof id === 'string') latest.set(id, v);
      }
    }
    const entries: LogEntry[] = [];
    let invalid = 0;
    for (const v of latest.values()) {
      const parsed = callRecordSchema.safeParse(v);
      if (parsed.success) entries.push(keys.entry(parsed.data));
      else invalid++;
    }
    if (invalid > 0) logger.warn(`Call log in ${dir}: ignored ${invalid} record(s) that are not valid call records`);
    if (opts.readOnly && loaded.fileBytes > loaded.validBytes) logger.debug(`Call log in ${dir}: ignoring an incomplete last line (being written?)`);
    const writer = opts.readOnly ? null : await JournalWriter.open(dir, loaded.validBytes, loaded.fileBytes, loaded.values.length, logger);
    const store = new FileCallLogStore(dir, keys, entries, writer, release);
    store.maybeCompact();
    return store;
  } catch (err) {
    await release?.();
    throw err;
  }
}
