// CallpopService: the one core behind `callpop serve`, the desktop app's utility process and the
// e2e bridge. It owns the listener, the tracker and the call log, and keeps two promises: a change
// reaches the UI as soon as the tracker makes it (a pop is never held up by the disk), and a webhook
// is acknowledged only once what it changed in this user's log is on disk.
import { callRecordSchema, type CallRecord, type CallUpdate, type EndedCall } from '../../../shared/call-record';
import type { ServiceState } from '../../../shared/ipc/contract';
import { redactNumber, silentLogger, type Logger } from '../../../shared/log';
import type { Settings } from '../../../shared/settings';
import { isTestCallId } from '../../../shared/test-call-id';
import { CallTracker } from '../../../shared/tracker';
import type { RawWebhook } from '../../../shared/webhook/event';
import { parseWebhook } from '../../../shared/webhook/parse';
import { openCallLogStore, type CallLogStore } from '../call-log/store';
import { readTlsFiles, startListener, webhookUrlsFor, type Listener, type WebhookOutcome } from '../listener/listener';
import { callLogDir } from '../config/paths';

export interface ServiceOptions {
  dataDir: string;
  /** Must carry a webhook secret (see secret.ts); the caller persists a generated one. */
  settings: Settings;
  logger?: Logger;
  now?: () => number;
  /** How often timed-out calls are closed. Default 5 s. */
  tickMs?: number;
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

type UpdateListener = (updates: CallUpdate[]) => void;
type StatusListener = (status: ServiceStatus) => void;

export const setExtensionNotice = 'Set your extension (the number of your desk phone, e.g. 117) in Settings to see your calls; webhooks are acknowledged meanwhile.';
const recordingWindowMs = 10 * 60_000;
const dayMs = 86_400_000;
const ok: WebhookOutcome = { status: 'ok' };

const listenKey = (s: Settings): string => JSON.stringify([s.listenHost, s.listenPort, s.webhookSecret, s.allowedSources, s.tlsCertFile, s.tlsKeyFile]);
const trackerKey = (s: Settings): string => JSON.stringify([s.extension, s.ringTimeoutSec]);

/**
 * A call of another extension still open in the log when the tracker is (re)built for a new extension
 * (or none): nothing will ever end it, so it is ended now, as the tracker's silence timeout would
 * (ringing → missed, talking → answered with an unknown duration). It stays in the log; the switch is
 * the last moment it was known to be going on.
 */
export function endAbandoned(r: CallRecord, nowMs: number): CallUpdate | null {
  if (r.status === 'ended') return null;
  const missed = r.status === 'ringing';
  const record: EndedCall = {
    ...r,
    status: 'ended',
    result: missed ? 'missed' : 'answered',
    endedAt: new Date(Math.max(nowMs, Date.parse(r.answeredAt ?? r.startedAt))).toISOString(),
    seen: r.seen || !(missed && r.direction === 'incoming'),
  };
  return { change: missed ? 'missed' : 'ended', record };
}

export class CallpopService {
  private tracker: CallTracker | null = null;
  private listener: Listener | null = null;
  private state: ServiceState = { state: 'starting' };
  private urls: string[] = [];
  private readonly updateListeners = new Set<UpdateListener>();
  private readonly durableListeners = new Set<UpdateListener>();
  private readonly statusListeners = new Set<StatusListener>();
  /** Ends when every earlier commit has been written and its updates emitted (keeps them in order). */
  private tail: Promise<void> = Promise.resolve();
  private commitSeq = 0;
  /** id → seq of the newest commit that carries it; a failed commit re-queues only records no later commit carries. */
  private readonly lastCommit = new Map<string, number>();
  /** Records whose write failed: written with the next commit (the PBX's retry is a duplicate the tracker ignores). */
  private readonly dirty = new Map<string, CallRecord>();
  /** Calls the agent cleared (clearCall) that the tracker still holds open: id → when (ms). */
  private readonly cleared = new Map<string, number>();
  private tickTimer: NodeJS.Timeout | null = null;
  /** When the last webhook was accepted (any extension's), for "last event 2 min ago"; null = none yet. */
  private lastEventMs: number | null = null;
  /** A status push for a new last-event time, coalesced: a busy PBX must not cause a push per webhook. */
  private eventStatusTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;
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
  }

