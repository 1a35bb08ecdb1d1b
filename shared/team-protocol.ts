// The team's part of the hub protocol (v1): shared callbacks (one list of missed calls to call back,
// per extension, with claim/release/done requests) and the supervisors' live board. Kept beside
// shared/hub-protocol.ts (same root, same versioning rules, same decodePayload) so the per-agent call
// topics stay in one file and these in another; docs/hub-protocol.md documents both.
//
// Topics (all under callpop/v1/{site}/):
//   ext/{ext}/callbacks                 retained, hub → agent: the items this extension may see (the
//                                       whole list, republished at most every few hundred ms)
//   ext/{ext}/callbacks/changes         hub → agent, not retained: the items that changed, chained by
//                                       seq/prevSeq (a gap is a missed change: ask for a sync)
//   ext/{ext}/callbacks/req             agent → hub: claim / release / done / sync
//   ext/{ext}/callbacks/res/{clientId}  hub → agent: the answer
//   board                               retained, hub → supervisors: agents, queues, today's figures
//   callbacks                           retained, hub → supervisors: every item of every queue
import { z } from 'zod';
import { HUB_PROTOCOL_VERSION, TOPIC_ROOT, clientIdPattern, decodePayload, extensionPattern, sitePattern } from './hub-protocol';

function check(pattern: RegExp, what: string, value: string): string {
  if (!pattern.test(value)) throw new Error(`Invalid ${what}: ${JSON.stringify(value)}`);
  return value;
}
const ext = (site: string, e: string): string => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/ext/${check(extensionPattern, 'extension', e)}`;

export const teamTopics = {
  callbacks: (site: string, e: string) => `${ext(site, e)}/callbacks`,
  callbacksChanges: (site: string, e: string) => `${ext(site, e)}/callbacks/changes`,
  callbacksRequest: (site: string, e: string) => `${ext(site, e)}/callbacks/req`,
  callbacksResponse: (site: string, e: string, clientId: string) => `${ext(site, e)}/callbacks/res/${check(clientIdPattern, 'client id', clientId)}`,
  board: (site: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/board`,
  allCallbacks: (site: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/callbacks`,
};

export type TeamTopic =
  | { kind: 'callbacks' | 'callbacksChanges' | 'callbacksRequest'; site: string; ext: string }
  | { kind: 'callbacksResponse'; site: string; ext: string; clientId: string }
  | { kind: 'board' | 'allCallbacks'; site: string };

/** What a team topic is, parsed back; null for anything else (incl. the per-agent call topics). */
export function parseTeamTopic(topic: string): TeamTopic | null {
  const p = topic.split('/');
  if (p.length < 4 || `${p[0]}/${p[1]}` !== TOPIC_ROOT || !sitePattern.test(p[2]!)) return null;
  const site = p[2]!;
  if (p.length === 4 && p[3] === 'board') return { kind: 'board', site };
  if (p.length === 4 && p[3] === 'callbacks') return { kind: 'allCallbacks', site };
  if (p[3] !== 'ext' || !extensionPattern.test(p[4] ?? '') || p[5] !== 'callbacks') return null;
  const e = p[4]!;
  if (p.length === 6) return { kind: 'callbacks', site, ext: e };
  if (p.length === 7 && p[6] === 'req') return { kind: 'callbacksRequest', site, ext: e };
  if (p.length === 7 && p[6] === 'changes') return { kind: 'callbacksChanges', site, ext: e };
  if (p.length === 8 && p[6] === 'res' && clientIdPattern.test(p[7]!)) return { kind: 'callbacksResponse', site, ext: e, clientId: p[7]! };
  return null;
}

const v = z.literal(HUB_PROTOCOL_VERSION);
const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const isoTime = z.iso.datetime({ offset: true });
const extNumber = z.string().regex(extensionPattern);
const who = { ext: extNumber, name: z.string().min(1).max(128), at: isoTime };

export const callbackStates = ['open', 'claimed', 'done'] as const;
export const callbackDoneHows = ['called-back', 'called-again', 'marked'] as const;
export const callbackActions = ['claim', 'release', 'done'] as const;
export type CallbackAction = (typeof callbackActions)[number];

/** One caller to call back, for one queue (or one extension, for a direct call). */
export const callbackItemSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  /** The caller's number as the PBX sent it (untrusted text). */
  number: z.string().min(1).max(256),
  name: z.string().max(256).optional(),
  /** The queue it was missed in; absent for a direct call (then `ext` says whose). */
  queue: z.string().max(32).optional(),
  ext: extNumber.optional(),
  firstMissedAt: isoTime,
  lastMissedAt: isoTime.optional(),
  /** Missed calls from this number to this queue while the item was open. */
  attempts: z.number().int().positive(),
  state: z.enum(callbackStates),
  claimedBy: z.object(who).optional(),
  doneBy: z.object({ ...who, how: z.enum(callbackDoneHows) }).optional(),
  note: z.string().max(500).optional(),
});
export type CallbackItem = z.infer<typeof callbackItemSchema>;

/** At most this many items in one list message (open first, newest first). */
export const CALLBACKS_MAX_ITEMS = 2000;

/**
 * The order of every list: open and claimed first, then done; newest miss first within each (the hub's
 * lists and a client's list after it applied changes are in the same order).
 */
export function compareCallbackItems(a: CallbackItem, b: CallbackItem): number {
  const rank = (i: CallbackItem): number => (i.state === 'done' ? 1 : 0);
  return rank(a) - rank(b) || (b.lastMissedAt ?? b.firstMissedAt).localeCompare(a.lastMissedAt ?? a.firstMissedAt);
}

/**
 * `…/ext/{ext}/callbacks` and `…/callbacks`, QoS 1, retained. `seq`: the list's version; the next
 * change message of this extension has it as its `prevSeq`.
 */
export const callbacksMessageSchema = z.object({ v, seq, items: z.array(callbackItemSchema).max(CALLBACKS_MAX_ITEMS) });
export type CallbacksMessage = z.infer<typeof callbacksMessageSchema>;

/**
 * `…/ext/{ext}/callbacks/changes`, QoS 0, not retained: what changed in this extension's list since
 * `prevSeq` (its list or previous change message), making it version `seq`. `items` replace the items
 * with the same id (or join the list); `removed` leave it.
 */
export const callbackChangesMessageSchema = z.object({
  v,
  seq,
  prevSeq: seq,
  items: z.array(callbackItemSchema).max(CALLBACKS_MAX_ITEMS),
  removed: z.array(z.string().max(64)).max(CALLBACKS_MAX_ITEMS).optional(),
});
export type CallbackChangesMessage = z.infer<typeof callbackChangesMessageSchema>;

const requestBase = { v, clientId: z.string().regex(clientIdPattern), requestId: z.string().min(1).max(64) };
/**
 * `…/ext/{ext}/callbacks/req`, QoS 1, published by an agent: claim, release or done on one item, or
 * `sync`: publish this extension's whole list now (after a gap in the change messages, and once after
 * every subscribe, so a late joiner never misses a change between the retained list and its
 * subscription).
 */
export const callbackRequestSchema = z.union([
  z.object({ ...requestBase, id: z.string().min(1).max(64), action: z.enum(callbackActions), note: z.string().max(500).optional() }),
  z.object({ ...requestBase, action: z.literal('sync') }),
]);
export type CallbackRequest = z.infer<typeof callbackRequestSchema>;

/** `…/ext/{ext}/callbacks/res/{clientId}`, QoS 1. */
export const callbackResponseSchema = z.object({ v, requestId: z.string().min(1).max(64), ok: z.boolean(), error: z.string().max(500).optional() });
export type CallbackResponse = z.infer<typeof callbackResponseSchema>;

export const boardAgentStates = ['free', 'ringing', 'talking', 'offline'] as const;
export type BoardAgentState = (typeof boardAgentStates)[number];

const count = z.number().int().nonnegative();
const seconds = z.number().nonnegative();
const figures = { answered: count, missed: count, abandoned: count };

/** `…/board`, QoS 1, retained, at most every 500 ms: the team as a supervisor sees it. */
export const boardMessageSchema = z.object({
  v,
  seq,
  agents: z
    .array(
      z.object({
        ext: extNumber,
        name: z.string().min(1).max(128),
        state: z.enum(boardAgentStates),
        /** Since when the extension is in this state. */
        since: isoTime,
        callId: z.string().max(64).optional(),
        number: z.string().max(256).optional(),
      }),
    )
    .max(20_000),
  queues: z
    .array(
      z.object({
        queue: z.string().min(1).max(32),
        name: z.string().max(128),
        waiting: z.array(z.object({ callId: z.string().max(64), number: z.string().max(256), since: isoTime })).max(1000),
        longestWaitSec: seconds,
      }),
    )
    .max(1000),
  today: z.object({
    /** The hub's local day these figures are for (YYYY-MM-DD) and its UTC offset in minutes. */
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    ...figures,
    avgWaitSec: seconds,
    avgTalkSec: seconds,
    byQueue: z.record(z.string().max(32), z.object({ ...figures, avgWaitSec: seconds })),
    byAgent: z.record(extNumber, z.object({ answered: count, talkSec: seconds })),
  }),
});
export type BoardMessage = z.infer<typeof boardMessageSchema>;
export type BoardAgent = BoardMessage['agents'][number];
export type BoardQueue = BoardMessage['queues'][number];

const boardAgentSchema = boardMessageSchema.shape.agents.element;
const agentFiguresSchema = boardMessageSchema.shape.today.shape.byAgent.valueType;
/** The board message with its two long parts (every agent; today's figures per agent) left to check one by one. */
const boardShellSchema = boardMessageSchema.extend({
  agents: z.array(z.unknown()).max(20_000),
  today: boardMessageSchema.shape.today.extend({ byAgent: z.record(extNumber, z.unknown()) }),
});

/** `raw` has exactly the keys of `checked` (a flat object the schema already passed), with equal values. */
function sameFlat(raw: unknown, checked: object): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const keys = Object.keys(checked);
  if (Object.keys(raw).length !== keys.length) return false;
  for (const k of keys) if ((raw as Record<string, unknown>)[k] !== (checked as Record<string, unknown>)[k]) return false;
  return true;
}

/**
 * decodePayload(boardMessageSchema, …) for a board that comes twice a second with 1,000 agents: an agent
 * (or an agent's figures) equal to the one in the `previous` message is that checked object again, and
 * only the others are checked. Checking all of them took most of a board update's script time in the
 * page (its CSP forbids zod's compiled checks); the same objects also let the page skip unchanged cards
 * at once. The result is the same as decodePayload's.
 */
export function decodeBoardMessage(payload: Uint8Array | string, previous: BoardMessage | null): { ok: true; value: BoardMessage } | { ok: false; error: string } {
  const shell = decodePayload(boardShellSchema, payload);
  if (!shell.ok) return shell;
  const before = previous?.agents ?? [];
  const agents: BoardAgent[] = [];
  for (const [i, raw] of shell.value.agents.entries()) {
    const old = before[i];
    if (old && sameFlat(raw, old)) {
      agents.push(old);
      continue;
    }
    const r = boardAgentSchema.safeParse(raw);
    if (!r.success) return { ok: false, error: `agents.${i}.${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'}` };
    agents.push(r.data);
  }
  const oldFigures = previous?.today.byAgent ?? {};
  const byAgent: BoardMessage['today']['byAgent'] = {};
  for (const [ext, raw] of Object.entries(shell.value.today.byAgent)) {
    const old = Object.hasOwn(oldFigures, ext) ? oldFigures[ext] : undefined;
    if (old && sameFlat(raw, old)) {
      byAgent[ext] = old;
      continue;
    }
    const r = agentFiguresSchema.safeParse(raw);
    if (!r.success) return { ok: false, error: `today.byAgent.${ext}: ${r.error.issues[0]?.message ?? 'invalid'}` };
    byAgent[ext] = r.data;
  }
  return { ok: true, value: { ...shell.value, agents, today: { ...shell.value.today, byAgent } } };
}
