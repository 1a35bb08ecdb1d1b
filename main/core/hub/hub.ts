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
//   hub.brokerUrl    // mqtt://127.0.0.1:PORT; agents log in with addAgent()'s password (./accounts/agents.ts)
//   await hub.close();
//
// startHub only wires its parts: ./ingest.ts (webhook → tracker → publish → durable), ./open-lists.ts
// (the retained open-call lists), ./sync-responder.ts (clients' catch-up requests), ./agents-watcher.ts
// (agents.json, its directory and extensions topics), and the rooms beside them: ./log/ (the PBX-wide
// call log), ./broker/ (embedded or external MQTT), ./accounts/ (agents.json), ./team/ (queues,
// callbacks, the board).
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HubCallUpdate } from '../../../shared/call-record';
import { DEFAULT_SITE, HUB_PROTOCOL_VERSION, sitePattern, topics, type HubStatusMessage } from '../../../shared/hub-protocol';
import type { CallRecord } from '../../../shared/call-record';
import { Emitter } from '../../../shared/emitter';
import { silentLogger, type Logger } from '../../../shared/diagnostics-log';
import { PbxTracker } from '../../../shared/tracking/pbx-tracker';
import type { RawWebhook } from '../../../shared/webhook/event';
import { startListener, webhookUrlsFor, type Listener, type ListenerTls, type WebhookOutcome } from '../listener/listener';
import { generateWebhookSecret } from '../listener/secret';
import type { EmbeddedBroker } from './broker/embedded-broker';
import type { BrokerState } from './broker/external-broker';
import { openHubBroker, type BrokerConfig, type Transport } from './broker/transport';
import { HubLog } from './log/hub-log';
import { CommitPipeline } from '../feed/commit-pipeline';
import { SyncResponder } from './sync-responder';
import { ExtensionHeads } from './extension-heads';
import { RateLimitedLog } from '../rate-limited-log';
import { startBoardServer, type BoardServer } from './team/board-server';
import { localDayStart } from './team/callbacks';
import { startTeam, type Team } from './team/team';
import { HubAgents } from './agents-watcher';
import { HubIngest } from './ingest';
import { OpenLists } from './open-lists';

export type { BrokerConfig } from './broker/transport';

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
  /** Longest a retained callback list lags behind its change messages (team/callback-lists.ts; tests). */
  callbackListMs?: number;
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
  /** Queues, shared callbacks and the board (./team/team.ts). */
  readonly team: Team;
  /** The seq of the latest change. */
  readonly headSeq: number;
  /** Every extension's ringing and talking calls (Call Control settles them after a restart). */
  openCalls(): CallRecord[];
  /** Changes as soon as the tracker makes them (published, not yet durable), in order. */
  onChange(fn: (changes: HubCallUpdate[]) => void): () => void;
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
/** Longest delay of a retained open list behind the change that made it (./open-lists.ts). */
export const OPEN_LIST_MS = 500;
/** The status heartbeat: clients take a status older than a few periods for a hub that is gone. */
export const HEARTBEAT_MS = 5000;
/** The "offline" status on close waits this long at most for the broker (close stays bounded). */
const OFFLINE_STATUS_MS = 1500;
const dayMs = 86_400_000;
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