  static async start(options: ServiceOptions): Promise<CallpopService> {
    if (!options.settings.webhookSecret) throw new Error('CallpopService needs settings.webhookSecret (generate one with withWebhookSecret).');
    const store = await openCallLogStore(callLogDir(options.dataDir), { logger: options.logger, defaultCountry: options.settings.defaultCountry });
    const service = new CallpopService(options, store, options.settings);
    try {
      await service.commitQuietly(service.makeTracker(), 'ending the calls of another extension');
      await service.prune();
      if (options.listen !== false) await service.bind();
      else service.setState({ state: 'stopped' });
    } catch (e) {
      await store.close();
      throw e;
    }
    const tickMs = options.tickMs ?? 5000;
    service.tickTimer = setInterval(() => service.tick(), tickMs);
    service.tickTimer.unref();
    service.pruneTimer = setInterval(() => void service.prune(), dayMs);
    service.pruneTimer.unref();
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
  onUpdates(fn: UpdateListener): () => void {
    this.updateListeners.add(fn);
    return () => this.updateListeners.delete(fn);
  }

  /** The same changes once they are on disk, in order (what reads the log back: badge counts, log views). */
  onDurable(fn: UpdateListener): () => void {
    this.durableListeners.add(fn);
    return () => this.durableListeners.delete(fn);
  }

  onStatus(fn: StatusListener): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

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
      // Nothing new, e.g. the PBX's retry of a webhook whose first delivery is still being written: the
      // retry's 200 must not come before that write is durable (it may yet fail). So wait for what was
      // accepted before, and write what earlier failed writes left dirty.
      return this.tail.then(() => (this.dirty.size > 0 ? this.commit([]) : undefined)).then(() => ok);
    }
    return this.commit(updates).then(() => ok);
  }

  /** Wait until everything accepted so far is written. */
  flush(): Promise<void> {
    return this.tail;
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
        const tail = this.tail;
        await tail;
        if (tail === this.tail) break;
      }
      await this.commitQuietly(this.makeTracker(), 'ending the calls of the previous extension');
    }
    if (before.retentionDays !== settings.retentionDays) await this.prune();
    if (this.options.listen !== false && (listenKey(before) !== listenKey(settings) || this.state.state === 'error')) {
      await this.listener?.close();
      this.listener = null;
      await this.bind();
    } else this.emitStatus();
  }

  /** Stop accepting, let requests in flight finish, write everything, close the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.eventStatusTimer) clearTimeout(this.eventStatusTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.settingsQueue;
    await this.listener?.close();
    this.listener = null;
    await this.flush();
    if (this.dirty.size > 0) {
      await this.commit([]).catch((e: unknown) => this.logger.error(`Could not write ${this.dirty.size} call(s) on shutdown: ${(e as Error).message}`));
    }
    await this.store.close();
    this.setState({ state: 'stopped' });
  }

  private tick(): void {
    if (!this.tracker || this.closed) return;
    try {
      const updates = this.keepCleared(this.tracker.tick(), true);
      if (updates.length > 0 || this.dirty.size > 0) this.commit(updates).catch(() => {});
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
    const seq = ++this.commitSeq;
    const byId = new Map<string, CallRecord>(this.dirty);
    this.dirty.clear();
    // A test call never counts as an unseen missed call (the badge), whatever became of it.
    for (const u of updates) byId.set(u.record.id, isTestCallId(u.record.id) && !u.record.seen ? { ...u.record, seen: true } : u.record);
    for (const id of byId.keys()) this.lastCommit.set(id, seq);
    const records = [...byId.values()];
    // Live listeners hear of the changes now, in tracker order; durable ones after the write.
    this.emit(this.updateListeners, updates);
    // Issue the write now (the store batches concurrent writes into one fsync).
    const written = this.store.put(records).then(
      () => {
        for (const r of records) if (this.lastCommit.get(r.id) === seq) this.lastCommit.delete(r.id);
        return null;
      },
      (e: unknown) => {
        for (const r of records) if (this.lastCommit.get(r.id) === seq) this.dirty.set(r.id, r);
        this.logger.error(`Call log write failed: ${(e as Error).message}`);
        return e instanceof Error ? e : new Error(String(e));
      },
    );
    const done = Promise.all([this.tail, written]).then(([, error]) => {
      if (!error) this.emit(this.durableListeners, updates);
      if (error) throw error;
    });
    this.tail = done.catch(() => {});
    return done;
  }

  private valid(r: CallRecord): boolean {
    const parsed = callRecordSchema.safeParse(r);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.logger.error(`Tracker made an invalid record for call ${JSON.stringify(String(r.id))} (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}); not saved`);
    }
    return parsed.success;
  }

  private emit(listeners: ReadonlySet<UpdateListener>, updates: CallUpdate[]): void {
    if (updates.length === 0) return;
    if (listeners === this.updateListeners) {
      for (const u of updates) this.logger.debug(`Call ${u.record.id} ${u.change} (${u.record.direction} ${redactNumber(u.record.number, this.current.debugLogging)})`);
    }
    for (const fn of listeners) {
      try {
        fn(updates);
      } catch (e) {
        this.logger.error(`Call update listener failed: ${(e as Error).message}`);
      }
    }
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

  private async prune(): Promise<void> {
    const days = this.current.retentionDays;
    if (days <= 0 || this.closed) return;
    try {
      const n = await this.store.prune(this.now() - days * dayMs);
      if (n > 0) this.logger.info(`Retention: deleted ${n} call(s) older than ${days} days`);
    } catch (e) {
      this.logger.error(`Retention prune failed: ${(e as Error).message}`);
    }
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
      this.logger.info(`Listening on ${s.listenHost}:${this.listener.port}`);
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
    const status = this.status();
    for (const fn of this.statusListeners) {
      try {
        fn(status);
      } catch (e) {
        this.logger.error(`Status listener failed: ${(e as Error).message}`);
      }
    }
  }
}
