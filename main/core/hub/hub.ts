// The Callpop hub: receives the PBX's single webhook stream (the same listener as `callpop serve`),
// tracks every extension with one PbxTracker, keeps a durable PBX-wide call log with a hub sequence
// number per change, and publishes each extension's changes through an MQTT broker (embedded aedes,
// or an external one) that desktops connect to outbound. Topics and payloads: shared/hub-protocol.ts.
//
// Two promises, as in WebhookReceiver: a change is published as soon as the tracker makes it (before
// its fsync: a pop is never held up by the disk), and a webhook is acknowledged only once every change
// it caused is on disk (else 503 and the PBX retries).
//
// Programmatic API (tests, benches, the CLI):
//   const hub = await startHub({ dataDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 } });
//   hub.webhookUrl   // POST the PBX's webhooks here
//   hub.brokerUrl    // mqtt://127.0.0.1:PORT; agents log in with addAgent()'s password (./agents.ts)
//   await hub.close();
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { callRecordSchema, type CallRecord, type CallUpdate } from '../../../shared/call-record';
import {
  DEFAULT_SITE,
  HUB_PROTOCOL_VERSION,
  sitePattern,
  topics,
  type CallChangeMessage,
  type AgentExtensionsMessage,
  type DirectoryMessage,
  type HubStatusMessage,
  type OpenCallsMessage,
} from '../../../shared/hub-protocol';
import { Emitter } from '../../../shared/emitter';
import { silentLogger, type Logger } from '../../../shared/diagnostics-log';
import { PbxTracker } from '../../../shared/tracking/pbx-tracker';
import type { RawWebhook } from '../../../shared/webhook/event';
import { parseWebhook } from '../../../shared/webhook/parse';
import { startListener, webhookUrlsFor, type Listener, type ListenerTls, type WebhookOutcome } from '../listener/listener';
import { generateWebhookSecret } from '../listener/secret';
import type { ConnectionLimits } from '../listener/connection-gate';
import { agentsFileName, agentsFilePath, directoryOf, dropUnusedMosquittoHashes, readAgentsText, type Agent } from './agents';
import { agentsDigest, writeAgentsApplied } from './agents-applied';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker';
import { connectExternalBroker, type BrokerState, type ExternalBroker } from './external-broker';
import { HubLog } from './hub-log';
import { CommitPipeline } from '../feed/commit-pipeline';
import { SyncResponder } from './sync-responder';
import { ExtensionHeads } from './extension-heads';
import { RateLimitedLog } from '../rate-limited-log';
import { startBoardServer, type BoardServer } from './board-server';
import { localDayStart } from './callbacks';
import { startTeam, type Team } from './team';

export type BrokerConfig =
  | { kind: 'embedded'; host?: string; port: number; wsPort?: number | null; maxPendingLogins?: number; connectionLimits?: Partial<ConnectionLimits> }
  /** `url`: one broker, or the nodes of one cluster (tried in turn). */
  | { kind: 'external'; url: string | readonly string[]; username?: string; password?: string; ca?: string | Buffer; maxOfflineQueue?: number; stallMs?: number };

export interface HubOptions {
  /** The hub's folder: agents.json, hub.json (webhook secret), hub-log/ (the PBX-wide call log). */
  dataDir: string;
  /** Names this PBX on the broker. Default "default". */
  site?: string;
  /** Webhook listener address. Default 0.0.0.0. */
  host?: string;
  /** Webhook port. Default 8765; 0 = a free one. */
  port?: number;
  allowedSources?: readonly string[];
  /** HTTPS for the webhook listener and TLS for the embedded broker (TCP and WebSocket). */
  tls?: ListenerTls | null;
  /** Default: embedded broker on 0.0.0.0:1883. */
  broker?: BrokerConfig;
  /** The webhook secret; default: the one in hub.json (generated and saved on first start). */
  secret?: string;
  logger?: Logger;
  now?: () => number;
  /** How often timed-out calls are closed. Default 5 s. */
  tickMs?: number;
  /** How often agents.json is checked for changes. Default 1 s. */
  agentsPollMs?: number;
  ringTimeoutSec?: number;
  /** Ended calls older than this are dropped from the hub's log. Default 90; 0 = keep everything. */
  retentionDays?: number;
  /** Version string put in the hub's status message. */
  hubVersion?: string;
  /** Actions agents may ask for (said in the status message; carried out by ../call-control/hub-actions.ts). */
  actions?: readonly string[];
  /** Open lists are republished at most this often per extension. Default OPEN_LIST_MS. */
  openListMs?: number;
  /** How often the retained status is republished as a heartbeat (its period is in the message). Default HEARTBEAT_MS. */
  heartbeatMs?: number;
  /** Aborting it ends the wait for an external broker's first connection (a SIGTERM during start). */
  signal?: AbortSignal;
  /** The supervisors' board page and MQTT over WebSocket (/mqtt) on this port (embedded broker only). */
  board?: { port: number; host?: string } | null;
  /** The board is republished at most this often. Default BOARD_MS (500). */
  boardMs?: number;
}

