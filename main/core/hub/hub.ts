// The Callpop hub: receives the PBX's single webhook stream (the same listener as `callpop serve`),
// tracks every extension with one PbxTracker, keeps a durable PBX-wide call log with a hub sequence
// number per change, and publishes each extension's changes through an MQTT broker (embedded aedes,
// or an external one) that desktops connect to outbound. Topics and payloads: shared/hub-protocol.ts.
//
// Two promises, as in CallpopService: a change is published as soon as the tracker makes it (before
// its fsync: a pop is never held up by the disk), and a webhook is acknowledged only once every change
// it caused is on disk (else 503 and the PBX retries).
//
// Programmatic API (tests, benches, the CLI):
//   const hub = await startHub({ dataDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 } });
//   hub.webhookUrl   // POST the PBX's webhooks here
//   hub.brokerUrl    // mqtt://127.0.0.1:PORT; agents log in with addAgent()'s password (./agents.ts)
//   await hub.close();
import { watchFile, unwatchFile } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { callRecordSchema, type CallRecord, type CallUpdate } from '../../../shared/call-record';
import {
  DEFAULT_SITE,
  HUB_PROTOCOL_VERSION,
  SYNC_CHUNK,
  SYNC_MAX_RECORDS,
  decodePayload,
  parseTopic,
  sitePattern,
  syncRequestSchema,
  topics,
  type CallChangeMessage,
  type DirectoryMessage,
  type HubStatusMessage,
  type OpenCallsMessage,
  type SyncResponse,
} from '../../../shared/hub-protocol';
import { silentLogger, type Logger } from '../../../shared/log';
import { PbxTracker } from '../../../shared/tracking/pbx-tracker';
import type { RawWebhook } from '../../../shared/webhook/event';
import { parseWebhook } from '../../../shared/webhook/parse';
import { startListener, webhookUrlsFor, type Listener, type ListenerTls, type WebhookOutcome } from '../listener/listener';
import { generateWebhookSecret } from '../listener/secret';
import { agentsFilePath, directoryOf, readAgents, type Agent } from './agents';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker';
import { connectExternalBroker, type ExternalBroker } from './external-broker';
import { HubLog } from './hub-log';
import { RateLimitedLog } from '../rate-limited-log';
import { startBoardServer, type BoardServer } from './board-server';
import { localDayStart } from './callbacks';
import { startTeam, type Team } from './team';

export type BrokerConfig =
  | { kind: 'embedded'; host?: string; port: number; wsPort?: number | null; maxPendingLogins?: number }
  | { kind: 'external'; url: string; username?: string; password?: string; ca?: string | Buffer; maxOfflineQueue?: number };

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
  /** Open lists are republished at most this often per extension. Default OPEN_LIST_MS. */
  openListMs?: number;
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
  /** http(s)://host:port/ of the supervisors' board, when --board-port was given. */
  readonly boardUrl: string | null;
  /** Queues, shared callbacks and the board (./team.ts). */
  readonly team: Team;
  /** The seq of the latest change. */
  readonly headSeq: number;
  /** Changes as soon as the tracker makes them (published, not yet durable), in order. */
  onChange(fn: (changes: HubChange[]) => void): () => void;
  /** One webhook (what the listener calls); resolves when durable. */
  ingest(raw: RawWebhook): Promise<WebhookOutcome>;
  /** Re-read agents.json now (it is also watched). */
  reloadAgents(): Promise<void>;
  /** Wait until everything accepted so far is on disk. */
  flush(): Promise<void>;
  /** Stop accepting, write everything, publish "offline", close the broker and the log. */
  close(): Promise<void>;
}

