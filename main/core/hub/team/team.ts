// The team's side of the hub, wired into ../hub.ts from here: queues (./queues.ts), shared callbacks
// (./callbacks.ts) and the supervisors' board (./board-state.ts). It sees every call change the hub
// makes, answers agents' callback requests, and publishes:
//   ext/{ext}/callbacks          retained, to each extension the items it may see (its own direct
//                                ones and those of the queues it is a member of), coalesced;
//   ext/{ext}/callbacks/changes  what changed in that list, at once (./callback-lists.ts);
//   callbacks                    retained, every item (supervisors), coalesced;
//   board                retained, at most every BOARD_MS while anything changes.
// Only the hub publishes these (access.ts); an agent acts on an item only through a request on its own
// extension's topic, and only on an item that extension may see.
import { watchFile, unwatchFile } from 'node:fs';
import type { CallRecord } from '../../../../shared/call-record';
import { HUB_PROTOCOL_VERSION, decodePayload } from '../../../../shared/hub-protocol';
import type { Logger } from '../../../../shared/diagnostics-log';
import { callbackRequestSchema, parseTeamTopic, teamTopics, type CallbackResponse } from '../../../../shared/team-protocol';
import { RateLimitedLog } from '../../rate-limited-log';
import type { Agent } from '../accounts/agents';
import { roleOf } from '../accounts/agents';
import { BoardState } from './board-state';
import { CallbackLists } from './callback-lists';
import { CallbackBook, type StoredItem } from './callbacks';
import { QueueDirectory, queuesFilePath } from './queues';

/** Longest delay of the board behind a change. */
export const BOARD_MS = 500;

export interface TeamOptions {
  site: string;
  dataDir: string;
  logger: Logger;
  now: () => number;
  /** Publish through the hub's broker (QoS 1 unless said). */
  publish: (topic: string, payload: string | Buffer, retain: boolean, qos?: 0 | 1) => Promise<void>;
  /** A retained message for later subscribers only (Transport.keepRetained). */
  keepRetained: (topic: string, payload: Buffer) => Promise<void>;
  agents: () => readonly Agent[];
  /** Names of agents with a desktop connected; null when the broker cannot tell (external). */
  connectedAgents: () => ReadonlySet<string> | null;
  /** Calls open at start and today's ended calls the hub still holds. */
  initialRecords: readonly CallRecord[];
  /** How often queues.json is checked for changes. */
  pollMs?: number;
  boardMs?: number;
  /** Longest a retained callback list lags behind the change messages (./callback-lists.ts). */
  callbackListMs?: number;
}

export interface Team {
  readonly queues: QueueDirectory;
  readonly callbacks: CallbackBook;
  /** Call record changes as the tracker makes them; resolves when what they did to callbacks is on disk. */
  onRecords(records: readonly CallRecord[]): Promise<void>;
  /** A message an agent published; true when it was the team's (a callback request). */
  onClientPublish(topic: string, payload: Buffer): boolean;
  /** agents.json changed (names, extensions, roles). */
  agentsChanged(): void;
  /** A desktop connected or left. */
  presenceChanged(): void;
  /** Publishes every retained team message (after a broker (re)connect). */
  publishRetained(): void;
  close(): Promise<void>;
}