/** A record change as the hub published it. */
export interface HubChange {
  seq: number;
  update: CallUpdate;
}

export interface Hub {
  readonly site: string;
  /** The webhook URL for WEBHOOK_URL (first of webhookUrls). */
  readonly webhookUrl: string;
  readonly webhookUrls: readonly string[];
  readonly port: number;
  readonly secret: string;
  /** mqtt(s)://host:port of the embedded broker, or the external broker's URL (no credentials). */
  readonly brokerUrl: string;
  readonly brokerWsUrl: string | null;
  readonly embedded: boolean;
  /** The external broker's state ('connected' for the embedded one). */
  readonly brokerState: BrokerState;
  /** Called when the external broker connects, stalls or is lost. */
  onBrokerState(fn: (state: BrokerState) => void): () => void;
  /** http(s)://host:port/ of the supervisors' board, when --board-port was given. */
  readonly boardUrl: string | null;
  /** Queues, shared callbacks and the board (./team.ts). */
  readonly team: Team;
  /** The seq of the latest change. */
  readonly headSeq: number;
  /** Changes as soon as the tracker makes them (published, not yet durable), in order. */
  onChange(fn: (changes: HubChange[]) => void): () => void;
  /** Every message an agent published that the broker let through (the actions of ../call-control/hub-actions.ts). */
  onClientPublish(fn: (topic: string, payload: Buffer) => void): () => void;
  /** Publish to agents (QoS 1, not retained): answers to their requests. */
  publishToAgent(topic: string, payload: string): void;
  /** One webhook (what the listener calls); resolves when durable. */
  ingest(raw: RawWebhook): Promise<WebhookOutcome>;
  /** Re-read agents.json now (it is also watched). */
  reloadAgents(): Promise<void>;
  /** Wait until everything accepted so far is on disk. */
  flush(): Promise<void>;
  /** Stop accepting, write everything, publish "offline", close the broker and the log. */
  close(): Promise<void>;
  /** A renewed certificate and key (started with `tls`): the webhook listener and the embedded broker use them for new connections; throws, keeping the old ones, when they are bad. */
  reloadTls(tls: ListenerTls): void;
}

const recordingWindowMs = 10 * 60_000;
/** Longest delay of a retained open list behind the change that made it (see openChanged). */
export const OPEN_LIST_MS = 500;
/** The status heartbeat: clients take a status older than a few periods for a hub that is gone. */
export const HEARTBEAT_MS = 5000;
/** The "offline" status on close waits this long at most for the broker (close stays bounded). */
const OFFLINE_STATUS_MS = 1500;
const dayMs = 86_400_000;
const ok: WebhookOutcome = { status: 'ok' };
export const hubSettingsFileName = 'hub.json';
export const hubLogDirName = 'hub-log';

