// Where the desktop core's calls come from (settings.source): a CallFeed of the kind the settings name,
// started from the table in ../feed/kinds.ts (this PC's own webhook listener, a Callpop hub, …). It
// opens the data folder's call log once and hands it to whatever feed runs (and keeps its retention),
// so a switch keeps every record and its id; a hub's backfill upserts by id and doubles nothing. The backend listens here once; a switch (or a change of
// the kind's restartKey: a new hub address, agent, password, fingerprint or extension) replaces the
// feed underneath without a restart of the app or the core process. Nothing here asks which kind runs.
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import { Emitter } from '../../../shared/emitter';
import type { CallAction } from '../../../shared/hub-protocol';
import type { ServiceState } from '../../../shared/source-state';
import { silentLogger, type Logger } from '../../../shared/diagnostics-log';
import type { Settings } from '../../../shared/settings';
import { openCallLogStore, type CallLogStore } from '../call-log/store';
import { callLogDir } from '../config/paths';
import { keepRetention, type Retention } from '../call-log/retention';
import type { CallFeed, FeedContext } from '../feed/call-feed';
import { feedKinds } from '../feed/kinds';
import { IdleFeed } from '../feed/idle-feed';
import type { HubCallbacks } from '../hub-client/callbacks';
import type { HubClientOptions } from '../hub-client/hub-client';
import { ListenerFeed } from '../receiver/listener-feed';
import type { WebhookReceiver } from '../receiver/webhook-receiver';

export interface CallSourceOptions {
  dataDir: string;
  settings: Settings;
  /** The hub password (decrypted by main); null = none saved. */
  hubPassword: string | null;
  logger?: Logger;
  now?: () => number;
  tickMs?: number;
  /** HubClient tuning for tests (short reconnect and sync delays). */
  hub?: Pick<HubClientOptions, 'reconnect' | 'syncTimeoutMs'>;
  /** Per-kind start options read anew at every start (the Call Control API key, from its file). */
  kindExtra?: (settings: Settings) => FeedContext['extra'];
}

/** Update batches held for a first listener at most (start-up is seconds of webhooks at worst). */
const MAX_HELD = 10_000;

/**
 * An emitter that holds what comes before its first listener. The feed starts (the listener binds,
 * the hub client connects and catches up) before its owner has opened what it needs to forward
 * updates (contacts, notes): what comes until then is held for it, not dropped. A backfill that
 * landed then used to reach the call log but never the UI.
 */
class HeldEmitter extends Emitter<CallUpdate[]> {
  private held: CallUpdate[][] | null = [];

  add(fn: (updates: CallUpdate[]) => void): void {
    this.on(fn);
    const held = this.held ?? [];
    this.held = null;
    for (const u of held) fn(u);
  }

  readonly forward = (updates: CallUpdate[]): void => {
    if (this.held) {
      if (this.held.length < MAX_HELD) this.held.push(updates);
      return;
    }
    this.emit(updates);
  };
}

export class CallSource {
  private readonly updateListeners = new HeldEmitter();
  private readonly durableListeners = new HeldEmitter();
  private readonly statusListeners = new Emitter<void>();
  private readonly directoryListeners = new Emitter<void>();
  private readonly callbackListeners = new Emitter<void>();
  private detach: (() => void)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private closed = false;
  /** settings.retentionDays over the data folder's call log, whatever feed writes it. */
  private readonly retention: Retention;

  private constructor(
    private readonly o: CallSourceOptions,
    readonly store: CallLogStore,
    private feed: CallFeed,
    private current: Settings,
    private password: string | null,
  ) {
    this.logger = o.logger ?? silentLogger;
    this.retention = keepRetention({ log: () => this.store, days: () => this.current.retentionDays, now: o.now ?? Date.now, logger: this.logger });
  }

  static async start(o: CallSourceOptions): Promise<CallSource> {
    const logger = o.logger ?? silentLogger;
    const store = await openCallLogStore(callLogDir(o.dataDir), { logger, defaultCountry: o.settings.defaultCountry });
    let feed: CallFeed;
    try {
      feed = await startSource(o, o.settings, o.hubPassword, store);
    } catch (e) {
      await store.close();
      throw e;
    }
    const source = new CallSource(o, store, feed, o.settings, o.hubPassword);
    source.attach();
    await source.retention.run();
    return source;
  }

  get settings(): Settings {
    return this.current;
  }

  /** The listener's service (listener mode only: tests read its bound port and URLs). */
  get service(): WebhookReceiver | null {
    return this.feed instanceof ListenerFeed ? this.feed.service : null;
  }

  onUpdates(fn: (updates: CallUpdate[]) => void): void {
    this.updateListeners.add(fn);
  }

  onDurable(fn: (updates: CallUpdate[]) => void): void {
    this.durableListeners.add(fn);
  }

  onStatus(fn: () => void): void {
    this.statusListeners.on(fn);
  }

