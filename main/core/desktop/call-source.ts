// Where the desktop core's calls come from (settings.source): this PC's own webhook listener
// (CallpopService) or a Callpop hub (HubClient). Both write the same call log in the data folder, so a
// switch keeps every record and its id; the hub's backfill upserts by id and doubles nothing. The
// backend listens here once; a switch (or a new hub address, agent, password, fingerprint or extension)
// replaces what runs underneath without a restart of the app or the core process.
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import type { HubState, ServiceState } from '../../../shared/ipc/contract';
import { silentLogger, type Logger } from '../../../shared/log';
import type { Settings } from '../../../shared/settings';
import { openCallLogStore, type CallLogStore } from '../call-log/store';
import { callLogDir } from '../config/paths';
import type { HubCallbacks } from '../hub-client/callbacks';
import { HubClient, type HubClientOptions, type HubClientStatus } from '../hub-client/hub-client';
import { staleRingMs } from '../hub-client/mirror';
import { CallpopService } from '../service/call-service';
import { pinnedConnect, pinProblem } from './hub-tls-pin';

/** A change as the backend pushes it; `backfill` marks what a hub (re)connect caught up on. */
export type SourceUpdate = CallUpdate & { backfill?: boolean };
type UpdateListener = (updates: SourceUpdate[]) => void;

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
}

type Running =
  | { kind: 'listener'; service: CallpopService }
  | { kind: 'hub'; client: HubClient; store: CallLogStore }
  /** Hub mode without what it needs: the log is open, nothing connects. */
  | { kind: 'hub-setup'; store: CallLogStore; message: string };

/** What hub mode lacks, in the words Settings uses; null = ready to connect. */
export function hubSetupProblem(s: Settings, password: string | null): string | null {
  if (s.hubUrl === '') return 'Enter the hub address (Settings → Connection).';
  if (s.hubAgent === '') return 'Enter your agent name (Settings → Connection).';
  if (!password) return 'Enter the hub password (Settings → Connection).';
  if (s.extension === '') return 'Set your extension (Settings → Connection) to see your calls.';
  if (s.hubFingerprint !== '') return pinProblem(s.hubUrl);
  return null;
}

const dayMs = 86_400_000;
/** Update batches held for a first listener at most (start-up is seconds of webhooks at worst). */
const MAX_HELD = 10_000;

/**
 * The listeners of one kind of update. The source starts (the listener binds, the hub client
 * connects and catches up) before its owner has opened what it needs to forward updates (contacts,
 * notes): what comes until the first listener is added is held for it, not dropped. A backfill that
 * landed then used to reach the call log but never the UI.
 */
class UpdateFanout {
  private readonly listeners = new Set<UpdateListener>();
  private held: SourceUpdate[][] | null = [];

  add(fn: UpdateListener): void {
    this.listeners.add(fn);
    const held = this.held ?? [];
    this.held = null;
    for (const u of held) fn(u);
  }

  readonly emit = (updates: SourceUpdate[]): void => {
    if (this.held) {
      if (this.held.length < MAX_HELD) this.held.push(updates);
      return;
    }
    for (const fn of this.listeners) fn(updates);
  };
}
const hubKey = (s: Settings, password: string | null): string => JSON.stringify([s.source, s.hubUrl, s.hubAgent, s.hubFingerprint, s.extension, password]);

export class CallSource {
  private readonly updateListeners = new UpdateFanout();
  private readonly durableListeners = new UpdateFanout();
  private readonly statusListeners = new Set<() => void>();
  private readonly directoryListeners = new Set<() => void>();
  private readonly callbackListeners = new Set<() => void>();
  private detach: (() => void)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private closed = false;
  /** Retention for the hub's log copy (the listener's service prunes its own). */
  private readonly pruneTimer: NodeJS.Timeout;

  private constructor(
    private readonly o: CallSourceOptions,
    private running: Running,
    private current: Settings,
    private password: string | null,
  ) {
    this.logger = o.logger ?? silentLogger;
    this.pruneTimer = setInterval(() => void this.prune(), dayMs);
    this.pruneTimer.unref();
  }

