// HubClient: the desktop side of a Callpop hub. Connects outbound to the hub's MQTT broker as one agent,
// follows one extension's calls and mirrors them into the local call log exactly as if this PC had
// received the webhooks itself, so `callpop log`, the app's log and its pops do not care which source
// fed them. Offers the surface WebhookReceiver offers its consumers (onUpdates live, onDurable after the
// fsync, onStatus, openCalls, store, close).
//
// Session choice: clean sessions. The backfill (`sync/req` from the highest seq applied, on every
// connect) is what catches a PC up; a persistent session would make the broker queue every offline
// PC's calls (Mosquitto silently drops beyond 1000) and replay stale rings on reconnect. The client id is
// still fixed per PC and agent (hub-client.json): sync answers are addressed to it, and two PCs of one
// agent must not share one (they would kick each other off in a loop).
//
// Several URLs (the nodes of a broker cluster, `--hub "mqtt://a,mqtt://b"`): each reconnect goes to the
// next node, so a node's loss moves the client within about a second; the catch-up watermark is kept
// for the whole list (one hub), so moving node costs no backfill.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { CallRecord } from '../../../shared/call-record';
import {
  callChangeMessageSchema,
  decodePayload,
  directoryMessageSchema,
  extensionHeadMessageSchema,
  DEFAULT_SITE,
  HUB_PROTOCOL_VERSION,
  hubStatusMessageSchema,
  openCallsMessageSchema,
  parseTopic,
  syncResponseSchema,
  actionResponseSchema,
  callActions,
  type ActionResponse,
  type CallAction,
  topics,
  type OpenCallsMessage,
  type SyncRequest,
} from '../../../shared/hub-protocol';
import { silentLogger, type Logger } from '../../../shared/diagnostics-log';
import { endAbandoned } from '../../../shared/tracking/what-changed';
import { splitHubUrls } from '../../../shared/settings';
import { openCallLogStore, type CallLogStore } from '../call-log/store';
import { callLogDir } from '../config/paths';
import { withPacketLimit } from '../hub/broker/packet-limit';
import { agentExtensionsTopic, notTheAgentsForAgent, readAgentExtensions } from './agent-extensions';
import { backoff, type Backoff } from './backoff';
import { HubCallbacks } from './callbacks';
import { LogMirror, type HubCallUpdate } from './mirror';
import { RateLimitedLog } from '../rate-limited-log';
import { hubKey, openHubClientState, type HubClientState } from './state-file';
import { SeqGate } from './seq-gate';

export type { HubCallUpdate } from './mirror';

export type HubClientStatus =
  | { state: 'connecting'; url: string }
  /** The broker accepted us. `synced`: the backfill since the last connect is complete. */
  | { state: 'connected'; url: string; since: string; synced: boolean }
  /** Lost the broker (or never reached it); retrying with backoff. `since`: when it was lost. */
  | { state: 'reconnecting'; url: string; since: string; error: string | null }
  /**
   * The broker refused the credentials (or the client id), or (`about: 'extension'`) the hub does not give
   * this agent the extension: not retried until new settings.
   */
  | { state: 'refused'; url: string; reason: string; about?: 'extension' }
  /** Connected to the broker, but the hub's last will says it is gone, or (`silent`) its heartbeat stopped at `since`. */
  | { state: 'hub-offline'; url: string; since: string; silent?: boolean }
  | { state: 'closed' };