  /** The feed's directory changed (extension → agent name). */
  onDirectory(fn: () => void): void {
    this.directoryListeners.on(fn);
  }

  /** The hub's shared callbacks (hub mode), and their changes (incl. a switch of source). */
  callbacks(): HubCallbacks | null {
    return this.feed.callbacks ?? null;
  }

  onCallbacks(fn: () => void): void {
    this.callbackListeners.on(fn);
  }

  /** Extension → colleague name, as the feed knows them (a hub's directory); {} otherwise. */
  directory(): Record<string, string> {
    return this.feed.directory();
  }

  openCalls(): CallRecord[] {
    return this.feed.openCalls();
  }

  /** Ends a ghost call (false when the feed cannot: a hub's calls end when the hub says so). */
  clearCall(callId: string): Promise<boolean> {
    return this.feed.clearCall(callId);
  }

  /** Actions the current source can carry out on this extension's calls. */
  callActions(): readonly CallAction[] {
    return this.feed.actions?.() ?? [];
  }

  async act(action: CallAction, o: { callId?: string; destination?: string }): Promise<{ ok: boolean; error?: string | undefined }> {
    if (!this.feed.act || !this.callActions().includes(action)) return { ok: false, error: 'Not supported by this source of calls.' };
    return this.feed.act(action, o);
  }

  status(): ServiceState {
    return this.feed.status();
  }

  /** Reconnect at once (OS resume, network change); nothing to do for a feed that listens. */
  reconnectNow(reason: string): void {
    this.feed.reconnectNow(reason);
  }

  /** New settings and/or password (undefined = unchanged); applied one after another. */
  update(settings: Settings, password?: string | null): Promise<void> {
    const run = this.queue.then(() => this.apply(settings, password === undefined ? this.password : password));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Starts the feed anew on the same settings: something it reads at start changed (the Call Control key). */
  restart(): Promise<void> {
    const run = this.queue.then(() => this.apply(this.current, this.password, true));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retention.stop();
    await this.queue;
    await this.feed.close({ keepStore: true });
    await this.store.close();
  }

  private async apply(settings: Settings, password: string | null, force = false): Promise<void> {
    if (this.closed) return;
    const before = this.current;
    const beforePassword = this.password;
    this.current = settings;
    this.password = password;
    const kind = feedKinds[settings.source];
    const sameKind = before.source === settings.source;
    if (!force && sameKind && kind.restartKey(before, beforePassword) === kind.restartKey(settings, password)) {
      await this.feed.update(settings);
      return this.retention.run();
    }
    // A switch, or a change the kind restarts for: stop the feed (what it accepted is written; the
    // log stays open) and start anew over the same log.
    this.unattach();
    await this.feed.close({ keepStore: true });
    this.feed = await startSource(this.o, settings, password, this.store);
    this.attach();
    this.statusListeners.emit();
    this.directoryListeners.emit();
    this.callbackListeners.emit();
    await this.retention.run();
  }

  private attach(): void {
    const f = this.feed;
    let refused = false;
    this.detach = [
      f.changes(this.updateListeners.forward),
      f.durable(this.durableListeners.forward),
      f.statusChanged(() => {
        // Logged once: a refusal is not retried (a password does not get right by itself).
        const s = f.status();
        if (s.state === 'hub-refused' && !refused) this.logger.error(`Hub ${s.url}: ${s.reason}; not retrying until the settings or the password change`);
        refused = s.state === 'hub-refused';
        this.statusListeners.emit();
      }),
      f.directoryChanged(() => this.directoryListeners.emit()),
      ...(f.callbacks ? [f.callbacks.onChange(() => this.callbackListeners.emit())] : []),
    ];
  }

  private unattach(): void {
    for (const off of this.detach) off();
    this.detach = [];
  }
}

/**
 * Starts the kind the settings name over the data folder's call log. Settings the kind cannot run
 * with yet, or a start that failed in a way the kind can show, give an idle feed: the log is open,
 * nothing runs, the status says why.
 */
async function startSource(o: CallSourceOptions, settings: Settings, password: string | null, store: CallLogStore): Promise<CallFeed> {
  const logger = o.logger ?? silentLogger;
  const kind = feedKinds[settings.source];
  const idle = (state: ServiceState): CallFeed => new IdleFeed(settings.source, store, state);
  const notReady = kind.notReady(settings, password);
  if (notReady) return idle(notReady);
  const ctx: FeedContext = { dataDir: o.dataDir, settings, password, logger, now: o.now, tickMs: o.tickMs, extra: { hub: o.hub, ...o.kindExtra?.(settings) }, store };
  try {
    const feed = await kind.start(ctx);
    const line = kind.startedLine(settings);
    if (line) logger.info(line);
    return feed;
  } catch (e) {
    const state = kind.failedState(e as Error);
    if (!state) throw e;
    return idle(state);
  }
}
