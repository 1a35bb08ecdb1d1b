// HubClient: the desktop side of a Callpop hub. Connects outbound to the hub's MQTT broker as one agent,
// follows one extension's calls and mirrors them into the local call log exactly as if this PC had
// received the webhooks itself, so `callpop log`, the app's log and its pops do not care which source
// fed them. Offers the surface CallpopService offers its consumers (onUpdates live, onDurable after the
// fsync, onStatus, openCalls, store, close).
//
// Session choice: clean sessions. The backfill (`sync/req` from the highest seq applied, on every
// connect) is what catches a PC up; a persistent session would make the broker queue every offline
// PC's calls (Mosquitto silently drops beyond 1000) and replay stale rings on reconnect. The client id is
// still fixed per PC and agent (hub-client.json): sync answers are addressed to it, and two PCs of one
// agent must not share one (they would kick each other off in a loop).
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import type { CallRecord } from '../../../shared/call-record';
import {
  callChangeMessageSchema,
  decodePayload,
  directoryMessageSchema,
  DEFAULT_SITE,
  HUB_PROTOCOL_VERSION,
  hubStatusMessageSchema,
  openCallsMessageSchema,
  parseTopic,
  syncResponseSchema,
  topics,
  type OpenCallsMessage,
  type SyncRequest,
} from '../../../shared/hub-protocol';
import { silentLogger, type Logger } from '../../../shared/log';
import { openCallLogStore, type CallLogStore } from '../call-log/store';
import { callLogDir } from '../config/paths';
import { endAbandoned } from '../service/call-service';
import { backoff, type Backoff } from './backoff';
import { HubCallbacks } from './callbacks';
import { LogMirror, type HubCallUpdate } from './mirror';
import { RateLimitedLog } from '../rate-limited-log';
import { hubKey, openHubClientState, type HubClientState } from './state-file';

export type { HubCallUpdate } from './mirror';

export type HubClientStatus =
  | { state: 'connecting'; url: string }
  /** The broker accepted us. `synced`: the backfill since the last connect is complete. */
  | { state: 'connected'; url: string; since: string; synced: boolean }
  /** Lost the broker (or never reached it); retrying with backoff. `since`: when it was lost. */
  | { state: 'reconnecting'; url: string; since: string; error: string | null }
  /** The broker refused the credentials (or the client id): not retried until new settings. */
  | { state: 'refused'; url: string; reason: string }
  /** Connected to the broker, but the hub's last will says it is gone. */
  | { state: 'hub-offline'; url: string; since: string }
  | { state: 'closed' };

export interface HubClientOptions {
  dataDir: string;
  /** mqtt://, mqtts://, ws:// or wss:// URL of the hub's broker. */
  url: string;
  /** Agent name (the broker user name). */
  user: string;
  password: string;
  extension: string;
  site?: string;
  logger?: Logger;
  now?: () => number;
  /** Reconnect delays (tests use short ones). */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** How long to wait for a sync answer before asking again. Default 20 s. */
  syncTimeoutMs?: number;
  /** Extra MQTT.js options (TLS: ca, rejectUnauthorized, checkServerIdentity …). */
  mqtt?: Partial<IClientOptions>;
  /** Use this call log instead of opening the data folder's (the desktop core shares its own). */
  store?: CallLogStore;
  /** Replaces MQTT.js's connect (the desktop's certificate pinning hands its own TLS stream to the client). */
  connect?: (url: string, opts: IClientOptions) => MqttClient;
}

type UpdateListener = (updates: HubCallUpdate[]) => void;
type StatusListener = (status: HubClientStatus) => void;

/** CONNACK codes that no retry will fix (3.1.1: 2 identifier rejected, 4 bad user name or password, 5 not authorized; v5 equivalents). */
const refusals: Record<number, string> = {
  2: 'the broker rejected the client id',
  4: 'the hub refused the user name or password',
  // Mosquitto answers a wrong password with 5 (not authorized) under MQTT 3.1.1.
  5: 'the hub refused the agent name or password (not authorized)',
  133: 'the broker rejected the client id',
  134: 'the hub refused the user name or password',
  135: 'the hub refused the agent name or password (not authorized)',
};
/** How often the sync watermark is saved at most (a lagging one only means a longer backfill). */
const saveEveryMs = 1000;