export async function startTeam(o: TeamOptions): Promise<Team> {
  const bad = new RateLimitedLog(o.logger, 'malformed callback requests');
  const errors = (m: string): void => o.logger.error(m);
  const queues = await QueueDirectory.open(o.dataDir, errors);
  const book = await CallbackBook.open(o.dataDir, { now: o.now, onError: errors });
  const board = new BoardState(o.now);
  board.apply(o.initialRecords);
  for (const r of o.initialRecords) if (r.queue) queues.learn(r.queue, r.extension);
  let closed = false;

  const nameOf = (ext: string): string => {
    for (const a of o.agents()) if (a.extensions.includes(ext)) return a.displayName ?? a.name;
    return ext;
  };
  const visibleTo = (item: StoredItem, ext: string): boolean => (item.queue !== undefined ? queues.isMember(item.queue, ext) : item.ext === ext);
  const publishErrors = new RateLimitedLog(o.logger, 'publish errors');
  /** Logs a publish that failed (rate-limited; not once the team is closed); nobody waits for it. */
  const logFailure = (topic: string, sent: Promise<void>): void => {
    sent.catch((e: unknown) => {
      if (!closed) publishErrors.note(`Publish to ${topic} failed: ${(e as Error).message}`);
    });
  };
  const publishSafe = (topic: string, payload: string): void => logFailure(topic, o.publish(topic, payload, true));

  // --- callback lists (./callback-lists.ts) -------------------------------------------------
  const lists = new CallbackLists({
    site: o.site,
    book,
    queues,
    listMs: o.callbackListMs,
    publish: (topic, payload, retain, qos) => logFailure(topic, o.publish(topic, payload, retain, qos)),
    keep: (topic, payload) => logFailure(topic, o.keepRetained(topic, payload)),
  });

  // --- the board -------------------------------------------------------------------------------
  const boardMs = o.boardMs ?? BOARD_MS;
  let boardTimer: NodeJS.Timeout | null = null;
  let boardSentAt = 0;
  const sendBoard = (): void => {
    boardTimer = null;
    boardSentAt = Date.now();
    const extensions = new Map<string, string>();
    for (const a of o.agents()) for (const ext of a.extensions) if (!extensions.has(ext)) extensions.set(ext, a.displayName ?? a.name);
    const connected = o.connectedAgents();
    const online = connected && new Set(o.agents().filter((a) => connected.has(a.name)).flatMap((a) => a.extensions));
    const message = board.build({ extensions, online, queues: queues.all().map((q) => ({ queue: q, name: queues.name(q) })) });
    publishSafe(teamTopics.board(o.site), JSON.stringify(message));
  };
  const boardChanged = (): void => {
    if (boardTimer || closed) return;
    boardTimer = setTimeout(sendBoard, Math.max(0, boardMs - (Date.now() - boardSentAt)));
  };
  // The day's figures start again at midnight even when no call comes; done callbacks leave then too.
  let day = new Date(o.now()).toDateString();
  const dayTimer = setInterval(() => {
    const d = new Date(o.now()).toDateString();
    if (d === day) return;
    day = d;
    boardChanged();
    const purged = book.purgeDone();
    if (purged.length > 0) void book.save().then(() => lists.republishAll(purged));
  }, 60_000);
  dayTimer.unref();

  // --- requests --------------------------------------------------------------------------------
  const answer = (ext: string, clientId: string, message: CallbackResponse): void => {
    o.publish(teamTopics.callbacksResponse(o.site, ext, clientId), JSON.stringify(message), false).catch((e: unknown) => errors(`Callback answer not sent: ${(e as Error).message}`));
  };
  const onClientPublish = (topic: string, payload: Buffer): boolean => {
    const t = parseTeamTopic(topic);
    if (!t || t.site !== o.site || t.kind !== 'callbacksRequest') return false;
    const req = decodePayload(callbackRequestSchema, payload);
    if (!req.ok) {
      bad.note(`Ignored a callback request on ${topic}: ${req.error}`);
      return true;
    }
    const { clientId, requestId } = req.value;
    if (req.value.action === 'sync') {
      lists.sync(t.ext);
      answer(t.ext, clientId, { v: HUB_PROTOCOL_VERSION, requestId, ok: true });
      return true;
    }
    const { id, action, note } = req.value;
    const item = book.get(id);
    if (!item || !visibleTo(item, t.ext)) {
      answer(t.ext, clientId, { v: HUB_PROTOCOL_VERSION, requestId, ok: false, error: 'No such callback for this extension.' });
      return true;
    }
    const r = book.act(id, action, { ext: t.ext, name: nameOf(t.ext) }, note);
    if (!r.ok) {
      answer(t.ext, clientId, { v: HUB_PROTOCOL_VERSION, requestId, ok: false, error: r.error });
      return true;
    }
    // The members see the claim at once (as a pop goes out before its fsync: a colleague must not ring
    // the same caller meanwhile); the requester's "ok" waits until it is on disk.
    lists.itemsChanged([r.item]);
    book.save().then(
      () => answer(t.ext, clientId, { v: HUB_PROTOCOL_VERSION, requestId, ok: true }),
      (e: unknown) => answer(t.ext, clientId, { v: HUB_PROTOCOL_VERSION, requestId, ok: false, error: `The hub could not save it: ${(e as Error).message}` }),
    );
    return true;
  };

  const queuesPath = queuesFilePath(o.dataDir);
  watchFile(queuesPath, { interval: o.pollMs ?? 1000, persistent: false }, () => {
    void queues.reload().then((changed) => {
      if (!changed || closed) return;
      lists.republishAll();
      boardChanged();
    });
  });

  return {
    queues,
    callbacks: book,
    onRecords(records) {
      board.apply(records);
      boardChanged();
      const learned = records.filter((r) => r.queue && queues.learn(r.queue, r.extension)).map((r) => r.extension);
      lists.extensionsChanged(learned);
      const changed = book.apply(records, nameOf);
      if (changed.length === 0) return Promise.resolve();
      // Published at once, like the call changes that made them; the webhook's acknowledgement waits
      // for the disk.
      lists.itemsChanged(changed);
      return book.save();
    },
    onClientPublish,
    agentsChanged() {
      lists.republishAll();
      boardChanged();
    },
    presenceChanged: boardChanged,
    publishRetained() {
      lists.republishAll(book.purgedAtOpen);
      sendBoard();
    },
    async close() {
      closed = true;
      lists.close();
      unwatchFile(queuesPath);
      clearInterval(dayTimer);
      if (boardTimer) clearTimeout(boardTimer);
      await book.flush();
      await queues.flush();
    },
  };
}

/** Whether an agent may read the board and every queue's callbacks. */
export const isSupervisor = (a: Agent | undefined): boolean => a !== undefined && roleOf(a) === 'supervisor';
