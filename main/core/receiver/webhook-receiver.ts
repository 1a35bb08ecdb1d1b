// WebhookReceiver: the one core behind `callpop serve`, the desktop app's utility process and the
// e2e bridge. It owns the listener, the tracker and the call log, and keeps two promises: a change
// reaches the UI as soon as the tracker makes it (a pop is never held up by the disk), and a webhook
// is acknowledged only once what it changed in this user's log is on disk.
import { callRecordSchema, type CallRecord, type CallUpdate } from '../../../shared/call-record';
import { Emitter, type Event } from '../../../shared/emitter';
import type { ServiceState } from '../../../shared/source-state';
import { redactNumber, silentLogger, type Logger } from '../../../shared/diagnostics-log';
import type { Settings } from '../../../shared/settings';
import { isTestCallId } from '../../../shared/test-call-id';
import { CallTracker } from '../../../shared/tracking/call-tracker';
import { endAbandoned } from '../../../shared/tracking/what-changed';
import type { RawWebhook } from '../../../shared/webhook/event';
import { parseWebhook } from '../../../shared/webhook/parse';
import { openCallLogStore, type CallLogStore } from '../call-log/store';
import { readTlsFiles, startListener, webhookUrlsFor, type Listener, type WebhookOutcome } from '../listener/listener';
import { callLogDir } from '../config/paths';
import { RecordCommitter } from '../feed/commit-pipeline';
import { keepRetention, type Retention } from '../call-log/retention';

export interface ServiceOptions {
  dataDir: string;
  /** Must carry a webhook secret (see secret.ts); the caller persists a generated one. */
  settings: Settings;
  logger?: Logger;
  now?: () => number;
  /** How often timed-out calls are closed. Default 5 s. */
  tickMs?: number;
  /**
   * Use this open call log instead of opening the data folder's (closed by close() unless keepStore).
   * Its retention is then its owner's (the desktop core prunes the log whatever feed writes it).
   */
  store?: CallLogStore;
  /** Run without the HTTP listener (benchmarks feeding ingest() directly). Default true. */
  listen?: boolean;
  /** Let loopback post even with an allow-list (the test call). Default true. */
  allowLoopback?: boolean;
}

export interface ServiceStatus {
  state: ServiceState;
  /** Webhook URLs for each address of this PC (first = best guess); [] when not listening. */
  urls: string[];
  /** Something the user should do, e.g. set the extension. */
  notice: string | null;
}


export const setExtensionNotice = 'Set your extension (the number of your desk phone, e.g. 117) in Settings to see your calls; webhooks are acknowledged meanwhile.';
const recordingWindowMs = 10 * 60_000;
const ok: WebhookOutcome = { status: 'ok' };
const okNow = Promise.resolve(ok);

const listenKey = (s: Settings): string => JSON.stringify([s.listenHost, s.listenPort, s.webhookSecret, s.allowedSources, s.tlsCertFile, s.tlsKeyFile]);
const trackerKey = (s: Settings): string => JSON.stringify([s.extension, s.ringTimeoutSec]);

export class WebhookReceiver {
  private tracker: CallTracker | null = null;
  private listener: Listener | null = null;
  private state: ServiceState = { state: 'starting' };
  private urls: string[] = [];
  /** Tells listeners before the disk, acknowledges once durable, re-queues failed writes, keeps order. */
  private readonly committer: RecordCommitter<CallUpdate>;
  private readonly statusListeners = new Emitter<ServiceStatus>((e) => this.logger.error(`Status listener failed: ${(e as Error).message}`));
  /** Calls the agent cleared (clearCall) that the tracker still holds open: id → when (ms). */
  private readonly cleared = new Map<string, number>();
  private tickTimer: NodeJS.Timeout | null = null;
  /** When the last webhook was accepted (any extension's), for "last event 2 min ago"; null = none yet. */
  private lastEventMs: number | null = null;
  /** A status push for a new last-event time, coalesced: a busy PBX must not cause a push per webhook. */
  private eventStatusTimer: NodeJS.Timeout | null = null;
  /** settings.retentionDays over a log this service opened itself (null: the store's owner prunes it). */
  private retention: Retention | null = null;
  private closed = false;
  private settingsQueue: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private readonly now: () => number;

