// Mirrors the hub's record changes of one extension into the local call log, as if this PC had received
// the webhooks itself: the same records (same ids), upserted by id, the highest hub seq winning (a
// duplicate QoS-1 delivery or an older change arriving late changes nothing), and the same two
// promises as CallpopService: live listeners hear of a change at once (pops), durable ones after the
// local fsync (badge counts, log views).
import type { CallChange, CallRecord, CallUpdate } from '../../../shared/call-record';
import { sameCallExceptSeen } from '../../../shared/call-record-equal';
import { redactNumber, type Logger } from '../../../shared/log';
import type { CallLogStore } from '../call-log/store';

export interface HubCallUpdate extends CallUpdate {
  /** The hub's sequence number of this change. */
  seq: number;
  /**
   * Came from a backfill (the catch-up after a (re)connect), not as it happened. A backfilled call
   * never has the change `ringing`/`dialing` unless it is still ringing and began less than
   * `staleRingMs` ago, so a consumer that pops on `ringing` pops nothing stale; missed calls that
   * arrive with `backfill` are the "missed while you were away" ones.
   */
  backfill: boolean;
}

type UpdateListener = (updates: HubCallUpdate[]) => void;

/** A backfilled ring older than this is not popped (issue 9: "began ringing more than a minute ago"). */
export const staleRingMs = 60_000;
/** Per-record seqs remembered (the calls that can still change: far more than one agent's open calls). */
const rememberedSeqs = 20_000;

const sameExceptSeen = sameCallExceptSeen;

/** What a backfilled record's arrival means for the user, given what the local log had. */
export function backfillChange(prev: CallRecord | undefined, r: CallRecord, nowMs: number): CallChange {
  if (r.status === 'ringing') {
    if (prev?.status === 'ringing') return 'updated';
    const fresh = nowMs - Date.parse(r.startedAt) <= staleRingMs;
    return fresh ? (r.direction === 'incoming' ? 'ringing' : 'dialing') : 'updated';
  }
  if (r.status === 'talking') return prev?.status === 'talking' ? 'updated' : 'answered';
  if (prev?.status === 'ended') return r.recordings.length > prev.recordings.length ? 'recording' : 'updated';
  return r.result === 'missed' ? 'missed' : r.result === 'answered-elsewhere' ? 'answered-elsewhere' : 'ended';
}

export class LogMirror {
  private readonly updateListeners = new Set<UpdateListener>();
  private readonly durableListeners = new Set<UpdateListener>();
  /** record id → the seq of the newest change applied (insertion order = age, for the bound). */
  private readonly seqs = new Map<string, number>();
  /** Records whose write failed: written again with the next commit. */
  private readonly dirty = new Map<string, CallRecord>();
  /** Ends when every earlier commit has been written and its updates emitted (keeps them in order). */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly store: CallLogStore,
    private readonly extension: string,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  onUpdates(fn: UpdateListener): () => void {
    this.updateListeners.add(fn);
    return () => this.updateListeners.delete(fn);
  }

  onDurable(fn: UpdateListener): () => void {
    this.durableListeners.add(fn);
    return () => this.durableListeners.delete(fn);
  }

  /**
   * Applies changes in order (live: with the hub's change; backfill: change derived from the local
   * log). Resolves once they are durable; never rejects (a failed write is retried with the next one).
   */
  apply(changes: readonly { seq: number; record: CallRecord; change?: CallChange }[], backfill: boolean): Promise<void> {
    const updates: HubCallUpdate[] = [];
    const byId = new Map<string, CallRecord>();
    for (const c of changes) {
      const r = c.record;
      if (r.extension !== this.extension) {
        this.logger.warn(`Hub sent call ${JSON.stringify(r.id)} of extension ${JSON.stringify(r.extension)} on extension ${this.extension}'s topic; ignored`);
        continue;
      }
      const known = this.seqs.get(r.id);
      if (known !== undefined && c.seq <= known) continue; // a duplicate delivery or an older change
      // A call the user deleted stays deleted (a call id names one PBX call).
      if (this.store.isDeleted(r.id)) continue;
      this.remember(r.id, c.seq);
      const prev = byId.get(r.id) ?? this.store.get(r.id);
      if (prev && sameExceptSeen(prev, r)) continue; // already in the log (e.g. caught up before a restart)
      const change = backfill || !c.change ? backfillChange(prev, r, this.now()) : c.change;
      byId.set(r.id, r);
      updates.push({ change, record: prev?.seen && !r.seen ? { ...r, seen: true } : r, seq: c.seq, backfill });
    }
    if (updates.length === 0 && this.dirty.size === 0) return this.tail;
    return this.commit(updates, byId);
  }

  /** Resolves once everything applied so far is durable. */
  flush(): Promise<void> {
    return this.dirty.size > 0 ? this.commit([], new Map()) : this.tail;
  }

  private remember(id: string, seq: number): void {
    this.seqs.delete(id);
    this.seqs.set(id, seq);
    if (this.seqs.size > rememberedSeqs) this.seqs.delete(this.seqs.keys().next().value!);
  }

  private commit(updates: HubCallUpdate[], byId: Map<string, CallRecord>): Promise<void> {
    const records = new Map<string, CallRecord>(this.dirty);
    this.dirty.clear();
    for (const [id, r] of byId) records.set(id, r);
    this.emit(this.updateListeners, updates);
    const batch = [...records.values()];
    const written = this.store.put(batch).then(
      () => null,
      (e: unknown) => {
        for (const r of batch) if (!this.dirty.has(r.id)) this.dirty.set(r.id, r);
        this.logger.error(`Call log write failed: ${(e as Error).message}`);
        return e;
      },
    );
    const done = Promise.all([this.tail, written]).then(([, error]) => {
      if (!error) this.emit(this.durableListeners, updates);
    });
    this.tail = done;
    return done;
  }

  /** True when every change applied so far was written (a watermark may move past them). */
  get clean(): boolean {
    return this.dirty.size === 0;
  }

  private emit(listeners: ReadonlySet<UpdateListener>, updates: HubCallUpdate[]): void {
    if (updates.length === 0) return;
    if (listeners === this.updateListeners) {
      for (const u of updates) this.logger.debug(`Call ${u.record.id} ${u.change}${u.backfill ? ' (backfill)' : ''} (${u.record.direction} ${redactNumber(u.record.number)})`);
    }
    for (const fn of listeners) {
      try {
        fn(updates);
      } catch (e) {
        this.logger.error(`Call update listener failed: ${(e as Error).message}`);
      }
    }
  }
}