/** The hub's webhook secret, kept in hub.json so the URL in WebhooksApi.ini survives restarts. */
async function hubSecret(dataDir: string): Promise<string> {
  const path = join(dataDir, hubSettingsFileName);
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as { webhookSecret?: unknown };
    if (typeof json.webhookSecret === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(json.webhookSecret)) return json.webhookSecret;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  const secret = generateWebhookSecret();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify({ webhookSecret: secret }, null, 2)}\n`, { mode: 0o600 });
  return secret;
}

interface Transport {
  url: string;
  wsUrl: string | null;
  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  disconnectAgents(names: ReadonlySet<string>): void;
  close(): Promise<void>;
}

export async function startHub(options: HubOptions): Promise<Hub> {
  const site = options.site ?? DEFAULT_SITE;
  if (!sitePattern.test(site)) throw new Error(`Site must be 1 to 64 letters, digits, _ or -; got ${JSON.stringify(site)}.`);
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const dataDir = options.dataDir;
  const secret = options.secret ?? (await hubSecret(dataDir));
  // Read first: a file this user cannot read is said in one line by whoever started the hub.
  let loaded = await readAgentsText(dataDir);
  if ((options.broker ?? { kind: 'embedded' }).kind === 'embedded') {
    // Mosquitto hashes in a folder never set up for Mosquitto are only a cheaper target (#16 4.6).
    const dropped = await dropUnusedMosquittoHashes(dataDir).catch((e: unknown) => (logger.error(`Could not drop unused Mosquitto hashes: ${(e as Error).message}`), 0));
    if (dropped > 0) {
      logger.info(`Dropped the Mosquitto password hashes of ${dropped} agent(s): this hub's folder is not set up for Mosquitto (\`callpop hub mosquitto-files\` sets it up)`);
      loaded = await readAgentsText(dataDir);
    }
  }
  let agents: Agent[] = loaded.agents;
  let byName = new Map(agents.map((a) => [a.name, a]));
  const publishErrors = new RateLimitedLog(logger, 'publish errors');
  const log = await HubLog.open(join(dataDir, hubLogDirName), { logger });
  const brokerKind = (options.broker ?? { kind: 'embedded' }).kind;
  await writeAgentsApplied(dataDir, agentsDigest(loaded.text), brokerKind).catch((e: unknown) => logger.error(`Could not confirm the agents loaded: ${(e as Error).message}`));
  const tracker = new PbxTracker({ now, ringTimeoutMs: (options.ringTimeoutSec ?? 180) * 1000, recordingWindowMs });
  tracker.restore([...log.openCalls(), ...log.recent(now() - recordingWindowMs)]);
  // Publish (and tell onChange listeners) before the disk, acknowledge once durable, in order.
  const pipeline = new CommitPipeline<HubChange>(logger, 'Hub change listener');
  let embeddedBroker: EmbeddedBroker | null = null;
  const team = await startTeam({
    site,
    dataDir,
    logger,
    now,
    publish: (topic, payload, retain) => transport?.publish(topic, payload, { qos: 1, retain }) ?? Promise.resolve(),
    agents: () => agents,
    connectedAgents: () => embeddedBroker?.connectedAgents() ?? null,
    initialRecords: [...tracker.openCalls(), ...log.recent(localDayStart(now()))],
    pollMs: options.agentsPollMs,
    boardMs: options.boardMs,
  });
  let onlineSince = new Date(now()).toISOString();
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const status = (state: 'online' | 'offline', since: string): string =>
    JSON.stringify({
      v: HUB_PROTOCOL_VERSION,
      state,
      since,
      protocols: [HUB_PROTOCOL_VERSION],
      ...(options.hubVersion && { hubVersion: options.hubVersion.slice(0, 64) }),
      ...(options.actions?.length && { actions: [...options.actions] }),
      // Only "online" beats: a will or a closing hub's "offline" is final.
      ...(state === 'online' && { heartbeatMs, at: new Date(now()).toISOString() }),
    } satisfies HubStatusMessage);
  let closed = false;
  const brokerStateListeners = new Set<(state: BrokerState) => void>();
  let brokerState: BrokerState = 'connected';

  let transport: Transport | null = null;
  /** The embedded broker's certificate swap (reloadTls). */
  let brokerTls: ((tls: ListenerTls) => void) | null = null;
  /** Extensions whose retained open list was published (republished after an external reconnect). */
  const knownExtensions = new Set<string>();
  const publish = (topic: string, payload: string, retain: boolean): void => {
    transport?.publish(topic, payload, { qos: 1, retain }).catch((e: unknown) => publishErrors.note(`Publish to ${topic} failed: ${(e as Error).message}`));
  };
  const publishOpen = (ext: string): void => {
    knownExtensions.add(ext);
    const message: OpenCallsMessage = { v: HUB_PROTOCOL_VERSION, seq: log.head, calls: tracker.openCalls(ext).slice(0, 1000) };
    publish(topics.open(site, ext), JSON.stringify(message), true);
  };
  // The open list of an extension whose calls change is republished at once, then at most every
  // OPEN_LIST_MS while changes keep coming (the last one always goes out): each change already goes
  // out on `calls` at once, and re-serialising a long list (up to 1,000 calls) on every webhook of a
  // busy extension would cost O(list) per webhook.
  const openDirty = new Set<string>();
  const openSentAt = new Map<string, number>();
  let openTimer: NodeJS.Timeout | null = null;
  const openListMs = options.openListMs ?? OPEN_LIST_MS;
  const sendOpen = (ext: string): void => {
    openSentAt.set(ext, Date.now());
    publishOpen(ext);
  };
  const flushOpen = (): void => {
    if (openTimer) clearTimeout(openTimer);
    openTimer = null;
    const exts = [...openDirty];
    openDirty.clear();
    for (const ext of exts) sendOpen(ext);
  };
  const openChanged = (ext: string): void => {
    if (openDirty.has(ext)) return;
    const last = openSentAt.get(ext);
    if (last === undefined || Date.now() - last >= openListMs) return sendOpen(ext);
    openDirty.add(ext);
    openTimer ??= setTimeout(flushOpen, openListMs);
  };
  const publishDirectory = (): void => {
    const message: DirectoryMessage = { v: HUB_PROTOCOL_VERSION, agents: directoryOf(agents) };
    publish(topics.directory(site), JSON.stringify(message), true);
  };
  /** Agent name → the retained `agent/{name}/extensions` payload last published (cleared when removed). */
  const agentTopics = new Map<string, string>();
  /** Each agent's own extensions on its own topic: new and changed ones, all with `all`; removed ones cleared. */
  const publishAgentExtensions = (all: boolean): void => {
    for (const [name] of agentTopics) {
      if (byName.has(name)) continue;
      agentTopics.delete(name);
      publish(topics.agentExtensions(site, name), '', true);
    }
    for (const a of agents) {
      const payload = JSON.stringify({ v: HUB_PROTOCOL_VERSION, extensions: [...a.extensions] } satisfies AgentExtensionsMessage);
      if (!all && agentTopics.get(a.name) === payload) continue;
      let topic: string;
      try {
        topic = topics.agentExtensions(site, a.name);
      } catch (e) {
        // A name agents.json should never hold (parseAgentName keeps them short): its clients are not told.
        publishErrors.note(`No extensions topic for agent ${JSON.stringify(a.name)}: ${(e as Error).message}`);
        continue;
      }
      agentTopics.set(a.name, payload);
      publish(topic, payload, true);
    }
  };
  const publishRetained = (): void => {
    // Never "online" again once stopping (a reconnect during close would otherwise undo "offline").
    if (closed) return;
    publish(topics.hubStatus(site), status('online', onlineSince), true);
    publishDirectory();
    publishAgentExtensions(true);
    team.publishRetained();
    const exts = new Set<string>([...knownExtensions, ...agents.flatMap((a) => a.extensions), ...tracker.openCalls().map((r) => r.extension)]);
    for (const ext of exts) publishOpen(ext);
  };

  // --- what clients publish: the team's callback requests (./team.ts), sync requests
  // (./sync-responder.ts), and any other listener (actions) ------------------------------------------
  const sync = new SyncResponder({ site, log, logger, publish: (topic, payload, retain) => transport?.publish(topic, payload, { qos: 1, retain }) ?? Promise.resolve() });
  const clientPublishes = new Emitter<[string, Buffer]>((e) => logger.error(`Client message listener failed: ${(e as Error).message}`));
  const onClientPublish = (topic: string, payload: Buffer, clientId: string | null, retain: boolean): void => {
    // A retained request would be replayed at every reconnect; the sync responder clears its own.
    if (!retain && team.onClientPublish(topic, payload)) return;
    clientPublishes.emit([topic, payload]);
    sync.onPublish(topic, payload, clientId, retain);
  };

  // --- agents ----------------------------------------------------------------------------------
  let agentsReload: Promise<void> = Promise.resolve();
  const reloadAgents = (): Promise<void> => {
    agentsReload = agentsReload.then(async () => {
      let next: Agent[];
      let text: string;
      try {
        ({ agents: next, text } = await readAgentsText(dataDir));
      } catch (e) {
        logger.error(`Agents not reloaded, keeping the previous list: ${(e as Error).message}`);
        return;
      }
      const nextByName = new Map(next.map((a) => [a.name, a]));
      const cut = new Set<string>();
      for (const [name, a] of byName) {
        const n = nextByName.get(name);
        if (!n || n.passwordHash !== a.passwordHash || n.extensions.join() !== a.extensions.join() || n.role !== a.role) cut.add(name);
      }
      const directoryChanged = JSON.stringify(directoryOf(agents)) !== JSON.stringify(directoryOf(next));
      const added = next.filter((a) => !byName.has(a.name)).map((a) => a.name);
      agents = next;
      byName = nextByName;
      if (cut.size > 0 || added.length > 0) logger.info(`Agents reloaded (${next.length}${added.length ? `; added ${added.join(', ')}` : ''}${cut.size ? `; removed or changed ${[...cut].join(', ')}` : ''})`);
      transport?.disconnectAgents(cut);
      // `agent remove` waits for this before it exits (./agents-applied.ts).
      await writeAgentsApplied(dataDir, agentsDigest(text), brokerKind).catch((e: unknown) => logger.error(`Could not confirm the agents reload: ${(e as Error).message}`));
      if (directoryChanged) publishDirectory();
      publishAgentExtensions(false);
      team.agentsChanged();
      for (const ext of next.flatMap((a) => a.extensions)) if (!knownExtensions.has(ext)) publishOpen(ext);
    });
    return agentsReload;
  };
  const agentsPath = agentsFilePath(dataDir);
  watchFile(agentsPath, { interval: options.agentsPollMs ?? 1000, persistent: false }, () => void reloadAgents());
  // At once on a change (inotify and the like); the poll above stays for file systems without events.
  let dirWatch: FSWatcher | null = null;
  try {
    dirWatch = watch(dataDir, { persistent: false }, (_event, file) => {
      if (file === agentsFileName) void reloadAgents();
    });
    dirWatch.on('error', () => dirWatch?.close());
  } catch {
    dirWatch = null;
  }

  // --- broker ----------------------------------------------------------------------------------
  const cleanups: (() => Promise<void>)[] = [async () => unwatchFile(agentsPath), async () => dirWatch?.close(), () => log.close()];
  const fail = async (e: unknown): Promise<never> => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw e;
  };
  const brokerConfig: BrokerConfig = options.broker ?? { kind: 'embedded', port: 1883 };
  try {
    if (brokerConfig.kind === 'embedded') {
      const b: EmbeddedBroker = await startEmbeddedBroker({
        site,
        host: brokerConfig.host ?? options.host ?? '0.0.0.0',
        port: brokerConfig.port,
        wsPort: brokerConfig.wsPort ?? null,
        maxPendingLogins: brokerConfig.maxPendingLogins,
        connectionLimits: brokerConfig.connectionLimits,
        tls: options.tls ?? null,
        agent: (name) => byName.get(name),
        logger,
        onClientPublish,
        onClientGone: (clientId) => sync.clientGone(clientId),
        onPresence: () => team.presenceChanged(),
      });
      embeddedBroker = b;
      transport = b;
      brokerTls = (tls) => b.setTls(tls);
      cleanups.push(() => b.close());
      publishRetained();
    } else {
      let connects = 0;
      brokerState = 'disconnected';
      const b: ExternalBroker = await connectExternalBroker({
        url: brokerConfig.url,
        signal: options.signal,
        stallMs: brokerConfig.stallMs,
        onState: (state) => {
          brokerState = state;
          for (const fn of brokerStateListeners) fn(state);
        },
        username: brokerConfig.username,
        password: brokerConfig.password,
        ca: brokerConfig.ca,
        maxOfflineQueue: brokerConfig.maxOfflineQueue,
        site,
        will: { topic: topics.hubStatus(site), payload: status('offline', onlineSince) },
        logger,
        onConnect: () => {
          connects++;
          if (!transport || closed) return;
          if (connects > 1) {
            // Back after losing the broker: what was published meanwhile may be lost (and the will may
            // not have fired). "offline" then "online" tells clients to ask for a sync.
            publish(topics.hubStatus(site), status('offline', new Date(now()).toISOString()), true);
            // publishRetained (below) says "online" again.
            onlineSince = new Date(now()).toISOString();
          }
          publishRetained();
        },
        onClientPublish: (topic, payload, retain) => onClientPublish(topic, payload, null, retain),
      });
      transport = { url: b.url, wsUrl: null, publish: (t, p, o) => b.publish(t, p, o), disconnectAgents: () => {}, close: () => b.close() };
      cleanups.push(() => b.close());
      // The first connect came before the transport was set (onConnect published nothing then).
      if (b.connected) publishRetained();
    }
  } catch (e) {
    await team.close();
    return fail(e);
  }
  // Closed first on a failed start: nothing published into a closing broker.
  cleanups.push(() => team.close());

  // --- webhooks ----------------------------------------------------------------------------------
  /** Each extension's latest change seq published since start: a change message's prevSeq, and the heads said with the heartbeat. */
  const heads = new ExtensionHeads(site);
  const valid = (r: CallRecord): boolean => {
    const parsed = callRecordSchema.safeParse(r);
    if (!parsed.success) logger.error(`Tracker made an invalid record for call ${JSON.stringify(String(r.id))} (${parsed.error.issues[0]?.message ?? 'invalid'}); not saved`);
    return parsed.success;
  };
  const commit = (all: CallUpdate[]): Promise<void> => {
    const updates = all.filter((u) => valid(u.record));
    if (updates.length === 0 && !log.hasDirty) return pipeline.flush();
    const { seqs, durable } = updates.length > 0 ? log.append(updates.map((u) => u.record)) : { seqs: [], durable: log.retryDirty() };
    const changes = updates.map((u, i): HubChange => ({ seq: seqs[i]!, update: u }));
    const exts = new Set<string>();
    for (const c of changes) {
      const ext = c.update.record.extension;
      const prevSeq = heads.changed(ext, c.seq);
      const message: CallChangeMessage = { v: HUB_PROTOCOL_VERSION, seq: c.seq, change: c.update.change, record: c.update.record, ...(prevSeq !== undefined && { prevSeq }) };
      publish(topics.calls(site, c.update.record.extension), JSON.stringify(message), false);
      exts.add(c.update.record.extension);
    }
    for (const ext of exts) openChanged(ext);
    // The team's callbacks settle on the same records (their own file, fsync'ed): acknowledged after both.
    const teamDurable = updates.length > 0 ? team.onRecords(updates.map((u) => u.record)) : undefined;
    return pipeline.run(changes, () => Promise.all([durable, teamDurable]));
  };
  const ingest = (raw: RawWebhook): Promise<WebhookOutcome> => {
    const parsed = parseWebhook(raw);
    if (!parsed.ok) return Promise.resolve({ status: 'invalid', reason: parsed.error });
    let updates: CallUpdate[];
    try {
      updates = tracker.apply(parsed.event);
    } catch (e) {
      logger.error(`Tracker failed on a ${parsed.event.type} event: ${(e as Error).message}`);
      return Promise.resolve(ok);
    }
    // No change (e.g. the PBX's retry): still wait for what was accepted before (it may yet fail).
    return commit(updates).then(() => ok);
  };

  let listener: Listener;
  try {
    listener = await startListener({
      host: options.host ?? '0.0.0.0',
      port: options.port ?? 8765,
      secret,
      allowedSources: options.allowedSources,
      allowLoopback: true,
      onWebhook: (raw) => ingest(raw),
      logger,
      portAdvice: 'with --port',
      ...(options.tls && { tls: options.tls }),
    });
  } catch (e) {
    return fail(e);
  }
  const webhookUrls = webhookUrlsFor(listener.host, listener.port, secret, listener.scheme);
  let boardServer: BoardServer | null = null;
  if (options.board) {
    if (!embeddedBroker) {
      await listener.close();
      return fail(new Error('The board (--board-port) serves MQTT over WebSocket from the embedded broker; it cannot be combined with --broker.'));
    }
    try {
      boardServer = await startBoardServer({ host: options.board.host ?? options.host ?? '0.0.0.0', port: options.board.port, tls: options.tls ?? null, broker: embeddedBroker, site, logger });
    } catch (e) {
      await listener.close();
      return fail(e);
    }
  }

  const tickTimer = setInterval(() => {
    if (closed) return;
    try {
      const updates = tracker.tick();
      if (updates.length > 0 || log.hasDirty) commit(updates).catch(() => {});
    } catch (e) {
      logger.error(`Tracker tick failed: ${(e as Error).message}`);
    }
  }, options.tickMs ?? 5000);
  tickTimer.unref();
  // The heartbeat: the retained "online" again with its time, so a client can tell a hub that is gone
  // from one that is quiet even when the broker never published the will (the node holding the hub's
  // session died with it).
  const heartbeatTimer = setInterval(() => {
    if (closed || brokerState === 'disconnected') return;
    publish(topics.hubStatus(site), status('online', onlineSince), true);
    // With it, the heads of the extensions that changed lately (./extension-heads.ts): QoS 0, said again next beat.
    for (const [topic, payload] of heads.beat()) transport?.publish(topic, payload, { qos: 0, retain: false }).catch(() => {});
  }, heartbeatMs);
  heartbeatTimer.unref();
  const retentionDays = options.retentionDays ?? 90;
  const prune = async (): Promise<void> => {
    if (retentionDays > 0 && !closed) {
      const n = await log.prune(now() - retentionDays * dayMs);
      if (n > 0) logger.info(`Hub log: dropped ${n} call(s) older than ${retentionDays} days`);
    }
  };
  await prune().catch((e: unknown) => logger.error(`Hub log retention failed: ${(e as Error).message}`));
  const pruneTimer = setInterval(() => void prune().catch((e: unknown) => logger.error(`Hub log retention failed: ${(e as Error).message}`)), dayMs);
  pruneTimer.unref();

  const t = transport;
  return {
    site,
    webhookUrl: webhookUrls[0]!,
    webhookUrls,
    port: listener.port,
    secret,
    brokerUrl: t.url,
    brokerWsUrl: t.wsUrl,
    embedded: brokerConfig.kind === 'embedded',
    get brokerState() {
      return brokerState;
    },
    onBrokerState(fn) {
      brokerStateListeners.add(fn);
      return () => brokerStateListeners.delete(fn);
    },
    boardUrl: boardServer?.url ?? null,
    team,
    get headSeq() {
      return log.head;
    },
    onChange: pipeline.changes.on,
    onClientPublish: (fn) => clientPublishes.on(([t, p]) => fn(t, p)),
    publishToAgent: (topic, payload) => publish(topic, payload, false),
    ingest,
    reloadAgents,
    flush: () => pipeline.flush(),
    reloadTls(tls) {
      // The listener checks the pair (and throws, keeping the old one) before the broker gets it.
      listener.setTls(tls);
      brokerTls?.(tls);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(tickTimer);
      clearInterval(pruneTimer);
      clearInterval(heartbeatTimer);
      unwatchFile(agentsPath);
      dirWatch?.close();
      await listener.close();
      await boardServer?.close();
      await pipeline.flush();
      await team.close();
      if (log.hasDirty) await log.retryDirty().catch((e: unknown) => logger.error(`Could not write the hub log on shutdown: ${(e as Error).message}`));
      await agentsReload;
      sync.close();
      flushOpen();
      // An unreachable or stalled broker never confirms "offline": wait a little, not forever.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        t.publish(topics.hubStatus(site), status('offline', new Date(now()).toISOString()), { qos: 1, retain: true }).catch(() => {}),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, OFFLINE_STATUS_MS))),
      ]);
      clearTimeout(timer);
      await t.close().catch((e: unknown) => logger.error(`Closing the broker: ${(e as Error).message}`));
      await log.close();
    },
  };
}