  private constructor(
    private readonly options: ServiceOptions,
    readonly store: CallLogStore,
    private current: Settings,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.committer = new RecordCommitter(store, this.logger);
    this.onUpdates = this.committer.pipeline.changes.on;
    this.onDurable = this.committer.pipeline.durable.on;
  }

  static async start(options: ServiceOptions): Promise<WebhookReceiver> {
    if (!options.settings.webhookSecret) throw new Error('WebhookReceiver needs settings.webhookSecret (generate one with withWebhookSecret).');
    const store = options.store ?? (await openCallLogStore(callLogDir(options.dataDir), { logger: options.logger, defaultCountry: options.settings.defaultCountry }));
    const service = new WebhookReceiver(options, store, options.settings);
    try {
      await service.commitQuietly(service.makeTracker(), 'ending the calls of another extension');
      if (!options.store) {
        service.retention = keepRetention({ log: () => store, days: () => service.current.retentionDays, now: service.now, logger: service.logger });
        await service.retention.run();
      }
      if (options.listen !== false) await service.bind();
      else service.setState({ state: 'stopped' });
    } catch (e) {
      if (!options.store) await store.close();
      throw e;
    }
    const tickMs = options.tickMs ?? 5000;
    service.tickTimer = setInterval(() => service.tick(), tickMs);
    service.tickTimer.unref();
    return service;
  }

  get settings(): Settings {
    return this.current;
  }

  /** The port actually bound (the real one for port 0), or null. */
  get port(): number | null {
    return this.listener?.port ?? null;
  }

  status(): ServiceStatus {
    const lastEventAt = this.lastEventMs === null ? null : new Date(this.lastEventMs).toISOString();
    const state: ServiceState = this.state.state === 'listening' ? { ...this.state, lastEventAt } : this.state;
    return { state, urls: this.urls, notice: this.current.extension ? null : setExtensionNotice };
  }

  /** Notes an accepted webhook's time; status listeners hear of it at once the first time, then at most every 5 s. */
  private noteEvent(): void {
    const first = this.lastEventMs === null;
    this.lastEventMs = this.now();
    if (this.eventStatusTimer || this.closed) return;
    this.eventStatusTimer = setTimeout(
      () => {
        this.eventStatusTimer = null;
        if (!this.closed) this.emitStatus();
      },
      first ? 0 : 5000,
    );
    this.eventStatusTimer.unref();
  }

  /** Changes as soon as the tracker makes them, in order, before they are written (pops, live views). */
  readonly onUpdates: Event<CallUpdate[]>;

  /** The same changes once they are on disk, in order (what reads the log back: badge counts, log views). */
  readonly onDurable: Event<CallUpdate[]>;

  readonly onStatus = this.statusListeners.on;

  /** This extension's ringing and talking calls, newest first. */
  openCalls(): CallRecord[] {
    return (this.tracker?.openCalls() ?? []).filter((r) => !this.store.isDeleted(r.id) && !this.cleared.has(r.id));
  }

  /**
   * The agent clears a call the PBX never ended (a ghost "Talking"): ended as the silence timeout
   * would, live listeners hear it at once; resolves once written. False when the call is not open.
   */
  async clearCall(callId: string): Promise<boolean> {
    const open = this.openCalls().find((r) => r.id === callId);
    const update = open ? endAbandoned(open, this.now()) : null;
    if (!update) return false;
    this.cleared.set(callId, Date.parse(update.record.endedAt ?? '') || this.now());
    this.logger.info(`Call ${callId} cleared by hand`);
    await this.commit([update]);
    return true;
  }

  /**
   * The tracker still holds a cleared call open. Its later news keeps the call ended: a recording or
   * another change is applied to the cleared record; the PBX's own end (late) replaces the clear's,
   * with the real duration; the tracker's silence timeout (fromTimer) is dropped, the clear stands.
   */
  private keepCleared(updates: CallUpdate[], fromTimer: boolean): CallUpdate[] {
    if (this.cleared.size === 0) return updates;
    const out: CallUpdate[] = [];
    for (const u of updates) {
      const clearedAt = this.cleared.get(u.record.id);
      if (clearedAt === undefined) out.push(u);
      else if (u.record.status === 'ended') {
        this.cleared.delete(u.record.id);
        if (!fromTimer) out.push(u);
      } else {
        const ended = endAbandoned(u.record, clearedAt);
        if (ended) out.push({ change: u.change === 'recording' ? 'recording' : 'updated', record: ended.record });
      }
    }
    return out;
  }