const recordingWindowMs = 10 * 60_000;
/** Longest delay of a retained open list behind the change that made it (see openChanged). */
export const OPEN_LIST_MS = 500;
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
  await mkdir(dataDir, { recursive: true });
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
  let agents: Agent[] = await readAgents(dataDir);
  let byName = new Map(agents.map((a) => [a.name, a]));
  const bad = new RateLimitedLog(logger, 'malformed client messages');
  const publishErrors = new RateLimitedLog(logger, 'publish errors');
  const log = await HubLog.open(join(dataDir, hubLogDirName), { logger });
  const tracker = new PbxTracker({ now, ringTimeoutMs: (options.ringTimeoutSec ?? 180) * 1000, recordingWindowMs });
  tracker.restore([...log.openCalls(), ...log.recent(now() - recordingWindowMs)]);
  const changeListeners = new Set<(changes: HubChange[]) => void>();
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
  const status = (state: 'online' | 'offline', since: string): string =>
    JSON.stringify({ v: HUB_PROTOCOL_VERSION, state, since, protocols: [HUB_PROTOCOL_VERSION], ...(options.hubVersion && { hubVersion: options.hubVersion.slice(0, 64) }) } satisfies HubStatusMessage);

  let transport: Transport | null = null;
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
  const publishRetained = (): void => {
    publish(topics.hubStatus(site), status('online', onlineSince), true);
    publishDirectory();
    team.publishRetained();
    const exts = new Set<string>([...knownExtensions, ...agents.flatMap((a) => a.extensions), ...tracker.openCalls().map((r) => r.extension)]);
    for (const ext of exts) publishOpen(ext);
  };

  // --- sync requests -------------------------------------------------------------------------
  const onClientPublish = (topic: string, payload: Buffer): void => {
    if (team.onClientPublish(topic, payload)) return;
    const t = parseTopic(topic);
    if (!t || t.site !== site || t.kind !== 'syncRequest') return;
    const req = decodePayload(syncRequestSchema, payload);
    if (!req.ok) {
      bad.note(`Ignored a sync request on ${topic}: ${req.error}`);
      return;
    }
    // One answer at a time per client and extension, and at most one waiting: a client repeating its
    // request (QoS-1 redelivery, a reconnect) is answered again, a flood of requests is not.
    const key = `${t.ext}/${req.value.clientId}`;
    const queued = syncQueues.get(key);
    if (queued && queued.waiting) {
      bad.note(`Ignored a sync request on ${topic}: one is already waiting for client ${req.value.clientId}`);
      return;
    }
    const { since, clientId, requestId } = req.value;
    const entry = queued ?? { tail: Promise.resolve(), waiting: false };
    if (queued) entry.waiting = true;
    entry.tail = entry.tail
      .then(() => {
        entry.waiting = false;
        return answerSync(t.ext, since, clientId, requestId);
      })
      .catch((e: unknown) => logger.error(`Sync answer failed: ${(e as Error).message}`))
      .finally(() => {
        if (!entry.waiting && syncQueues.get(key) === entry) syncQueues.delete(key);
      });
    syncQueues.set(key, entry);
  };
  const syncQueues = new Map<string, { tail: Promise<void>; waiting: boolean }>();
  const answerSync = async (ext: string, since: number, clientId: string, requestId: string): Promise<void> => {
    const topic = topics.syncResponse(site, ext, clientId);
    let cursor = since;
    let sent = 0;
    for (let part = 0; ; part++) {
      const room = Math.min(SYNC_CHUNK, SYNC_MAX_RECORDS - sent);
      const { records, more } = log.since(ext, cursor, room);
      sent += records.length;
      cursor = records.at(-1)?.seq ?? cursor;
      const done = !more || sent >= SYNC_MAX_RECORDS;
      const message: SyncResponse = { v: HUB_PROTOCOL_VERSION, requestId, part, records, done, headSeq: log.head, more: done && more };
      await transport?.publish(topic, JSON.stringify(message), { qos: 1, retain: false });
      if (done) return;
      // Let webhooks in between chunks of a large answer.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  // --- agents ----------------------------------------------------------------------------------
  let agentsReload: Promise<void> = Promise.resolve();
  const reloadAgents = (): Promise<void> => {
    agentsReload = agentsReload.then(async () => {
      let next: Agent[];
      try {
        next = await readAgents(dataDir);
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
      if (directoryChanged) publishDirectory();
      team.agentsChanged();
      for (const ext of next.flatMap((a) => a.extensions)) if (!knownExtensions.has(ext)) publishOpen(ext);
    });
    return agentsReload;
  };
  const agentsPath = agentsFilePath(dataDir);
  watchFile(agentsPath, { interval: options.agentsPollMs ?? 1000, persistent: false }, () => void reloadAgents());

  // --- broker ----------------------------------------------------------------------------------
  const cleanups: (() => Promise<void>)[] = [async () => unwatchFile(agentsPath), () => log.close()];
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
        tls: options.tls ?? null,
        agent: (name) => byName.get(name),
        logger,
        onClientPublish,
        onPresence: () => team.presenceChanged(),
      });
      embeddedBroker = b;
      transport = b;
      cleanups.push(() => b.close());
      publishRetained();
    } else {
      let connects = 0;
      const b: ExternalBroker = await connectExternalBroker({
        url: brokerConfig.url,
        username: brokerConfig.username,
        password: brokerConfig.password,
        ca: brokerConfig.ca,
        maxOfflineQueue: brokerConfig.maxOfflineQueue,
        site,
        will: { topic: topics.hubStatus(site), payload: status('offline', onlineSince) },
        logger,
        onConnect: () => {
          connects++;
          if (!transport) return;
          if (connects > 1) {
            // Back after losing the broker: what was published meanwhile may be lost (and the will may
            // not have fired). "offline" then "online" tells clients to ask for a sync.
            publish(topics.hubStatus(site), status('offline', new Date(now()).toISOString()), true);
            onlineSince = new Date(now()).toISOString();
          }
          publishRetained();
        },
        onClientPublish,
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
  let tail: Promise<void> = Promise.resolve();
  let closed = false;
  const valid = (r: CallRecord): boolean => {
    const parsed = callRecordSchema.safeParse(r);
    if (!parsed.success) logger.error(`Tracker made an invalid record for call ${JSON.stringify(String(r.id))} (${parsed.error.issues[0]?.message ?? 'invalid'}); not saved`);
    return parsed.success;
  };
  const commit = (all: CallUpdate[]): Promise<void> => {
    const updates = all.filter((u) => valid(u.record));
    if (updates.length === 0 && !log.hasDirty) return tail;
    const { seqs, durable } = updates.length > 0 ? log.append(updates.map((u) => u.record)) : { seqs: [], durable: log.retryDirty() };
    const changes = updates.map((u, i): HubChange => ({ seq: seqs[i]!, update: u }));
    const exts = new Set<string>();
    for (const c of changes) {
      const message: CallChangeMessage = { v: HUB_PROTOCOL_VERSION, seq: c.seq, change: c.update.change, record: c.update.record };
      publish(topics.calls(site, c.update.record.extension), JSON.stringify(message), false);
      exts.add(c.update.record.extension);
    }
    for (const ext of exts) openChanged(ext);
    const teamDurable = updates.length > 0 ? team.onRecords(updates.map((u) => u.record)) : undefined;
    if (changes.length > 0) {
      for (const fn of changeListeners) {
        try {
          fn(changes);
        } catch (e) {
          logger.error(`Hub change listener failed: ${(e as Error).message}`);
        }
      }
    }
    const done = Promise.all([tail, durable, teamDurable]).then(() => {});
    tail = done.catch(() => {});
    return done;
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
    boardUrl: boardServer?.url ?? null,
    team,
    get headSeq() {
      return log.head;
    },
    onChange(fn) {
      changeListeners.add(fn);
      return () => changeListeners.delete(fn);
    },
    ingest,
    reloadAgents,
    flush: () => tail,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(tickTimer);
      clearInterval(pruneTimer);
      unwatchFile(agentsPath);
      await listener.close();
      await boardServer?.close();
      await tail;
      await team.close();
      if (log.hasDirty) await log.retryDirty().catch((e: unknown) => logger.error(`Could not write the hub log on shutdown: ${(e as Error).message}`));
      await agentsReload;
      flushOpen();
      await t.publish(topics.hubStatus(site), status('offline', new Date(now()).toISOString()), { qos: 1, retain: true }).catch(() => {});
      await t.close().catch((e: unknown) => logger.error(`Closing the broker: ${(e as Error).message}`));
      await log.close();
    },
  };
}
