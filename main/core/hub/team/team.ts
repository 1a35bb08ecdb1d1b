// The team's side of the hub, wired into ../hub.ts from here: queues (./queues.ts), shared callbacks
// (./callbacks.ts) and the supervisors' board (./board-state.ts). It sees every call change the hub
// makes, answers agents' callback requests, and publishes:
//   ext/{ext}/callbacks  retained, to each extension the items it may see (its own direct ones and
//                        those of the queues it is a member of), whenever one of them changes;
//   callbacks            retained, every item (supervisors);
//   board                retained, at most every BOARD_MS while anything changes.
// Only the hub publishes these (access.ts); an agent acts on an item only through a request on its own
// extension's topic, and only on an item that extension may see.
import { watchFile, unwatchFile } from 'node:fs';
import type { CallRecord } from '../../../../shared/call-record';
import { HUB_PROTOCOL_VERSION, decodePayload } from '../../../../shared/hub-protocol';
import type { Logger } from '../../../../shared/diagnostics-log';
import { CALLBACKS_MAX_ITEMS, callbackRequestSchema, parseTeamTopic, teamTopics, type CallbackResponse } from '../../../../shared/team-protocol';
import { RateLimitedLog } from '../../rate-limited-log';
import type { Agent } from '../accounts/agents';
import { roleOf } from '../accounts/agents';
import { BoardState } from './board-state';
import { CallbackBook, publicItem, type StoredItem } from './callbacks';
import { QueueDirectory, queuesFilePath } from './queues';

/** Longest delay of the board behind a change. */
export const BOARD_MS = 500;

export interface TeamOptions {
  site: string;
  dataDir: string;
  logger: Logger;
  now: () => number;
  /** Publish through the hub's broker (QoS 1). */
  publish: (topic: string, payload: string, retain: boolean) => Promise<void>;
  agents: () => readonly Agent[];
  /** Names of agents with a desktop connected; null when the broker cannot tell (external). */
  connectedAgents: () => ReadonlySet<string> | null;
  /** Calls open at start and today's ended calls the hub still holds. */
  initialRecords: readonly CallRecord[];
  /** How often queues.json is checked for changes. */
  pollMs?: number;
  boardMs?: number;
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
  const publishSafe = (topic: string, payload: string): void => {
    o.publish(topic, payload, true).catch((e: unknown) => {
      if (!closed) publishErrors.note(`Publish to ${topic} failed: ${(e as Error).message}`);
    });
  };

  // --- callback lists --------------------------------------------------------------------------
  /**
   * Extensions whose list to (re)publish: those that see an item, and those that had a list (it may
   * have become empty). An extension that never saw an item has no list: none is no callbacks.
   */
  const published = new Set<string>();
  const extsOf = (items: Iterable<StoredItem>, out = new Set<string>()): Set<string> => {
    for (const item of items) {
      if (item.queue !== undefined) for (const m of queues.members(item.queue)) out.add(m);
      else if (item.ext) out.add(item.ext);
    }
    return out;
  };
  const listExtensions = (): Set<string> => extsOf([...book.list(), ...book.purgedAtOpen], new Set(published));
  const itemJson = new WeakMap<StoredItem, { at: string; json: string }>();
  const jsonOf = (item: StoredItem): string => {
    const stamp = JSON.stringify([item.state, item.attempts, item.claimedBy, item.doneBy, item.lastMissedAt, item.note]);
    const cached = itemJson.get(item);
    if (cached && cached.at === stamp) return cached.json;
    const json = JSON.stringify(publicItem(item));
    itemJson.set(item, { at: stamp, json });
    return json;
  };
  const listMessage = (items: readonly StoredItem[]): string => `{"v":${HUB_PROTOCOL_VERSION},"seq":${book.seq},"items":[${items.slice(0, CALLBACKS_MAX_ITEMS).map(jsonOf).join(',')}]}`;
  const publishLists = (exts: Iterable<string>): void => {
    const all = book.list();
    // Members of the same queues see the same list: each distinct list is serialised once (a claim in a
    // queue of 1,000 members is 1,000 publishes of one string).
    const byVisible = new Map<string, string>();
    for (const ext of exts) {
      published.add(ext);
      const visible = all.filter((i) => visibleTo(i, ext));
      const key = visible.map((i) => i.id).join(',');
      let message = byVisible.get(key);
      if (message === undefined) byVisible.set(key, (message = listMessage(visible)));
      publishSafe(teamTopics.callbacks(o.site, ext), message);
    }
    publishSafe(teamTopics.allCallbacks(o.site), listMessage(all));
  };
  // Lists to republish, coalesced: a burst of changes (a queue call missed by 30 members) is one round.
  const dirtyExts = new Set<string>();
  let listsScheduled = false;
  const listsChanged = (items: readonly StoredItem[]): void => {
    extsOf(items, dirtyExts);
    if (listsScheduled) return;
    listsScheduled = true;
    setImmediate(() => {
      listsScheduled = false;
      const exts = [...dirtyExts];
      dirtyExts.clear();
      if (!closed) publishLists(exts);
    });
  };

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
    if (book.purgeDone().length > 0) void book.save().then(() => publishLists(listExtensions()));
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
    const { clientId, requestId, id, action, note } = req.value;
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
    listsChanged([r.item]);
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
      publishLists(listExtensions());
      boardChanged();
    });
  });

  return {
    queues,
    callbacks: book,
    onRecords(records) {
      board.apply(records);
      boardChanged();
      for (const r of records) if (r.queue && queues.learn(r.queue, r.extension)) dirtyExts.add(r.extension);
      const changed = book.apply(records, nameOf);
      if (changed.length === 0) {
        if (dirtyExts.size > 0) listsChanged([]);
        return Promise.resolve();
      }
      // Published at once, like the call changes that made them; the webhook's acknowledgement waits
      // for the disk.
      listsChanged(changed);
      return book.save();
    },
    onClientPublish,
    agentsChanged() {
      publishLists(listExtensions());
      boardChanged();
    },
    presenceChanged: boardChanged,
    publishRetained() {
      publishLists(listExtensions());
      sendBoard();
    },
    async close() {
      closed = true;
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