  /**
   * One webhook, in arrival order. Resolves once its effect is durable; rejects when it could not
   * be written (the listener answers 503 so the PBX retries).
   */
  ingest(raw: RawWebhook): Promise<WebhookOutcome> {
    const parsed = parseWebhook(raw);
    if (!parsed.ok) return Promise.resolve({ status: 'invalid', reason: parsed.error });
    this.noteEvent();
    if (!this.tracker) return Promise.resolve(ok);
    let updates: CallUpdate[];
    try {
      updates = this.keepCleared(this.tracker.apply(parsed.event), false);
    } catch (e) {
      // A tracker bug must not take the listener down or make the PBX retry forever.
      this.logger.error(`Tracker failed on a ${parsed.event.type} event: ${(e as Error).message}`);
      return Promise.resolve(ok);
    }
    if (updates.length === 0) {
      // Nothing new (most webhooks: other extensions' calls), and nothing accepted before is still
      // being written: acknowledged at once, without a promise of its own.
      if (this.committer.settled) return okNow;
      // Nothing new, e.g. the PBX's retry of a webhook whose first delivery is still being written: the
      // retry's 200 must not come before that write is durable (it may yet fail). So wait for what was
      // accepted before, and write what earlier failed writes left dirty.
      return this.committer.flush().then(() => (this.committer.clean ? ok : this.commit([]).then(() => ok)));
    }
    return this.commit(updates).then(() => ok);
  }

  /** Records whose write failed, waiting for the next commit (0 = everything accepted is on disk once flush() resolves). */
  get unwritten(): number {
    return this.committer.dirtyCount;
  }

  /** Wait until everything accepted so far is written. */
  flush(): Promise<void> {
    return this.committer.flush();
  }

  private async commitQuietly(updates: CallUpdate[], what: string): Promise<void> {
    if (updates.length === 0) return;
    // A failed write leaves them dirty: written with the next commit.
    await this.commit(updates).catch((e: unknown) => this.logger.error(`Call log write failed ${what}: ${(e as Error).message}`));
  }

  /** Apply new settings: rebinds only when the listening parameters changed. */
  updateSettings(settings: Settings): Promise<void> {
    // One change at a time: two overlapping rebinds would each start a listener (one leaked, holding
    // its port, or failing with "port in use"), and close() must not race a rebind.
    const run = this.settingsQueue.then(() => this.applySettings(settings));
    this.settingsQueue = run.catch(() => {});
    return run;
  }

  private async applySettings(settings: Settings): Promise<void> {
    if (this.closed) return;
    if (!settings.webhookSecret) settings = { ...settings, webhookSecret: this.current.webhookSecret };
    const before = this.current;
    this.current = settings;
    if (trackerKey(before) !== trackerKey(settings)) {
      // Webhooks keep arriving meanwhile and go to the old tracker: wait until no commit is in flight,
      // then swap with no await in between, so the new tracker restores every call they touched.
      for (;;) {
        const tail = this.committer.flush();
        await tail;
        if (tail === this.committer.flush()) break;
      }
      await this.commitQuietly(this.makeTracker(), 'ending the calls of the previous extension');
    }
    if (before.retentionDays !== settings.retentionDays) await this.retention?.run();
    if (this.options.listen !== false && (listenKey(before) !== listenKey(settings) || this.state.state === 'error')) {
      await this.listener?.close();
      this.listener = null;
      await this.bind();
    } else this.emitStatus();
  }

  /** Stop accepting, let requests in flight finish, write everything, close the log (unless `keepStore`). */
  async close(options: { keepStore?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.eventStatusTimer) clearTimeout(this.eventStatusTimer);
    this.retention?.stop();
    await this.settingsQueue;
    await this.listener?.close();
    this.listener = null;
    await this.flush();
    if (!this.committer.clean) {
      await this.commit([]).catch((e: unknown) => this.logger.error(`Could not write ${this.committer.dirtyCount} call(s) on shutdown: ${(e as Error).message}`));
    }
    if (!options.keepStore) await this.store.close();
    this.setState({ state: 'stopped' });
  }

