// Mirrors the hub's record changes of one extension into the local call log, as if this PC had received
// the webhooks itself: the same records (same ids), upserted by id, the highest hub seq winning (a
// duplicate QoS-1 delivery or an older change arriving late changes nothing), and the same two
// promises as WebhookReceiver: live listeners hear of a change at once (pops), durable ones after the
// local fsync (badge counts, log views).
import type { CallChange, CallRecord, HubCallUpdate } from '../../../shared/call-record';
import { changeBetween, sameExceptSeen } from '../../../shared/tracking/what-changed';
import type { Event } from '../../../shared/emitter';
import { redactNumber, type Logger } from '../../../shared/diagnostics-log';
import type { CallLogStore } from '../call-log/store';
import { RecordCommitter } from '../feed/commit-pipeline';

// A backfilled call (the catch-up after a (re)connect) never has the change `ringing`/`dialing` unless
// it is still ringing and began less than `staleRingMs` ago (CallUpdate.backfill).
export type { HubCallUpdate } from '../../../shared/call-record';

/** Per-record seqs remembered (the calls that can still change: far more than one agent's open calls). */
const rememberedSeqs = 20_000;

export class LogMirror {
  /** Tells listeners before the disk, durable ones after, re-queues failed writes, keeps order. */
  private readonly committer: RecordCommitter<HubCallUpdate>;
  /** Changes as they arrive (before the disk), in order. */
  readonly onUpdates: Event<HubCallUpdate[]>;
  /** The same changes once on disk. */
  readonly onDurable: Event<HubCallUpdate[]>;
  /** record id → the seq of the newest change applied (insertion order = age, for the bound). */
  private readonly seqs = new Map<string, number>();

  constructor(
    readonly store: CallLogStore,
    private readonly extension: string,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.committer = new RecordCommitter(store, logger);
    this.onUpdates = this.committer.pipeline.changes.on;
    this.onDurable = this.committer.pipeline.durable.on;
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
      const key = this.store.keyOf(r);
      if (this.store.isDeleted(key)) continue;
      this.remember(r.id, c.seq);
      const prev = byId.get(r.id) ?? this.store.get(key);
      if (prev && sameExceptSeen(prev, r)) continue; // already in the log (e.g. caught up before a restart)
      const change = backfill || !c.change ? changeBetween(prev, r, this.now()) : c.change;
      byId.set(r.id, r);
      updates.push({ change, record: prev?.seen && !r.seen ? { ...r, seen: true } : r, seq: c.seq, backfill });
    }
    if (updates.length === 0 && this.committer.clean) return this.committer.flush();
    return this.commit(updates, byId);
  }

  /** Resolves once everything applied so far is durable. */
  flush(): Promise<void> {
    return this.committer.clean ? this.committer.flush() : this.commit([], new Map());
  }

  private remember(id: string, seq: number): void {
    this.seqs.delete(id);
    this.seqs.set(id, seq);
    if (this.seqs.size > rememberedSeqs) this.seqs.delete(this.seqs.keys().next().value!);
  }

  /** Never rejects: a failed write stays dirty and is written with the next commit. */
  private commit(updates: HubCallUpdate[], byId: Map<string, CallRecord>): Promise<void> {
    for (const u of updates) this.logger.debug(`Call ${u.record.id} ${u.change}${u.backfill ? ' (backfill)' : ''} (${u.record.direction} ${redactNumber(u.record.number)})`);
    return this.committer.commit(updates, byId.values()).catch(() => {});
  }

  /** True when every change applied so far was written (a watermark may move past them). */
  get clean(): boolean {
    return this.committer.clean;
  }
}