  static async start(o: CallSourceOptions): Promise<CallSource> {
    const source = new CallSource(o, await startSource(o, o.settings, o.hubPassword, null), o.settings, o.hubPassword);
    source.attach();
    await source.prune();
    return source;
  }

  get settings(): Settings {
    return this.current;
  }

  get store(): CallLogStore {
    return this.running.kind === 'listener' ? this.running.service.store : this.running.store;
  }

  get kind(): Running['kind'] {
    return this.running.kind;
  }

  /** The listener's service (listener mode only: test calls, the bound port). */
  get service(): CallpopService | null {
    return this.running.kind === 'listener' ? this.running.service : null;
  }

  onUpdates(fn: UpdateListener): void {
    this.updateListeners.add(fn);
  }

  onDurable(fn: UpdateListener): void {
    this.durableListeners.add(fn);
  }

  onStatus(fn: () => void): void {
    this.statusListeners.add(fn);
  }

  /** The hub's directory changed (extension → agent name). */
  onDirectory(fn: () => void): void {
    this.directoryListeners.add(fn);
  }

  /** The hub's shared callbacks (hub mode), and their changes (incl. a switch of source). */
  callbacks(): HubCallbacks | null {
    return this.running.kind === 'hub' ? this.running.client.callbacks : null;
  }

  onCallbacks(fn: () => void): void {
    this.callbackListeners.add(fn);
  }

  /** The hub's extension → agent name list; empty in listener mode. */
  directory(): Record<string, string> {
    return this.running.kind === 'hub' ? this.running.client.directory() : {};
  }

  openCalls(): CallRecord[] {
    switch (this.running.kind) {
      case 'listener':
        return this.running.service.openCalls();
      case 'hub': {
        // A ring left in the log from before the PC was off is not live: the popup's restore (and the
        // Calls view) must not bring it back; the backfill ends it. Same rule as the hub client's.
        const now = (this.o.now ?? Date.now)();
        return this.running.client.openCalls().filter((r) => r.status !== 'ringing' || now - Date.parse(r.startedAt) <= staleRingMs);
      }
      case 'hub-setup':
        return [];
    }
  }

  /** Ends a ghost call (listener only: a hub's calls end when the hub says so). */
  clearCall(callId: string): Promise<boolean> {
    return this.running.kind === 'listener' ? this.running.service.clearCall(callId) : Promise.resolve(false);
  }

  status(): ServiceState {
    const r = this.running;
    switch (r.kind) {
      case 'listener': {
        const { state, notice } = r.service.status();
        return state.state === 'listening' && notice ? { ...state, notice } : state;
      }
      case 'hub-setup':
        return { state: 'hub-setup', message: r.message };
      case 'hub':
        return hubState(r.client.currentStatus(), r.client.extension);
    }
  }

  /** Reconnect to the hub at once (OS resume, network change); nothing to do for the listener. */
  reconnectNow(reason: string): void {
    if (this.running.kind !== 'hub') return;
    this.logger.info(`Reconnecting to the hub now (${reason})`);
    this.running.client.reconnectNow();
  }

