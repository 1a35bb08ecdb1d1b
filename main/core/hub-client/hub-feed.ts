// Feed kind `hub`: a Callpop hub receives the PBX's webhooks and this PC follows its extension through
// the hub's broker (HubClient mirrors it into the local call log). The entry of the feed table
// (../feed/kinds.ts), the CallFeed over the running clients, and the app's words for its states.
// `callpop serve --hub` may follow several of the agent's extensions (extra.hub.extensions): one
// HubClient each, on one call log and one state file, behind this one feed.
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import type { CallAction } from '../../../shared/hub-protocol';
import type { Event } from '../../../shared/emitter';
import type { HubState, ServiceState } from '../../../shared/source-state';
import type { Logger } from '../../../shared/diagnostics-log';
import { splitHubUrls, type Settings } from '../../../shared/settings';
import type { HubCallbacks } from './callbacks';
import { openCallLogStore, type CallLogStore } from '../call-log/store';
import { callLogDir } from '../config/paths';
import { pinnedConnect, pinProblem } from './hub-tls-pin';
import type { CallFeed, FeedKind } from '../feed/call-feed';
import { HubClient, type HubClientOptions, type HubClientStatus } from './hub-client';
import { openHubClientState } from './state-file';
import { staleRingMs } from '../../../shared/tracking/what-changed';

/** What hub mode lacks, in the words Settings uses; null = ready to connect. */
export function hubSetupProblem(s: Settings, password: string | null): string | null {
  if (s.hubUrl === '') return 'Enter the hub address (Settings → Connection).';
  if (s.hubAgent === '') return 'Enter your agent name (Settings → Connection).';
  if (!password) return 'Enter the hub password (Settings → Connection).';
  if (s.extension === '') return 'Set your extension (Settings → Connection) to see your calls.';
  if (s.hubFingerprint !== '') return splitHubUrls(s.hubUrl).map(pinProblem).find(Boolean) ?? null;
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
      return { state: 'hub-refused', url: s.url, reason: s.reason, ...(s.about && { about: s.about }) };
    case 'hub-offline':
      return { state: 'hub-offline', url: s.url, since: s.since, ...(s.silent && { silent: true }) };
    case 'closed':
      return { state: 'stopped' };
  }
}

/**
 * The call log's key for an agent with several extensions: the first extension's records keep the call
 * id (as a log of one extension has them), another's get "@extension" after it. The records themselves
 * keep the PBX's call id.
 */
export const callKeyPerExtension =
  (first: string) =>
  (r: CallRecord): string =>
    r.extension === first ? r.id : `${r.id}@${r.extension}`;

/** What `extra.hub` may hold: HubClient options, and every extension to follow (default: settings.extension). */
export type HubFeedExtra = Partial<HubClientOptions> & { extensions?: readonly string[] };

export class HubFeed implements CallFeed {
  readonly kind = 'hub' as const;
  readonly changes: Event<CallUpdate[]>;
  readonly durable: Event<CallUpdate[]>;
  readonly statusChanged: Event<void>;
  readonly directoryChanged: Event<void>;
  /** The first extension's shared callbacks (its queues' items and its own). */
  readonly callbacks: HubCallbacks;

  /** `clients`: one per extension followed; the first one's status, directory and actions speak for the feed. */
  constructor(
    readonly clients: readonly HubClient[],
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    const all =
      <T>(on: (c: HubClient, fn: (v: T) => void) => () => void) =>
      (fn: (v: T) => void) => {
        const offs = clients.map((c) => on(c, fn));
        return () => offs.forEach((off) => off());
      };
    this.changes = all((c, fn) => c.onUpdates(fn));
    this.durable = all((c, fn) => c.onDurable(fn));
    this.statusChanged = all((c, fn) => c.onStatus(() => fn()));
    this.directoryChanged = (fn) => this.client.onDirectory(() => fn());
    this.callbacks = this.client.callbacks;
  }

  /** The first extension's client. */
  get client(): HubClient {
    return this.clients[0]!;
  }

  actions(): readonly CallAction[] {
    return [...this.client.actions];
  }

  async act(action: CallAction, o: { callId?: string; destination?: string }): Promise<{ ok: boolean; error?: string | undefined }> {
    // On the call's own extension; a call from the phone (no call) from the first.
    const client = (o.callId !== undefined && this.clients.find((c) => c.openCalls().some((r) => r.id === o.callId))) || this.client;
    const r = await client.requestAction(action, o);
    return { ok: r.ok, ...(r.error !== undefined ? { error: r.error } : {}) };
  }

  get store(): CallLogStore {
    return this.client.store;
  }

  status(): ServiceState {
    // A refusal of any of them stops the feed; otherwise the first one speaks.
    const refused = this.clients.find((c) => c.currentStatus().state === 'refused') ?? this.client;
    return hubState(refused.currentStatus(), this.clients.map((c) => c.extension).join(', '));
  }

  openCalls(): CallRecord[] {
    // A ring left in the log from before the PC was off is not live: the popup's restore (and the
    // Calls view) must not bring it back; the backfill ends it.
    const now = this.now();
    const open = this.clients.flatMap((c) => c.openCalls()).filter((r) => r.status !== 'ringing' || now - Date.parse(r.startedAt) <= staleRingMs);
    return this.clients.length > 1 ? open.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt)) : open;
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
    for (const c of this.clients) c.reconnectNow();
  }

  /** Nothing the client uses changed (restartKey covers it). */
  async update(): Promise<void> {}

  async close(options: { keepStore?: boolean } = {}): Promise<void> {
    for (const c of this.clients) await c.close();
    if (!options.keepStore) await this.store.close();
  }
}

export const hubKind: FeedKind = {
  async start(ctx) {
    const { settings, password, logger } = ctx;
    const { extensions = [settings.extension], ...clientOptions } = (ctx.extra?.hub ?? {}) as HubFeedExtra;
    // Several extensions on one log: a call that rings two of them (a ring group) is a record each.
    const keyOf = extensions.length > 1 ? callKeyPerExtension(extensions[0]!) : undefined;
    const store = ctx.store ?? (await openCallLogStore(callLogDir(ctx.dataDir), { logger, defaultCountry: settings.defaultCountry, ...(keyOf && { keyOf }) }));
    const clients: HubClient[] = [];
    try {
      // Several extensions: one state file for all (each saving its own would overwrite the others').
      const state = extensions.length > 1 ? openHubClientState(ctx.dataDir, logger) : undefined;
      for (const [i, extension] of extensions.entries()) {
        clients.push(
          await HubClient.start({
            dataDir: ctx.dataDir,
            url: settings.hubUrl,
            user: settings.hubAgent,
            password: password ?? '',
            extension,
            logger,
            now: ctx.now,
            store,
            ...clientOptions,
            ...(settings.hubFingerprint ? { connect: pinnedConnect(settings.hubFingerprint) } : {}),
            ...(state && { shared: { state, siblings: extensions, clientIdSlot: i === 0 ? '' : extension } }),
          }),
        );
      }
      return new HubFeed(clients, logger, ctx.now ?? Date.now);
    } catch (e) {
      for (const c of clients) await c.close();
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
