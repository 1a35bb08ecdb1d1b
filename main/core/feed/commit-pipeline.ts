// The one durable-commit pipeline every call feed (the listener's service, the hub client's mirror)
// and the hub's ingest commit through. It keeps the product's most delicate rule in one place:
//   - listeners hear a batch of changes at once (`changes`, before the write: a pop never waits for
//     the disk), in order;
//   - the batch is written at once too (the stores batch concurrent writes into one fsync);
//   - `durable` hears the batch, and the commit resolves (the webhook's 200, the hub's watermark), only
//     once its write AND every earlier commit's are done, so acknowledgements keep arrival order;
//   - a failed write rejects its commit (the PBX retries on 503) and its records are written again with
//     the next commit (RecordCommitter), unless a later commit already carries a newer version.
import type { CallRecord } from '../../../shared/call-record';
import { Emitter } from '../../../shared/emitter';
import type { Logger } from '../../../shared/diagnostics-log';

/** Ordering and the two emitters; what is written, and how, is the caller's. */
export class CommitPipeline<U> {
  readonly changes: Emitter<U[]>;
  readonly durable: Emitter<U[]>;
  /** Ends when every earlier commit has been written and its updates emitted. */
  private tail: Promise<void> = Promise.resolve();
  /** Commits not yet settled (written or failed, and emitted). */
  private pending = 0;

  constructor(logger: Logger, what = 'Call update listener') {
    const onError = (e: unknown): void => logger.error(`${what} failed: ${(e as Error).message}`);
    this.changes = new Emitter(onError);
    this.durable = new Emitter(onError);
  }

  /**
   * Emits `updates` now, then starts `write` (or takes its promise) and emits them durable once it and
   * every earlier commit are done. Resolves then; rejects with the write's error (durable not emitted).
   */
  run(updates: U[], write: () => Promise<unknown>): Promise<void> {
    if (updates.length > 0) this.changes.emit(updates);
    const written = write().then(
      () => null,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
    const done = Promise.all([this.tail, written]).then(([, error]) => {
      if (error) throw error;
      if (updates.length > 0) this.durable.emit(updates);
    });
    this.pending++;
    const settled = (): void => {
      this.pending--;
    };
    this.tail = done.then(settled, settled);
    return done;
  }

  /** Resolves once everything committed so far is written (or failed). */
  flush(): Promise<void> {
    return this.tail;
  }

  /** True when every commit so far has settled: flush() would resolve with nothing left to wait for. */
  get idle(): boolean {
    return this.pending === 0;
  }
}

/** Writes call records to a call log through a CommitPipeline, keeping failed writes for the next commit. */
export class RecordCommitter<U> {
  readonly pipeline: CommitPipeline<U>;
  private seq = 0;
  /** id → seq of the newest commit that carries it; a failed commit re-queues only records no later commit carries. */
  private readonly lastCommit = new Map<string, number>();
  /** Records whose write failed: written with the next commit. */
  private readonly dirty = new Map<string, CallRecord>();

  constructor(
    private readonly store: { put(records: readonly CallRecord[]): Promise<void> },
    private readonly logger: Logger,
  ) {
    this.pipeline = new CommitPipeline(logger);
  }

  /** True when every record committed so far was written. */
  get clean(): boolean {
    return this.dirty.size === 0;
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  /** Emits `updates` now and writes `records` (with what earlier failures left); see CommitPipeline.run. */
  commit(updates: U[], records: Iterable<CallRecord>): Promise<void> {
    const seq = ++this.seq;
    let batch: CallRecord[];
    if (this.dirty.size === 0) {
      batch = Array.isArray(records) ? (records as CallRecord[]) : [...records];
      // One version per id, the last (a batch from one webhook rarely names a call twice).
      if (batch.length > 1 && new Set(batch.map((r) => r.id)).size < batch.length) batch = [...new Map(batch.map((r) => [r.id, r])).values()];
    } else {
      const byId = new Map<string, CallRecord>(this.dirty);
      this.dirty.clear();
      for (const r of records) byId.set(r.id, r);
      batch = [...byId.values()];
    }
    for (const r of batch) this.lastCommit.set(r.id, seq);
    return this.pipeline.run(updates, () =>
      this.store.put(batch).then(
        () => {
          for (const r of batch) if (this.lastCommit.get(r.id) === seq) this.lastCommit.delete(r.id);
        },
        (e: unknown) => {
          for (const r of batch) if (this.lastCommit.get(r.id) === seq) this.dirty.set(r.id, r);
          this.logger.error(`Call log write failed: ${(e as Error).message}`);
          throw e;
        },
      ),
    );
  }

  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /** Nothing in flight and nothing left dirty: a webhook that changed nothing may be acknowledged at once. */
  get settled(): boolean {
    return this.pipeline.idle && this.dirty.size === 0;
  }
}