  private tick(): void {
    if (!this.tracker || this.closed) return;
    try {
      const updates = this.keepCleared(this.tracker.tick(), true);
      if (updates.length > 0 || !this.committer.clean) this.commit(updates).catch(() => {});
    } catch (e) {
      this.logger.error(`Tracker tick failed: ${(e as Error).message}`);
    }
  }

  private commit(all: CallUpdate[]): Promise<void> {
    // A call the user deleted while it was open stays deleted: its later updates are dropped (a call id
    // names one PBX call, so an update of a deleted id is never a new call).
    // A record the log would refuse (a tracker bug) is dropped here, with a log line: re-queued as
    // dirty it would fail every later write, and every webhook after it would get 503 for ever.
    const updates = all.filter((u) => !this.store.isDeleted(u.record.id) && this.valid(u.record));
    // A test call never counts as an unseen missed call (the badge), whatever became of it.
    const records = updates.map((u) => (isTestCallId(u.record.id) && !u.record.seen ? { ...u.record, seen: true } : u.record));
    for (const u of updates) this.logger.debug(`Call ${u.record.id} ${u.change} (${u.record.direction} ${redactNumber(u.record.number, this.current.debugLogging)})`);
    return this.committer.commit(updates, records);
  }

  private valid(r: CallRecord): boolean {
    const parsed = callRecordSchema.safeParse(r);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.logger.error(`Tracker made an invalid record for call ${JSON.stringify(String(r.id))} (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}); not saved`);
    }
    return parsed.success;
  }

  /** Builds the tracker for the current settings; returns the updates ending other extensions' open calls. */
  private makeTracker(): CallUpdate[] {
    const s = this.current;
    const now = this.now();
    const abandoned = this.store
      .openCalls()
      .filter((r) => r.extension !== s.extension)
      .flatMap((r) => endAbandoned(r, now) ?? []);
    if (abandoned.length > 0) this.logger.info(`Ended ${abandoned.length} open call(s) of another extension (the extension changed)`);
    if (!s.extension) {
      this.tracker = null;
      this.logger.warn(setExtensionNotice);
      return abandoned;
    }
    this.cleared.clear(); // the new tracker restores them from the log, where they are ended
    const tracker = new CallTracker({ extension: s.extension, now: this.now, ringTimeoutMs: s.ringTimeoutSec * 1000, recordingWindowMs });
    const mine = (r: CallRecord): boolean => r.extension === s.extension;
    const open = this.store.openCalls().filter(mine);
    const openIds = new Set(open.map((r) => r.id));
    const recent = this.store.recent(this.now() - recordingWindowMs).filter((r) => mine(r) && !openIds.has(r.id));
    tracker.restore([...open, ...recent]);
    this.tracker = tracker;
    return abandoned;
  }

  private async bind(): Promise<void> {
    const s = this.current;
    try {
      // The files are read on every bind (a renewed certificate is picked up by any rebind).
      const tls = await readTlsFiles(s.tlsCertFile, s.tlsKeyFile);
      this.listener = await startListener({
        host: s.listenHost,
        port: s.listenPort,
        secret: s.webhookSecret,
        allowedSources: s.allowedSources,
        allowLoopback: this.options.allowLoopback ?? true,
        onWebhook: (raw) => this.ingest(raw),
        logger: this.logger,
        ...(tls && { tls }),
      });
      this.urls = webhookUrlsFor(s.listenHost, this.listener.port, s.webhookSecret, this.listener.scheme);
      this.setState({ state: 'listening', port: this.listener.port, url: this.urls[0] ?? '' });
      // Not "Listening on": `callpop serve` prints that line itself, with the URL to paste.
      this.logger.info(`Webhook listener bound to ${s.listenHost}:${this.listener.port}`);
    } catch (e) {
      this.urls = [];
      this.setState({ state: 'error', message: (e as Error).message });
      this.logger.error((e as Error).message);
    }
  }

  private setState(state: ServiceState): void {
    this.state = state;
    this.emitStatus();
  }

  private emitStatus(): void {
    this.statusListeners.emit(this.status());
  }
}
