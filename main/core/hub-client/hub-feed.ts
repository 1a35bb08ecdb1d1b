// Feed kind `hub`: a Callpop hub receives the PBX's webhooks and this PC follows its extension through
// the hub's broker (HubClient mirrors it into the local call log). The entry of the feed table
// (../feed/kinds.ts), the CallFeed over a running client, and the app's words for its states.
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import type { CallAction } from '../../../shared/hub-protocol';
import type { Event } from '../../../shared/emitter';
import type { HubState, ServiceState } from '../../../shared/ipc/contract';
import type { Logger } from '../../../shared/diagnostics-log';
import type { Settings } from '../../../shared/settings';
import { openCallLogStore, type CallLogStore } from '../call-log/store';
import { callLogDir } from '../config/paths';
import { pinnedConnect, pinProblem } from '../desktop/hub-tls-pin';
import type { CallFeed, FeedKind } from '../feed/call-feed';
import { HubClient, type HubClientOptions, type HubClientStatus } from './hub-client';
import { staleRingMs } from '../../../shared/tracking/what-changed';

/** What hub mode lacks, in the words Settings uses; null = ready to connect. */
export function hubSetupProblem(s: Settings, password: string | null): string | null {
  if (s.hubUrl === '') return 'Enter the hub address (Settings → Connection).';
  if (s.hubAgent === '') return 'Enter your agent name (Settings → Connection).';
  if (!password) return 'Enter the hub password (Settings → Connection).';
  if (s.extension === '') return 'Set your extension (Settings → Connection) to see your calls.';
  if (s.hubFingerprint !== '') return pinProblem(s.hubUrl);
  return null;
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

export class HubFeed implements CallFeed {
  readonly kind = 'hub' as const;
  readonly changes: Event<CallUpdate[]>;
  readonly durable: Event<CallUpdate[]>;
  readonly statusChanged: Event<void>;
  readonly directoryChanged: Event<void>;

  constructor(
    readonly client: HubClient,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.changes = (fn) => client.onUpdates(fn);
    this.durable = (fn) => client.onDurable(fn);
    this.directoryChanged = (fn) => client.onDirectory(() => fn());
    this.statusChanged = (fn) => client.onStatus(() => fn());
  }

  actions(): readonly CallAction[] {
    return [...this.client.actions];
  }

  async act(action: CallAction, o: { callId?: string; destination?: string }): Promise<{ ok: boolean; error?: string | undefined }> {
    const r = await this.client.requestAction(action, o);
    return { ok: r.ok, ...(r.error !== undefined ? { error: r.error } : {}) };
  }

  get store(): CallLogStore {
    return this.client.store;
  }

  status(): ServiceState {
    return hubState(this.client.currentStatus(), this.client.extension);
  }

  openCalls(): CallRecord[] {
    // A ring left in the log from before the PC was off is not live: the popup's restore (and the
    // Calls view) must not bring it back; the backfill ends it.
    const now = this.now();
    return this.client.openCalls().filter((r) => r.status !== 'ringing' || now - Date.parse(r.startedAt) <= staleRingMs);
  }

  addresses(): string[] {
    return [];
  }

  directory(): Record<string, string> {
    return this.client.directory();
  }

  /** A hub's calls end when the hub says so. */
  clearCall(): Promise<boolean> {
    return Promise.resolve(false);
  }

  reconnectNow(reason: string): void {
    this.logger.info(`Reconnecting to the hub now (${reason})`);
    this.client.reconnectNow();
  }

  /** Nothing the client uses changed (restartKey covers it). */
  async update(): Promise<void> {}

  async close(options: { keepStore?: boolean } = {}): Promise<void> {
    await this.client.close();
    if (!options.keepStore) await this.store.close();
  }
}

export const hubKind: FeedKind = {
  async start(ctx) {
    const { settings, password, logger } = ctx;
    const store = ctx.store ?? (await openCallLogStore(callLogDir(ctx.dataDir), { logger, defaultCountry: settings.defaultCountry }));
    try {
      const client = await HubClient.start({
        dataDir: ctx.dataDir,
        url: settings.hubUrl,
        user: settings.hubAgent,
        password: password ?? '',
        extension: settings.extension,
        logger,
        now: ctx.now,
        store,
        ...(ctx.extra?.hub as Partial<HubClientOptions> | undefined),
        ...(settings.hubFingerprint ? { connect: pinnedConnect(settings.hubFingerprint) } : {}),
      });
      return new HubFeed(client, logger, ctx.now ?? Date.now);
    } catch (e) {
      // A store given by a restart stays open for the idle feed the desktop shows instead.
      if (!ctx.store) await store.close();
      throw e;
    }
  },
  startedLine: (s) => `Connecting to the hub ${s.hubUrl} as ${s.hubAgent} (extension ${s.extension})`,
  restartKey: (s, password) => JSON.stringify([s.hubUrl, s.hubAgent, s.hubFingerprint, s.extension, password]),
  notReady(s, password) {
    const message = hubSetupProblem(s, password);
    return message === null ? null : { state: 'hub-setup', message };
  },
  failedState: (e) => ({ state: 'hub-setup', message: `Cannot connect to the hub: ${e.message}` }),
};