export interface HubClientOptions {
  dataDir: string;
  /** mqtt://, mqtts://, ws:// or wss:// URL of the hub's broker, or several (a cluster's nodes: a list or a comma list). */
  url: string | readonly string[];
  /** Agent name (the broker user name). */
  user: string;
  password: string;
  extension: string;
  site?: string;
  logger?: Logger;
  now?: () => number;
  /** Reconnect delays (tests use short ones). */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** How long to wait for (the next chunk of) a sync answer before asking again. Default 10 s. */
  syncTimeoutMs?: number;
  /**
   * After the extension's topics were refused (no list of the agent's extensions heard yet), how long the
   * next connection waits for that list before subscribing them anyway (an older hub has none). Default 3 s.
   */
  agentAnswerMs?: number;
  /** Extra MQTT.js options (TLS: ca, rejectUnauthorized, checkServerIdentity …). */
  mqtt?: Partial<IClientOptions>;
  /** Use this call log instead of opening the data folder's (the desktop core shares its own). */
  store?: CallLogStore;
  /** Replaces MQTT.js's connect (the desktop's certificate pinning hands its own TLS stream to the client). */
  connect?: (url: string, opts: IClientOptions) => MqttClient;
  /**
   * One of several HubClients on one call log (`serve --hub` for an agent with several extensions):
   * one state file for all (each saving its own would overwrite the others' positions), the siblings'
   * open calls left open at start, and a client id of its own (the same id twice kicks both off):
   * `clientIdSlot` (e.g. the extension; '' for the first) picks it, still bound to the agent's name.
   */
  shared?: { state: HubClientState; siblings: readonly string[]; clientIdSlot: string };
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
/**
 * Largest packet taken from the hub. The hub's largest messages are sync chunks (500 records) and open
 * lists (up to 1,000 calls); with every record field at its schema's bound that is under 32 MiB.
 */
export const MAX_HUB_PACKET_BYTES = 32 * 1024 * 1024;
/** A hub whose heartbeat is this many periods late is taken for gone (its will may never come). */
export const STALE_BEATS = 3;
/** How long a head beat above what is applied waits for its change to arrive before that counts as missed. */
const HEAD_GRACE_MS = 1000;
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
  /** The broker nodes, tried in turn; `node` is the one in use. */
  private readonly urls: string[];
  private node = 0;
  /** The wait used for each node of the current round (several nodes), and the attempts made in it. */
  private roundDelay: number | null = null;
  private roundAttempts = 0;
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
  /** The hub's heartbeat stopped: when it was last heard (local time), null while it beats. */
  private silentSince: string | null = null;
  private staleTimer: NodeJS.Timeout | null = null;
  /**
   * The last heartbeat heard (its `at`, as the hub stamped it), kept across reconnects: the broker
   * hands the retained status to every new subscription, so the same heartbeat comes again on each
   * reconnect and must not count as the hub being heard again (a client on a cluster that kept
   * reconnecting never showed a dead hub as offline).
   */
  private lastBeatAt: string | null = null;
  private agents: Record<string, string> = {};
  private hubOpen: OpenCallsMessage | null = null;
  /** Every change up to here is durable in the local log. */
  private watermark: number;
  /** Which live changes to apply, hold or drop, and when one was missed (./seq-gate.ts). */
  private readonly gate: SeqGate;
  /** A head beat above what is applied, checked again after HEAD_GRACE_MS (the change may be on its way). */
  private headCheck: NodeJS.Timeout | null = null;
  private pendingHead = 0;
  /**
   * The sync under way since the last connect (null once complete): `part` the next chunk expected,
   * `cursor` the seq of the last record received in order (where to ask again if a chunk is lost).
   */
  private sync: { requestId: string; since: number; part: number; cursor: number } | null = null;
  private synced = false;
  /** The hub's shared callbacks for this extension (./callbacks.ts). */
  readonly callbacks: HubCallbacks;
  /**
   * The agent's extensions topic (./agent-extensions.ts), subscribed before the extension's own: an
   * extension the hub does not give this agent is refused in words, not reconnected to forever.
   */
  private readonly agentTopic: string | null;
  /** The agent's extensions as the hub last said; null = not said (yet, or an older hub). */
  private ownExtensions: string[] | null = null;
  /** The extension's topics were refused with no list heard: the next connection waits for the list first. */
  private askFirst = false;
  /** Between connect and the extension's subscriptions granted. */
  private subscribing = false;
  /** Waiting (askFirst) for the agent's list before subscribing the extension's topics. */
  private answerWait: { timer: NodeJS.Timeout; go: () => void } | null = null;

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
    this.agentTopic = agentExtensionsTopic(this.site, options.user);
    this.urls = splitHubUrls(options.url);
    if (this.urls.length === 0) throw new Error('No hub address given.');
    this.key = hubKey(clusterKey(this.urls), this.site, options.extension);
    this.clientId = state.clientIdFor(options.user, options.shared?.clientIdSlot);
    // A list that grew from one address keeps that address's watermark (same hub).
    this.watermark = state.syncedSeq(this.key) || Math.max(0, ...this.urls.map((u) => state.syncedSeq(hubKey(u, this.site, options.extension))));
    this.gate = new SeqGate(this.watermark);
    this.backoff = backoff(options.reconnect);
    this.badMessages = new RateLimitedLog(this.logger, 'hub messages ignored', 3, 10_000, this.now);
    this.status = { state: 'connecting', url: this.urls[0]! };
    this.callbacks = new HubCallbacks(this.site, options.extension, this.clientId, (topic, payload) => {
      const client = this.client;
      if (!client?.connected) return Promise.reject(new Error('offline'));
      return client.publishAsync(topic, payload, { qos: 1 }).then(() => {});
    });
  }

  /** The node in use (or being tried). */
  get url(): string {
    return this.urls[this.node]!;
  }

  /** Opens the local call log and starts connecting (resolves at once; follow onStatus). */
  static async start(options: HubClientOptions): Promise<HubClient> {
    const logger = options.logger ?? silentLogger;
    const store = options.store ?? (await openCallLogStore(callLogDir(options.dataDir), { logger }));
    try {
      const state = options.shared?.state ?? openHubClientState(options.dataDir, logger);
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
    return this.store.openCalls().filter((r) => r.extension === this.options.extension && !this.store.isDeleted(this.store.keyOf(r)));
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
  private readonly actionWaits = new Map<string, (r: ActionResponse) => void>();
  private hubActions = new Set<CallAction>();

  /** The actions the hub says it carries out (its status message). */
  get actions(): ReadonlySet<CallAction> {
    return this.hubActions;
  }

  /**
   * Asks the hub to act on one of this extension's calls (or to dial from it): resolves with the hub's
   * answer, or a not-ok one when the hub is not reachable or does not answer in time. Never retried.
   */
  requestAction(action: CallAction, o: { callId?: string; destination?: string } = {}, timeoutMs = 15_000): Promise<ActionResponse> {
    const client = this.client;
    const requestId = randomBytes(8).toString('hex');
    const fail = (error: string): ActionResponse => ({ v: HUB_PROTOCOL_VERSION, requestId, ok: false, error });
    if (!client?.connected) return Promise.resolve(fail('Not connected to the hub.'));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.actionWaits.delete(requestId);
        resolve(fail('The hub did not answer.'));
      }, timeoutMs);
      this.actionWaits.set(requestId, (r) => {
        clearTimeout(timer);
        this.actionWaits.delete(requestId);
        resolve(r);
      });
      const payload = { v: HUB_PROTOCOL_VERSION, clientId: this.clientId, requestId, action, ...o };
      client.publish(topics.actionsRequest(this.site, this.options.extension), JSON.stringify(payload), { qos: 1 }, (err) => {
        if (err) this.actionWaits.get(requestId)?.(fail(`The request was not sent: ${err.message}`));
      });
    });
  }

  reconnectNow(): void {
    if (this.closed || this.refused || !this.client) return;
    this.backoff.reset();
    this.roundDelay = null;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
      this.attempt();
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
    for (const t of [this.reconnectTimer, this.syncTimer, this.saveTimer, this.staleTimer, this.headCheck, this.answerWait?.timer]) if (t) clearTimeout(t);
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
      .filter((r) => r.extension !== this.options.extension && !this.options.shared?.siblings.includes(r.extension))
      .flatMap((r) => endAbandoned(r, now)?.record ?? []);
    if (abandoned.length === 0) return;
    this.logger.info(`Ended ${abandoned.length} open call(s) of another extension (the extension changed)`);
    await this.store.put(abandoned).catch((e: unknown) => this.logger.error(`Call log write failed ending the calls of another extension: ${(e as Error).message}`));
  }

  private open(): void {
    const o = this.options;
    const url = this.url;
    const client = (o.connect ?? connect)(url, {
      ...o.mqtt,
      // The stream is wrapped below (packet size limit) before the first connect.
      manualConnect: true,
      clientId: this.clientId,
      username: o.user,
      password: o.password,
      clean: true,
      protocolVersion: 4,
      // Reconnects are ours: backoff with jitter, none after a refusal.
      reconnectPeriod: 0,
      // With several nodes, one that does not answer CONNECT (a NATS node whose session stream is
      // electing a leader) is left after 5 s for the next, which may answer at once.
      connectTimeout: this.urls.length > 1 ? 5000 : 10_000,
      keepalive: 30,
      resubscribe: false,
    });
    // A hostile or spoofed hub must not make this PC buffer a huge packet (MQTT allows 256 MB; a
    // 200 MB message peaked at 923 MB before): every (re)connect's stream is cut as soon as a packet's
    // header announces more than MAX_HUB_PACKET_BYTES, then the client reconnects as after any loss.
    // streamBuilder is private in MQTT.js's types (a public field at run time in 5.x).
    const internal = client as unknown as { streamBuilder: (c: MqttClient) => Duplex };
    const build = internal.streamBuilder.bind(client);
    internal.streamBuilder = (c) =>
      withPacketLimit(build(c), MAX_HUB_PACKET_BYTES, (n) => this.badMessages.note(`The hub sent a packet of at least ${n} bytes (limit ${MAX_HUB_PACKET_BYTES}); connection cut`));
    this.client = client;
    client.connect();
    // Events of a client left behind for another node are not this one's.
    const mine = (): boolean => client === this.client;
    client.on('connect', () => mine() && this.connected());
    client.on('message', (topic, payload) => mine() && this.message(topic, payload));
    client.on('error', (e: Error & { code?: unknown }) => {
      if (!mine()) return;
      const reason = typeof e.code === 'number' ? refusals[e.code] : undefined;
      if (reason) {
        // Not retried: a password does not get right by itself. (Logged by whoever shows the status.)
        this.refused = true;
        this.setStatus({ state: 'refused', url, reason });
      } else this.lastError = e.message;
    });
    client.on('close', () => mine() && this.lost());
  }

  /** The next connection attempt: the same node again, or with several, the next node. */
  private attempt(): void {
    if (this.closed || this.refused || !this.client) return;
    if (this.urls.length === 1) {
      this.client.reconnect();
      return;
    }
    const old = this.client;
    old.end(true);
    this.node = (this.node + 1) % this.urls.length;
    this.open();
  }

  private lost(): void {
    this.clearSyncTimer();
    this.stopAnswerWait();
    // Dropped while subscribing (a broker may cut a client over a topic it may not read): ask first next time.
    if (this.subscribing && !this.ownExtensions) this.askFirst = true;
    this.subscribing = false;
    this.sync = null;
    this.synced = false;
    if (this.closed || this.refused || this.reconnectTimer) return;
    if (this.status.state === 'connected' || this.status.state === 'hub-offline') {
      this.logger.warn(`Lost the hub's broker ${this.url}; ${this.urls.length > 1 ? 'trying the next node' : 'reconnecting'}`);
    }
    this.lostAt ??= new Date(this.now()).toISOString();
    this.connectedAt = null;
    // The staleness timer keeps running: losing the broker is no news from the hub.
    this.setStatus({ state: 'reconnecting', url: this.url, since: this.lostAt, error: this.lastError });
    const delay = this.immediate ? 0 : this.nextDelay();
    this.immediate = false;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.attempt();
    }, delay);
  }

  /**
   * The wait before the next attempt. With several nodes the backoff grows once per round through the
   * list, not per node: a dead node costs one quick attempt, and the next node is tried within about
   * a second instead of after a wait that doubled at each node that was down or still electing.
   */
  private nextDelay(): number {
    if (this.urls.length === 1 || this.roundDelay === null || ++this.roundAttempts >= this.urls.length) {
      this.roundAttempts = 0;
      this.roundDelay = this.backoff.next();
    }
    return this.roundDelay;
  }

  private connected(): void {
    const client = this.client;
    if (!client) return;
    // No Nagle: a PUBACK held back waiting for the hub's delayed ACK stalls the next PUBLISH (~40 ms
    // per pop). TCP and TLS sockets have setNoDelay; a WebSocket stream does not.
    (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    this.backoff.reset();
    this.roundDelay = null;
    this.lostAt = null;
    this.lastError = null;
    this.connectedAt = new Date(this.now()).toISOString();
    // What is known of the hub (offline, silent since) stays until the hub says otherwise: a reconnect
    // of this PC is no news from the hub.
    this.gate.connecting();
    const { site } = this;
    const ext = this.options.extension;
    // All QoS 0. Nothing rests on the broker delivering once: a lost change is found by its seq (a later
    // change's prevSeq, the head beat) and fetched by a sync; a lost sync chunk by its part number; a
    // lost action or callback answer is a request that timed out. With a clean session QoS 1 would only
    // cover the last hop, and on a NATS cluster each QoS-1 subscription is a JetStream consumer made on
    // every connect: after a node died, creating 5 of them failed or took seconds on each try and an
    // agent kept reconnecting for over a minute (issue #22's kill matrix).
    const subscriptions = {
      [topics.calls(site, ext)]: { qos: 0 as const },
      [topics.syncResponse(site, ext, this.clientId)]: { qos: 0 as const },
      [topics.actionsResponse(site, ext, this.clientId)]: { qos: 0 as const },
      [topics.open(site, ext)]: { qos: 0 as const },
      [topics.head(site, ext)]: { qos: 0 as const },
      [topics.hubStatus(site)]: { qos: 0 as const },
      [topics.directory(site)]: { qos: 0 as const },
      // The team's callbacks topics too, at QoS 0 whatever ./callbacks.ts asks: its lists and changes are
      // chained by seq and synced while behind, and an answer lost is a request that timed out.
      ...Object.fromEntries(Object.keys(this.callbacks.subscriptions()).map((t) => [t, { qos: 0 as const }])),
    };
    this.emitStatus();
    this.subscribing = true;
    this.subscribeAgentTopic(client, () => this.subscribeExtension(client, subscriptions));
  }

  /**
   * The agent's extensions topic first, in a SUBSCRIBE of its own (a broker refuses a whole packet's
   * topics together). Its retained answer is checked whenever it comes. Normally the extension's topics
   * follow at once (no round trip added to a connect); only after they were refused with no answer heard
   * does the next connection wait for it (up to agentAnswerMs) before subscribing them.
   */
  private subscribeAgentTopic(client: MqttClient, next: () => void): void {
    const topic = this.agentTopic;
    if (!topic) return next();
    const waitForAnswer = this.askFirst && !this.ownExtensions;
    client.subscribe(topic, { qos: 0 }, (err) => {
      if (client !== this.client || this.refused || !waitForAnswer) return;
      if (err) return next();
      const timer = setTimeout(() => {
        this.answerWait = null;
        next();
      }, this.options.agentAnswerMs ?? 3000);
      timer.unref();
      this.answerWait = { timer, go: next };
    });
    if (!waitForAnswer) next();
  }

  private stopAnswerWait(): void {
    if (this.answerWait) clearTimeout(this.answerWait.timer);
    this.answerWait = null;
  }

  /** The hub's list of the agent's extensions: one without this extension stops the client, in words. */
  private agentAnswer(payload: Buffer): void {
    const own = readAgentExtensions(payload);
    if (!own) return;
    this.ownExtensions = own;
    const wait = this.answerWait;
    this.stopAnswerWait();
    if (own.includes(this.options.extension)) return wait?.go();
    // Not retried: the extension does not become the agent's by itself (new settings try again).
    this.refused = true;
    this.subscribing = false;
    this.clearSyncTimer();
    this.setStatus({ state: 'refused', url: this.url, reason: notTheAgentsForAgent(this.options.user, this.options.extension, own), about: 'extension' });
    this.client?.end(true);
  }

  private subscribeExtension(client: MqttClient, subscriptions: Record<string, { qos: 0 }>): void {
    if (client !== this.client || this.refused) return;
    // Ask for the backfill only once the subscriptions hold: what the hub publishes after that arrives
    // live, what it published before is in the answer.
    client.subscribe(subscriptions, (err, granted) => {
      if (client !== this.client || this.refused) return;
      if (err) {
        // Refused topics with no list of the agent's extensions heard: the next connection reads it first.
        if (!this.ownExtensions) this.askFirst = true;
        // Not subscribed, nothing would ever arrive: connect again (a cluster node whose streams have
        // no leader yet refuses subscriptions for seconds; with several nodes, the next one).
        this.logger.warn(`Hub subscription failed on ${this.url}: ${err.message}; connecting again`);
        client.stream?.destroy();
        return;
      }
      const denied = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (denied.length > 0) this.logger.error(`The hub's broker refused the subscription to ${denied.join(', ')} (check the agent's extensions)`);
      this.subscribing = false;
      this.askFirst = false;
      this.requestSync();
      this.callbacks.subscribed();
    });
  }

  private requestSync(since = this.watermark): void {
    const client = this.client;
    if (!client?.connected) return;
    const request: SyncRequest = { v: HUB_PROTOCOL_VERSION, since, clientId: this.clientId, requestId: randomBytes(8).toString('hex') };
    this.sync = { requestId: request.requestId, since, part: 0, cursor: since };
    this.synced = false;
    this.gate.resync();
    // QoS 0: the hub takes requests at QoS 0 and this timer asks again, so a PUBACK would add nothing
    // but, on a NATS cluster, a JetStream write that stalls while a stream elects its leader.
    client.publish(topics.syncRequest(this.site, this.options.extension), JSON.stringify(request), { qos: 0 }, (err) => {
      if (err) this.logger.warn(`Sync request not sent: ${err.message}`);
    });
    this.armSyncTimer(request.requestId);
  }

  /**
   * The hub may be down (broker up) or the request or an answer lost: ask again when no chunk of the
   * answer came for syncTimeoutMs (each chunk re-arms it); its online status also asks.
   */
  private armSyncTimer(requestId: string): void {
    this.clearSyncTimer();
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      if (this.sync?.requestId === requestId) this.requestSync(this.watermark);
    }, this.options.syncTimeoutMs ?? 10_000);
    this.syncTimer.unref();
  }

  /**
   * Arms the staleness check: a hub that beats every `periodMs` and is not heard for STALE_BEATS
   * periods is shown offline (the node holding its session may have died with it, will and all).
   * Measured on this PC's clock from when a heartbeat was first received, so clock skew does not
   * matter. Returns false for a heartbeat already heard (the retained status again after a
   * reconnect): the timer then keeps running from the first time.
   */
  private watchHeartbeat(periodMs: number | undefined, at: string | undefined): boolean {
    if (periodMs !== undefined && at !== undefined && at === this.lastBeatAt) return false;
    this.lastBeatAt = at ?? null;
    this.stopStaleTimer();
    this.silentSince = null;
    if (periodMs === undefined) return true;
    const heardAt = new Date(this.now()).toISOString();
    this.staleTimer = setTimeout(() => {
      this.staleTimer = null;
      this.silentSince = heardAt;
      this.logger.warn(`The hub has not been heard from since ${heardAt} (its heartbeat is every ${periodMs / 1000} s): taking it for offline`);
      this.emitStatus();
    }, periodMs * STALE_BEATS);
    this.staleTimer.unref();
    return true;
  }

  private stopStaleTimer(): void {
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = null;
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
    if (topic === this.agentTopic) return this.agentAnswer(payload);
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
        // Another extension's call on this one's topic moves no position (the mirror says why it is ignored).
        if (m.value.record.extension !== ext) return void this.mirror.apply([m.value], false);
        const verdict = this.gate.live(m.value);
        // Held ones are applied once the catch-up is complete, if newer than what it brought.
        if (verdict === 'held' || verdict === 'stale') return;
        void this.mirror.apply([m.value], false);
        if (verdict === 'gap') {
          // A change of this extension never arrived (dropped across a broker failover): moving the
          // watermark past it would lose it for good; the sync from the watermark brings it.
          this.logger.warn(`Missed a hub change (seq ${m.value.prevSeq}, got ${m.value.seq} next): catching up`);
          this.requestSync(this.watermark);
          return;
        }
        this.advance(m.value.seq);
        return;
      }
      case 'syncResponse': {
        if (t.clientId !== this.clientId) return;
        const m = decodePayload(syncResponseSchema, payload);
        if (!m.ok) return bad(m.error);
        const r = m.value;
        const sync = this.sync;
        if (!sync || r.requestId !== sync.requestId) return; // an answer to an earlier request
        if (r.part !== sync.part) {
          // A chunk was lost (the broker delivers at most once): ask for the rest after the last record received in order.
          this.logger.warn(`A sync answer chunk was lost (got part ${r.part}, expected ${sync.part}): asking again from seq ${sync.cursor}`);
          this.requestSync(sync.cursor);
          return;
        }
        sync.part++;
        if (r.records.length > 0) {
          void this.mirror.apply(r.records, true);
          sync.cursor = r.records[r.records.length - 1]!.seq;
        }
        if (!r.done) return this.armSyncTimer(sync.requestId);
        if (r.headSeq < sync.since) {
          // The hub's sequence is behind what we applied: its data was reset. Catch up from the start.
          this.logger.warn(`The hub's sequence (${r.headSeq}) is behind this PC's (${sync.since}): the hub was reset; catching up from the start`);
          this.state.setSyncedSeq(this.key, 0, true);
          this.watermark = 0;
          this.gate.applied = 0;
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
        // Live changes that came meanwhile: only those newer than what the answer held (a broker may
        // hand a returning client changes queued while it was away, for calls that ended since).
        const { apply, gap } = this.gate.catchUpDone(r.headSeq);
        if (apply.length > 0) void this.mirror.apply(apply, false);
        if (gap) {
          this.logger.warn(`Missed a hub change during the catch-up (head ${r.headSeq}): catching up again`);
          this.requestSync(this.watermark);
        }
        this.advance(this.gate.applied);
        this.emitStatus();
        return;
      }
      case 'head': {
        const m = decodePayload(extensionHeadMessageSchema, payload);
        if (!m.ok) return bad(m.error);
        this.checkHead(m.value.seq);
        return;
      }
      case 'open': {
        const m = decodePayload(openCallsMessageSchema, payload);
        if (!m.ok) return bad(m.error);
        this.hubOpen = m.value;
        return;
      }
      case 'actionsResponse': {
        if (t.clientId !== this.clientId) return;
        const m = decodePayload(actionResponseSchema, payload);
        if (!m.ok) return bad(m.error);
        this.actionWaits.get(m.value.requestId)?.(m.value);
        return;
      }
      case 'hubStatus': {
        const m = decodePayload(hubStatusMessageSchema, payload);
        if (!m.ok) return bad(m.error);
        const online = m.value.state === 'online';
        const wasOffline = (this.hubOnline !== null && !this.hubOnline.online) || this.silentSince !== null;
        // The same heartbeat again (retained, redelivered on a reconnect): no news of the hub.
        if (!this.watchHeartbeat(online ? m.value.heartbeatMs : undefined, online ? m.value.at : undefined)) return;
        this.hubOnline = { online, since: m.value.since };
        this.hubActions = new Set((m.value.actions ?? []).filter((a): a is CallAction => (callActions as readonly string[]).includes(a)));
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

  /**
   * The hub's head beat for this extension: a change up to `head` that is not applied after
   * HEAD_GRACE_MS (its message may still be on its way) was missed: sync from the watermark.
   */
  private checkHead(head: number): void {
    if (!this.synced || !this.gate.behind(head)) return;
    this.pendingHead = Math.max(this.pendingHead, head);
    this.headCheck ??= setTimeout(() => {
      this.headCheck = null;
      const wanted = this.pendingHead;
      this.pendingHead = 0;
      if (!this.synced || !this.gate.behind(wanted)) return;
      this.logger.warn(`Missed a hub change (the hub's latest for extension ${this.options.extension} is seq ${wanted}, applied ${this.gate.applied}): catching up`);
      this.requestSync(this.watermark);
    }, HEAD_GRACE_MS);
    this.headCheck.unref();
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
    const url = this.url;
    if (!this.client?.connected || !this.connectedAt) return;
    if (this.hubOnline && !this.hubOnline.online) this.setStatus({ state: 'hub-offline', url, since: this.hubOnline.since });
    else if (this.silentSince) this.setStatus({ state: 'hub-offline', url, since: this.silentSince, silent: true });
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

/** One key for the nodes of one hub: the same list in any order is the same hub. */
const clusterKey = (urls: readonly string[]): string => (urls.length === 1 ? urls[0]! : [...new Set(urls)].sort().join(','));