  /** New settings and/or password (undefined = unchanged); applied one after another. */
  update(settings: Settings, password?: string | null): Promise<void> {
    const run = this.queue.then(() => this.apply(settings, password === undefined ? this.password : password));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pruneTimer);
    await this.queue;
    await this.stop(this.running);
  }

  private async apply(settings: Settings, password: string | null): Promise<void> {
    if (this.closed) return;
    const before = hubKey(this.current, this.password);
    const wasListener = this.running.kind === 'listener';
    this.current = settings;
    this.password = password;
    if (settings.source === 'listener' && wasListener) {
      await (this.running as Extract<Running, { kind: 'listener' }>).service.updateSettings(settings);
      return;
    }
    if (settings.source === 'hub' && !wasListener && before === hubKey(settings, password)) return this.prune();
    // A switch, or another hub connection: stop what runs (its store is flushed and closed) and start anew.
    this.unattach();
    const keepStore = settings.source === 'hub' && !wasListener ? this.store : null;
    await this.stop(this.running, keepStore !== null);
    this.running = await startSource(this.o, settings, password, keepStore);
    this.attach();
    this.emitStatus();
    this.emitDirectory();
    this.emitCallbacks();
    await this.prune();
  }

  /** settings.retentionDays in hub mode, as CallpopService does it for the listener. */
  private async prune(): Promise<void> {
    const days = this.current.retentionDays;
    if (days <= 0 || this.closed || this.running.kind === 'listener') return;
    try {
      const n = await this.store.prune((this.o.now ?? Date.now)() - days * dayMs);
      if (n > 0) this.logger.info(`Retention: deleted ${n} call(s) older than ${days} days`);
    } catch (e) {
      this.logger.error(`Retention prune failed: ${(e as Error).message}`);
    }
  }

  private async stop(r: Running, keepStore = false): Promise<void> {
    if (r.kind === 'listener') return r.service.close();
    if (r.kind === 'hub') await r.client.close();
    if (!keepStore) await r.store.close();
  }

  private attach(): void {
    const r = this.running;
    if (r.kind === 'listener') {
      this.detach = [r.service.onUpdates(this.updateListeners.emit), r.service.onDurable(this.durableListeners.emit), r.service.onStatus(() => this.emitStatus())];
    } else if (r.kind === 'hub') {
      let refused = false;
      this.detach = [
        r.client.onUpdates(this.updateListeners.emit),
        r.client.onDurable(this.durableListeners.emit),
        r.client.onStatus((s) => {
          // Logged once here: the client does not retry a refusal (a password does not get right by itself).
          if (s.state === 'refused' && !refused) this.logger.error(`Hub ${s.url}: ${s.reason}; not retrying until the settings or the password change`);
          refused = s.state === 'refused';
          this.emitStatus();
        }),
        r.client.onDirectory(() => this.emitDirectory()),
        r.client.callbacks.onChange(() => this.emitCallbacks()),
      ];
    } else this.detach = [];
  }

  private unattach(): void {
    for (const off of this.detach) off();
    this.detach = [];
  }

  private emitStatus(): void {
    for (const fn of this.statusListeners) fn();
  }

  private emitCallbacks(): void {
    for (const fn of this.callbackListeners) fn();
  }

  private emitDirectory(): void {
    for (const fn of this.directoryListeners) fn();
  }
}

/** Starts the source the settings ask for over the data folder's call log (a hub reuses `keepStore`). */
async function startSource(o: CallSourceOptions, settings: Settings, password: string | null, keepStore: CallLogStore | null): Promise<Running> {
  const logger = o.logger ?? silentLogger;
  if (settings.source === 'listener') {
    const service = await CallpopService.start({ dataDir: o.dataDir, settings, logger, now: o.now, tickMs: o.tickMs });
    return { kind: 'listener', service };
  }
  const store = keepStore ?? (await openCallLogStore(callLogDir(o.dataDir), { logger, defaultCountry: settings.defaultCountry }));
  const message = hubSetupProblem(settings, password);
  if (message || !password) return { kind: 'hub-setup', store, message: message ?? '' };
  try {
    const client = await HubClient.start({
      dataDir: o.dataDir,
      url: settings.hubUrl,
      user: settings.hubAgent,
      password,
      extension: settings.extension,
      logger,
      now: o.now,
      store,
      ...o.hub,
      ...(settings.hubFingerprint ? { connect: pinnedConnect(settings.hubFingerprint) } : {}),
    });
    logger.info(`Connecting to the hub ${settings.hubUrl} as ${settings.hubAgent} (extension ${settings.extension})`);
    return { kind: 'hub', client, store };
  } catch (e) {
    return { kind: 'hub-setup', store, message: `Cannot connect to the hub: ${(e as Error).message}` };
  }
}

/** The HubClient's status as the app shows it. */
export function hubState(s: HubClientStatus, extension: string): HubState | { state: 'stopped' } {
  switch (s.state) {
    case 'connecting':
      return { state: 'hub-connecting', url: s.url };
    case 'connected':
      return { state: 'hub-connected', url: s.url, extension, since: s.since, synced: s.synced };
    case 'reconnecting':
      return { state: 'hub-reconnecting', url: s.url, since: s.since, error: s.error };
    case 'refused':
      return { state: 'hub-refused', url: s.url, reason: s.reason };
    case 'hub-offline':
      return { state: 'hub-offline', url: s.url, since: s.since };
    case 'closed':
      return { state: 'stopped' };
  }
}