export async function startHub(options: HubOptions): Promise<Hub> {
  const site = options.site ?? DEFAULT_SITE;
  if (!sitePattern.test(site)) throw new Error(`Site must be 1 to 64 letters, digits, _ or -; got ${JSON.stringify(site)}.`);
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const dataDir = options.dataDir;
  const secret = options.secret ?? (await hubSecret(dataDir));
  const publishErrors = new RateLimitedLog(logger, 'publish errors');
  let transport: Transport | null = null;
  const publish = (topic: string, payload: string, retain: boolean): void => {
    transport?.publish(topic, payload, { qos: 1, retain }).catch((e: unknown) => publishErrors.note(`Publish to ${topic} failed: ${(e as Error).message}`));
  };
  // Call changes, sync answers and heads go at QoS 0, not retained: a broker stores nothing for them,
  // so on a NATS cluster they never wait behind a JetStream write (an external broker gives them a
  // connection of their own: ./broker/live-connection.ts). Nothing rests on the broker for them:
  // clients subscribe at QoS 0, follow each change's prevSeq and the heads, and sync.
  const publishLive = (topic: string, payload: string): Promise<void> => transport?.publish(topic, payload, { qos: 0, retain: false }) ?? Promise.resolve();
  const brokerKind = (options.broker ?? { kind: 'embedded' }).kind;
  // Read first: a file this user cannot read is said in one line by whoever started the hub.
  const agents = await HubAgents.load({ dataDir, brokerKind, site, logger, publish, publishErrors });
  const log = await HubLog.open(join(dataDir, hubLogDirName), { logger });
  await agents.confirmLoaded();
  const tracker = new PbxTracker({ now, ringTimeoutMs: (options.ringTimeoutSec ?? 180) * 1000, recordingWindowMs });
  tracker.restore([...log.openCalls(), ...log.recent(now() - recordingWindowMs)]);
  // Publish (and tell onChange listeners) before the disk, acknowledge once durable, in order.
  const pipeline = new CommitPipeline<HubCallUpdate>(logger, 'Hub change listener');
  let embeddedBroker: EmbeddedBroker | null = null;
  const team = await startTeam({
    site,
    dataDir,
    logger,
    now,
    publish: (topic, payload, retain, qos = 1) => transport?.publish(topic, payload, { qos, retain }) ?? Promise.resolve(),
    keepRetained: (topic, payload) => transport?.keepRetained(topic, payload) ?? Promise.resolve(),
    agents: () => agents.agents,
    connectedAgents: () => embeddedBroker?.connectedAgents() ?? null,
    initialRecords: [...tracker.openCalls(), ...log.recent(localDayStart(now()))],
    pollMs: options.agentsPollMs,
    boardMs: options.boardMs,
    callbackListMs: options.callbackListMs,
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

  /** The embedded broker's certificate swap (reloadTls). */
  let brokerTls: ((tls: ListenerTls) => void) | null = null;
  const openLists = new OpenLists({ site, openListMs: options.openListMs ?? OPEN_LIST_MS, publish, openCalls: (ext) => tracker.openCalls(ext), head: () => log.head });
  const publishRetained = (): void => {
    // Never "online" again once stopping (a reconnect during close would otherwise undo "offline").
    if (closed) return;
    publish(topics.hubStatus(site), status('online', onlineSince), true);
    agents.publishRetained();
    team.publishRetained();
    openLists.republish(agents.agents.flatMap((a) => a.extensions));
  };

  // --- what clients publish: the team's callback requests (./team/team.ts), sync requests
  // (./sync-responder.ts), and any other listener (actions) ------------------------------------------
  const sync = new SyncResponder({ site, log, logger, publish: (topic, payload, retain) => (retain ? transport?.publish(topic, payload, { qos: 1, retain }) ?? Promise.resolve() : publishLive(topic, payload)) });
  const clientPublishes = new Emitter<[string, Buffer]>((e) => logger.error(`Client message listener failed: ${(e as Error).message}`));
  const onClientPublish = (topic: string, payload: Buffer, clientId: string | null, retain: boolean): void => {
    // A retained request would be replayed at every reconnect; the sync responder clears its own.
    if (!retain && team.onClientPublish(topic, payload)) return;
    clientPublishes.emit([topic, payload]);
    sync.onPublish(topic, payload, clientId, retain);
  };

  agents.watch(options.agentsPollMs ?? 1000, {
    disconnect: (names) => transport?.disconnectAgents(names),
    reloaded: (next) => {
      team.agentsChanged();
      for (const ext of next.flatMap((a) => a.extensions)) if (!openLists.isKnown(ext)) openLists.publish(ext);
    },
  });

  // --- broker ----------------------------------------------------------------------------------
  const cleanups: (() => Promise<void>)[] = [async () => agents.unwatch(), () => log.close()];
  const fail = async (e: unknown): Promise<never> => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    throw e;
  };
  const brokerConfig: BrokerConfig = options.broker ?? { kind: 'embedded', port: 1883 };
  if (brokerConfig.kind === 'external') brokerState = 'disconnected';
  try {
    const b = await openHubBroker({
      config: brokerConfig,
      site,
      host: options.host,
      tls: options.tls ?? null,
      signal: options.signal,
      logger,
      agent: (name) => agents.get(name),
      onClientPublish,
      onClientGone: (clientId) => sync.clientGone(clientId),
      onPresence: () => team.presenceChanged(),
      will: { topic: topics.hubStatus(site), payload: status('offline', onlineSince) },
      onState: (state) => {
        brokerState = state;
        for (const fn of brokerStateListeners) fn(state);
      },
      onConnect: (count) => {
        if (!transport || closed) return;
        if (count > 1) {
          // Back after losing the broker: what was published meanwhile may be lost (and the will may
          // not have fired). "offline" then "online" tells clients to ask for a sync.
          publish(topics.hubStatus(site), status('offline', new Date(now()).toISOString()), true);
          // publishRetained (below) says "online" again.
          onlineSince = new Date(now()).toISOString();
        }
        publishRetained();
      },
    });
    embeddedBroker = b.embedded;
    transport = b.transport;
    brokerTls = b.setTls;
    cleanups.push(() => b.transport.close());
    // An external broker's first connect came before the transport was set (onConnect published nothing then).
    if (b.connected) publishRetained();
  } catch (e) {
    await team.close();
    return fail(e);
  }
  // Closed first on a failed start: nothing published into a closing broker.
  cleanups.push(() => team.close());

  // --- webhooks ----------------------------------------------------------------------------------
  /** Each extension's latest change seq published since start: a change message's prevSeq, and the heads said with the heartbeat. */
  const heads = new ExtensionHeads(site);
  const ingest = new HubIngest({ site, log, tracker, pipeline, publish: (topic, payload) => void publishLive(topic, payload).catch((e: unknown) => publishErrors.note(`Publish to ${topic} failed: ${(e as Error).message}`)), openChanged: (ext) => openLists.changed(ext), teamRecords: (records) => team.onRecords(records), heads, logger });

  let listener: Listener;
  try {
    listener = await startListener({
      host: options.host ?? '0.0.0.0',
      port: options.port ?? 8765,
      secret,
      allowedSources: options.allowedSources,
      allowLoopback: true,
      onWebhook: (raw) => ingest.ingest(raw),
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
    if (!closed) ingest.tick();
  }, options.tickMs ?? 5000);
  tickTimer.unref();
  // The heartbeat: the retained "online" again with its time, so a client can tell a hub that is gone
  // from one that is quiet even when the broker never published the will (the node holding the hub's
  // session died with it).
  const heartbeatTimer = setInterval(() => {
    if (closed) return;
    const beat = status('online', onlineSince);
    if (brokerState !== 'disconnected') publish(topics.hubStatus(site), beat, true);
    if (!transport?.liveUp) return;
    // Said live too with an external broker: the retained one is stored (NATS: a JetStream write that
    // may wait seconds while a stream elects a leader), and a hub whose pops flow is not offline. The
    // same `at`: a client counts the beat once.
    if (brokerKind === 'external') publishLive(topics.hubStatus(site), beat).catch(() => {});
    // With it, the heads of the extensions that changed lately (./extension-heads.ts): QoS 0, said again next beat.
    for (const [topic, payload] of heads.beat()) publishLive(topic, payload).catch(() => {});
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
    openCalls: () => tracker.openCalls(),
    onChange: pipeline.changes.on,
    onClientPublish: (fn) => clientPublishes.on(([t, p]) => fn(t, p)),
    publishToAgent: (topic, payload) => publish(topic, payload, false),
    ingest: (raw) => ingest.ingest(raw),
    reloadAgents: () => agents.reload(),
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
      agents.unwatch();
      await listener.close();
      await boardServer?.close();
      await pipeline.flush();
      await team.close();
      if (log.hasDirty) await log.retryDirty().catch((e: unknown) => logger.error(`Could not write the hub log on shutdown: ${(e as Error).message}`));
      await agents.settled();
      sync.close();
      openLists.flush();
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