export class HubClient {
  private client: MqttClient | null = null;
  private status: HubClientStatus;
  private readonly statusListeners = new Set<StatusListener>();
  private readonly directoryListeners = new Set<(agents: Record<string, string>) => void>();
  private readonly backoff: Backoff;
  private readonly badMessages: RateLimitedLog;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly site: string;
  private readonly key: string;
  readonly clientId: string;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private refused = false;
  private immediate = false;
  private lostAt: string | null = null;
  private lastError: string | null = null;
  private connectedAt: string | null = null;
  private hubOnline: { online: boolean; since: string } | null = null;
  private agents: Record<string, string> = {};
  private hubOpen: OpenCallsMessage | null = null;
  /** Every change up to here is durable in the local log. */
  private watermark: number;
  /** The sync under way since the last connect (null once complete). */
  private sync: { requestId: string; since: number; liveMax: number } | null = null;
  private synced = false;
  /** The hub's shared callbacks for this extension (./callbacks.ts). */
  readonly callbacks: HubCallbacks;

  private constructor(
    private readonly options: HubClientOptions,
    private readonly mirror: LogMirror,
    private readonly state: HubClientState,
    private readonly ownsStore: boolean,
  ) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.site = options.site ?? DEFAULT_SITE;
    // Validates site and extension (topic-safe) before anything connects.
    topics.calls(this.site, options.extension);
    this.key = hubKey(options.url, this.site, options.extension);
    this.clientId = state.clientIdFor(options.user);
    this.watermark = state.syncedSeq(this.key);
    this.backoff = backoff(options.reconnect);
    this.badMessages = new RateLimitedLog(this.logger, 'hub messages ignored', 3, 10_000, this.now);
    this.status = { state: 'connecting', url: options.url };
    this.callbacks = new HubCallbacks(this.site, options.extension, this.clientId, (topic, payload) => {
      const client = this.client;
      if (!client?.connected) return Promise.reject(new Error('offline'));
      return client.publishAsync(topic, payload, { qos: 1 }).then(() => {});
    });
  }

  /** Opens the local call log and starts connecting (resolves at once; follow onStatus). */
  static async start(options: HubClientOptions): Promise<HubClient> {
    const logger = options.logger ?? silentLogger;
    const store = options.store ?? (await openCallLogStore(callLogDir(options.dataDir), { logger }));
    try {
      const state = openHubClientState(options.dataDir, logger);
      const mirror = new LogMirror(store, options.extension, logger, options.now ?? Date.now);
      const client = new HubClient(options, mirror, state, !options.store);
      await client.endOtherExtensions();
      client.open();
      return client;
    } catch (e) {
      if (!options.store) await store.close();
      throw e;
    }
  }

  get store(): CallLogStore {
    return this.mirror.store;
  }

  get extension(): string {
    return this.options.extension;
  }

  /** The highest hub seq up to which everything is in the local log. */
  get syncedSeq(): number {
    return this.watermark;
  }

  currentStatus(): HubClientStatus {
    return this.status;
  }

  /** Changes as they arrive, in order, before they are written (pops, live views). */
  onUpdates(fn: UpdateListener): () => void {
    return this.mirror.onUpdates(fn);
  }

  /** The same changes once they are on disk. */
  onDurable(fn: UpdateListener): () => void {
    return this.mirror.onDurable(fn);
  }

  onStatus(fn: StatusListener): () => void {
    this.statusListeners.add(fn);
    return () => this.statusListeners.delete(fn);
  }

  /** The site's extension → agent name list ("answered by Anna"), as the hub last published it. */
  directory(): Record<string, string> {
    return this.agents;
  }

  onDirectory(fn: (agents: Record<string, string>) => void): () => void {
    this.directoryListeners.add(fn);
    return () => this.directoryListeners.delete(fn);
  }

  /** This extension's ringing and talking calls in the local log, newest first. */
  openCalls(): CallRecord[] {
    return this.store.openCalls().filter((r) => r.extension === this.options.extension && !this.store.isDeleted(r.id));
  }

  /** The hub's own list of this extension's open calls (retained), as last received. */
  hubOpenCalls(): OpenCallsMessage | null {
    return this.hubOpen;
  }

  /** Resolves once everything received so far is durable. */
  flush(): Promise<void> {
    return this.mirror.flush();
  }

  /**
   * Reconnect at once (resume from sleep, network change): after OS sleep the old connection may be
   * dead without any close event, and waiting for the keep-alive to notice takes a minute.
   */
  reconnectNow(): void {
    if (this.closed || this.refused || !this.client) return;
    this.backoff.reset();
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      this.client.reconnect();
      return;
    }
    this.immediate = true;
    // Destroying the socket makes MQTT.js emit close; the close handler reconnects without delay.
    this.client.stream?.destroy();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.callbacks.close();
    for (const t of [this.reconnectTimer, this.syncTimer, this.saveTimer]) if (t) clearTimeout(t);
    const client = this.client;
    this.client = null;
    // Not connected yet (or between reconnects): nothing to flush to the broker, and a graceful end
    // would leave the half-open socket for the broker's connect timeout (a quick settings change).
    if (client) await endWithin(client, 2000);
    await this.mirror.flush();
    this.saveWatermark();
    if (this.ownsStore) await this.store.close();
    this.setStatus({ state: 'closed' });
  }

  /** Calls of another extension left open in the log: nothing will end them now (as the service does). */
  private async endOtherExtensions(): Promise<void> {
    const now = this.now();
    const abandoned = this.store
      .openCalls()
      .filter((r) => r.extension !== this.options.extension)
      .flatMap((r) => endAbandoned(r, now)?.record ?? []);
    if (abandoned.length === 0) return;
    this.logger.info(`Ended ${abandoned.length} open call(s) of another extension (the extension changed)`);
    await this.store.put(abandoned).catch((e: unknown) => this.logger.error(`Call log write failed ending the calls of another extension: ${(e as Error).message}`));
  }

  private open(): void {
    const o = this.options;
    const client = (o.connect ?? connect)(o.url, {
      ...o.mqtt,
      clientId: this.clientId,
      username: o.user,
      password: o.password,
      clean: true,
      protocolVersion: 4,
      // Reconnects are ours: backoff with jitter, none after a refusal.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: false,
    });
    this.client = client;
    client.on('connect', () => this.connected());
    client.on('message', (topic, payload) => this.message(topic, payload));
    client.on('error', (e: Error & { code?: unknown }) => {
      const reason = typeof e.code === 'number' ? refusals[e.code] : undefined;
      if (reason) {
        // Not retried: a password does not get right by itself. (Logged by whoever shows the status.)
        this.refused = true;
        this.setStatus({ state: 'refused', url: o.url, reason });
      } else this.lastError = e.message;
    });
    client.on('close', () => this.lost());
  }

  private lost(): void {
    this.clearSyncTimer();
    this.sync = null;
    this.synced = false;
    if (this.closed || this.refused || this.reconnectTimer) return;
    if (this.status.state === 'connected' || this.status.state === 'hub-offline') {
      this.logger.warn(`Lost the hub's broker ${this.options.url}; reconnecting`);
    }
    this.lostAt ??= new Date(this.now()).toISOString();
    this.connectedAt = null;
    this.setStatus({ state: 'reconnecting', url: this.options.url, since: this.lostAt, error: this.lastError });
    const delay = this.immediate ? 0 : this.backoff.next();
    this.immediate = false;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed && !this.refused) this.client?.reconnect();
    }, delay);
  }

  private connected(): void {
    const client = this.client;
    if (!client) return;
    // No Nagle: a PUBACK held back waiting for the hub's delayed ACK stalls the next PUBLISH (~40 ms
    // per pop). TCP and TLS sockets have setNoDelay; a WebSocket stream does not.
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    this.backoff.reset();
    this.lostAt = null;
    this.lastError = null;
    this.connectedAt = new Date(this.now()).toISOString();
    this.hubOnline = null;
    const { site } = this;
    const ext = this.options.extension;
    const subscriptions = [topics.calls(site, ext), topics.open(site, ext), topics.syncResponse(site, ext, this.clientId), topics.hubStatus(site), topics.directory(site), ...this.callbacks.topics()];
    this.emitStatus();
    // Ask for the backfill only once the subscriptions hold: what the hub publishes after that arrives
    // live, what it published before is in the answer.
    client.subscribe(subscriptions, { qos: 1 }, (err, granted) => {
      if (err || client !== this.client) {
        if (err) this.logger.error(`Hub subscription failed: ${err.message}`);
        return;
      }
      const denied = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (denied.length > 0) this.logger.error(`The hub's broker refused the subscription to ${denied.join(', ')} (check the agent's extensions)`);
      this.requestSync();
    });
  }

  private requestSync(since = this.watermark): void {
    const client = this.client;
    if (!client?.connected) return;
    const request: SyncRequest = { v: HUB_PROTOCOL_VERSION, since, clientId: this.clientId, requestId: randomBytes(8).toString('hex') };
    this.sync = { requestId: request.requestId, since, liveMax: this.sync?.liveMax ?? 0 };
    this.synced = false;
    client.publish(topics.syncRequest(this.site, this.options.extension), JSON.stringify(request), { qos: 1 }, (err) => {
      if (err) this.logger.warn(`Sync request not sent: ${err.message}`);
    });
    this.clearSyncTimer();
    // The hub may be down (broker up) or lose the request: ask again later; its online status also asks.
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      if (this.sync?.requestId === request.requestId) this.requestSync(this.watermark);
    }, this.options.syncTimeoutMs ?? 20_000);
    this.syncTimer.unref();
  }

  private clearSyncTimer(): void {
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = null;
  }

  private message(topic: string, payload: Buffer): void {
    try {
      this.handle(topic, payload);
    } catch (e) {
      // Nothing from the network may take the client down.
      this.badMessages.note(`Hub message on ${topic} failed: ${(e as Error).message}`);
    }
  }

  private handle(topic: string, payload: Buffer): void {
    if (this.callbacks.handle(topic, payload, (error) => this.badMessages.note(`Ignored a malformed hub message on ${topic}: ${error}`))) return;
    const t = parseTopic(topic);
    const ext = this.options.extension;
    if (!t || t.site !== this.site || ('ext' in t && t.ext !== ext)) {
      this.badMessages.note(`Ignored a message on an unexpected topic ${JSON.stringify(topic.slice(0, 200))}`);
      return;
    }
    const bad = (error: string): void => this.badMessages.note(`Ignored a malformed hub message on ${topic}: ${error}`);
    switch (t.kind) {
      case 'calls': {
        const m = decodePayload(callChangeMessageSchema, payload);
        if (!m.ok) return bad(m.error);
        const { seq } = m.value;
        void this.mirror.apply([m.value], false);
        if (this.sync) this.sync.liveMax = Math.max(this.sync.liveMax, seq);
        else if (this.synced) this.advance(seq);
        return;
      }
      case 'syncResponse': {
        if (t.clientId !== this.clientId) return;
        const m = decodePayload(syncResponseSchema, payload);
        if (!m.ok) return bad(m.error);
        const r = m.value;
        const sync = this.sync;
        if (!sync || r.requestId !== sync.requestId) return; // an answer to an earlier request
        if (r.records.length > 0) void this.mirror.apply(r.records, true);
        if (!r.done) return;
        if (r.headSeq < sync.since) {
          // The hub's sequence is behind what we applied: its data was reset. Catch up from the start.
          this.logger.warn(`The hub's sequence (${r.headSeq}) is behind this PC's (${sync.since}): the hub was reset; catching up from the start`);
          this.state.setSyncedSeq(this.key, 0, true);
          this.watermark = 0;
          this.requestSync(0);
          return;
        }
        if (r.more) {
          const last = r.records[r.records.length - 1]?.seq ?? r.headSeq;
          this.requestSync(last);
          return;
        }
        this.clearSyncTimer();
        this.sync = null;
        this.synced = true;
        this.advance(Math.max(r.headSeq, sync.liveMax));
        this.emitStatus();
        return;
      }
      case 'open': {
        const m = decodePayload(openCallsMessageSchema, payload);
        if (!m.ok) return bad(m.error);
        this.hubOpen = m.value;
        return;
      }
      case 'hubStatus': {
        const m = decodePayload(hubStatusMessageSchema, payload);
        if (!m.ok) return bad(m.error);
        const online = m.value.state === 'online';
        const wasOffline = this.hubOnline !== null && !this.hubOnline.online;
        this.hubOnline = { online, since: m.value.since };
        if (online && !m.value.protocols.includes(HUB_PROTOCOL_VERSION)) {
          this.badMessages.note(`The hub speaks protocol v${m.value.protocols.join(', v')} only; this Callpop speaks v${HUB_PROTOCOL_VERSION}: update Callpop`);
        }
        // A hub that came back may have taken webhooks while it could not answer: catch up again.
        if (online && wasOffline) this.requestSync(this.watermark);
        this.emitStatus();
        return;
      }
      case 'directory': {
        const m = decodePayload(directoryMessageSchema, payload);
        if (!m.ok) return bad(m.error);
        this.agents = m.value.agents;
        for (const fn of this.directoryListeners) {
          try {
            fn(this.agents);
          } catch (e) {
            this.logger.error(`Directory listener failed: ${(e as Error).message}`);
          }
        }
        return;
      }
      default:
        this.badMessages.note(`Ignored a message on ${topic}`);
    }
  }

  /** Moves the watermark to `seq` once everything received so far is durable. */
  private advance(seq: number): void {
    void this.mirror.flush().then(() => {
      if (!this.mirror.clean || seq <= this.watermark) return;
      this.watermark = seq;
      this.saveTimer ??= setTimeout(() => {
        this.saveTimer = null;
        this.saveWatermark();
      }, saveEveryMs);
    });
  }

  private saveWatermark(): void {
    try {
      this.state.setSyncedSeq(this.key, this.watermark);
    } catch (e) {
      this.logger.error(`Could not save the hub sync position: ${(e as Error).message}`);
    }
  }

  private emitStatus(): void {
    if (this.closed || this.refused) return;
    const url = this.options.url;
    if (!this.client?.connected || !this.connectedAt) return;
    if (this.hubOnline && !this.hubOnline.online) this.setStatus({ state: 'hub-offline', url, since: this.hubOnline.since });
    else this.setStatus({ state: 'connected', url, since: this.connectedAt, synced: this.synced });
  }

  private setStatus(status: HubClientStatus): void {
    this.status = status;
    for (const fn of this.statusListeners) {
      try {
        fn(status);
      } catch (e) {
        this.logger.error(`Status listener failed: ${(e as Error).message}`);
      }
    }
  }
}

/**
 * Ends the MQTT connection: gracefully when connected (a DISCONNECT, so the broker drops no will), at once
 * when not. A broker that never answers the graceful end (a half-dead socket after sleep) gets `ms`, then
 * the socket is destroyed: closing Callpop or switching the source must not hang on it.
 */
async function endWithin(client: MqttClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.stream?.destroy();
      resolve();
    }, ms);
  });
  await Promise.race([client.endAsync(!client.connected).catch(() => client.end(true)), late]);
  clearTimeout(timer);
}
