// The Callpop hub protocol (v1): MQTT topics and JSON payloads between `callpop hub` and its clients
// (`callpop serve --hub`, the desktop app in hub mode). A public contract: docs/hub-protocol.md and the
// JSON Schemas in docs/hub-protocol/ describe the same thing for other implementations.
//
// Versioning: the major version is in the topic (`callpop/v1/...`) so a v2 hub can publish both trees
// during a migration and old clients keep working. Every payload also carries `v` (1 here). Within v1,
// changes are additive: readers ignore fields they do not know (zod objects strip them), so a newer hub
// can add fields without breaking older clients. A payload whose `v` is not 1 is not understood: the
// reader drops it with a log line (never crashes). The hub's retained status lists the protocol
// versions it speaks, so a client that finds none it knows can say "update Callpop".
//
// Everything received over MQTT is untrusted: parse it with the schemas below (safeParse), never cast.
import { z } from 'zod';
import { callChanges, callRecordSchema } from './call-record';

export const HUB_PROTOCOL_VERSION = 1 as const;
export const TOPIC_ROOT = 'callpop/v1';

/** A site names one PBX on a broker (one broker can serve many). Topic-safe: no `/`, `+`, `#`. */
export const sitePattern = /^[A-Za-z0-9_-]{1,64}$/;
/** 3CX extension numbers. */
export const extensionPattern = /^\d{1,10}$/;
/**
 * MQTT client ids, which are also a topic level (sync responses). Every client id and topic level the
 * hub builds uses only these characters: NATS 2.9 closes the connection of whoever publishes a topic
 * with '.' in it (its subject separator), and agent names may contain '.' and '@'.
 */
export const clientIdPattern = /^[A-Za-z0-9_-]{1,160}$/;

/** An agent name in client-id characters, reversibly: letters and digits as they are, `_ . @ -` as `__ _d _a _h`. */
export function encodeAgentName(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, (c) => (c === '_' ? '__' : c === '.' ? '_d' : c === '@' ? '_a' : c === '-' ? '_h' : `_x${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** The name encodeAgentName made, or null for anything it cannot have made. */
export function decodeAgentName(encoded: string): string | null {
  let out = '';
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded[i]!;
    if (c !== '_') {
      if (!/[A-Za-z0-9]/.test(c)) return null;
      out += c;
      continue;
    }
    const e = encoded[++i];
    if (e === '_') out += '_';
    else if (e === 'd') out += '.';
    else if (e === 'a') out += '@';
    else if (e === 'h') out += '-';
    else if (e === 'x' && /^[0-9a-f]{4}$/.test(encoded.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(encoded.slice(i + 1, i + 5), 16));
      i += 4;
    } else return null;
  }
  return out;
}

const agentClientIdPattern = /^cp-([A-Za-z0-9_]{1,128})-([A-Za-z0-9]{1,16})$/;
/** An encoded agent name as a topic level (`…/agent/{encoded}/extensions`): the client id's name part. */
const agentLevelPattern = /^[A-Za-z0-9_]{1,128}$/;

/**
 * A desktop's MQTT client id for an agent: `cp-{encoded name}-{random}`. The hub refuses a CONNECT
 * whose client id is not its user name's (clientIdBelongsTo), so one agent can never take over
 * another's session or read answers addressed to another's client id. `suffix` (letters and digits,
 * up to 16) replaces the random part (tests, tools).
 */
export function agentClientId(name: string, suffix?: string): string {
  let tail = suffix;
  if (tail === undefined) {
    const bytes = new Uint8Array(6);
    globalThis.crypto.getRandomValues(bytes);
    tail = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  const id = `cp-${encodeAgentName(name)}-${tail}`;
  if (!agentClientIdPattern.test(id)) throw new Error(`Cannot make a client id for agent ${JSON.stringify(name)} with suffix ${JSON.stringify(tail)}`);
  return id;
}

/** Whether `clientId` is one agentClientId made for `name`. */
export function clientIdBelongsTo(clientId: string, name: string): boolean {
  const m = agentClientIdPattern.exec(clientId);
  return m !== null && decodeAgentName(m[1]!) === name;
}

export const DEFAULT_SITE = 'default';
/** Records per sync response message (keeps each message well under broker size limits). */
export const SYNC_CHUNK = 500;
/** At most this many records answer one sync request (a client asks again from the last seq). */
export const SYNC_MAX_RECORDS = 50_000;

function check(pattern: RegExp, what: string, value: string): string {
  if (!pattern.test(value)) throw new Error(`Invalid ${what}: ${JSON.stringify(value)}`);
  return value;
}

/** Topic builders; they refuse values that would change the topic's shape (wildcards, slashes). */
export const topics = {
  calls: (site: string, ext: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/ext/${check(extensionPattern, 'extension', ext)}/calls`,
  open: (site: string, ext: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/ext/${check(extensionPattern, 'extension', ext)}/open`,
  /** The seq of the extension's latest change, said with the heartbeat for a while after it changed. */
  head: (site: string, ext: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/ext/${check(extensionPattern, 'extension', ext)}/head`,
  syncRequest: (site: string, ext: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/ext/${check(extensionPattern, 'extension', ext)}/sync/req`,
  syncResponse: (site: string, ext: string, clientId: string) =>
    `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/ext/${check(extensionPattern, 'extension', ext)}/sync/res/${check(clientIdPattern, 'client id', clientId)}`,
  hubStatus: (site: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/hub/status`,
  directory: (site: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/directory`,
  /** One agent's own extensions (retained; only that agent may read it). The name is encoded (encodeAgentName). */
  agentExtensions: (site: string, agent: string) =>
    `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/agent/${check(agentLevelPattern, 'agent name', encodeAgentName(agent))}/extensions`,
  /** An agent asks the hub to act on its own calls (call back, hang up, transfer, answer). */
  actionsRequest: (site: string, ext: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/ext/${check(extensionPattern, 'extension', ext)}/actions/req`,
  actionsResponse: (site: string, ext: string, clientId: string) =>
    `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/ext/${check(extensionPattern, 'extension', ext)}/actions/res/${check(clientIdPattern, 'client id', clientId)}`,
  /** Everything of one extension (a client's subscription). */
  extensionTree: (site: string, ext: string) => `${TOPIC_ROOT}/${check(sitePattern, 'site', site)}/ext/${check(extensionPattern, 'extension', ext)}/#`,
};

/** What a topic is, parsed back (the hub routes sync requests with it); null for anything else. */
export type ParsedTopic =
  | { kind: 'calls' | 'open' | 'head' | 'syncRequest' | 'actionsRequest'; site: string; ext: string }
  | { kind: 'syncResponse' | 'actionsResponse'; site: string; ext: string; clientId: string }
  | { kind: 'hubStatus' | 'directory'; site: string }
  /** `agent`: the encoded name, as in the topic. */
  | { kind: 'agentExtensions'; site: string; agent: string };

export function parseTopic(topic: string): ParsedTopic | null {
  const p = topic.split('/');
  if (p.length < 4 || `${p[0]}/${p[1]}` !== TOPIC_ROOT) return null;
  const site = p[2]!;
  if (!sitePattern.test(site)) return null;
  if (p.length === 5 && p[3] === 'hub' && p[4] === 'status') return { kind: 'hubStatus', site };
  if (p.length === 4 && p[3] === 'directory') return { kind: 'directory', site };
  if (p.length === 6 && p[3] === 'agent' && agentLevelPattern.test(p[4]!) && p[5] === 'extensions') return { kind: 'agentExtensions', site, agent: p[4]! };
  if (p[3] !== 'ext' || p.length < 6 || !extensionPattern.test(p[4]!)) return null;
  const ext = p[4]!;
  if (p.length === 6 && p[5] === 'calls') return { kind: 'calls', site, ext };
  if (p.length === 6 && p[5] === 'open') return { kind: 'open', site, ext };
  if (p.length === 6 && p[5] === 'head') return { kind: 'head', site, ext };
  if (p.length === 7 && p[5] === 'sync' && p[6] === 'req') return { kind: 'syncRequest', site, ext };
  if (p.length === 8 && p[5] === 'sync' && p[6] === 'res' && clientIdPattern.test(p[7]!)) return { kind: 'syncResponse', site, ext, clientId: p[7]! };
  if (p.length === 7 && p[5] === 'actions' && p[6] === 'req') return { kind: 'actionsRequest', site, ext };
  if (p.length === 8 && p[5] === 'actions' && p[6] === 'res' && clientIdPattern.test(p[7]!)) return { kind: 'actionsResponse', site, ext, clientId: p[7]! };
  return null;
}

const v = z.literal(HUB_PROTOCOL_VERSION);
/** Hub sequence number: every record change the hub makes gets the next one (durable, monotonic). */
const seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const isoTime = z.iso.datetime({ offset: true });

/**
 * `.../ext/{ext}/calls`, QoS 1, not retained: one record change. The wire form of a HubCallUpdate
 * (shared/call-record.ts), kept apart because it is what other implementations read and write: it
 * carries the protocol version and `prevSeq`, and arrives untrusted, so a client checks it here first.
 */
export const callChangeMessageSchema = z.object({
  v,
  seq,
  change: z.enum(callChanges),
  record: callRecordSchema,
  /**
   * The seq of this extension's previous change as the hub published it (absent when the hub does not
   * know it, e.g. its first change after a start). A client that has not applied that one missed a
   * message (a broker failover can drop one) and asks for a sync instead of moving past the gap.
   */
  prevSeq: seq.optional(),
});
export type CallChangeMessage = z.infer<typeof callChangeMessageSchema>;

/** `.../ext/{ext}/open`, QoS 1, retained: that extension's ringing and talking calls, newest first. */
export const openCallsMessageSchema = z.object({ v, seq, calls: z.array(callRecordSchema).max(1000) });
export type OpenCallsMessage = z.infer<typeof openCallsMessageSchema>;

/**
 * `.../ext/{ext}/head`, QoS 0, not retained: with each heartbeat, for a few heartbeats after the
 * extension changed, the seq of its latest change. A client that has not applied it missed a change
 * (lost in flight) and asks for a sync.
 */
export const extensionHeadMessageSchema = z.object({ v, seq });
export type ExtensionHeadMessage = z.infer<typeof extensionHeadMessageSchema>;

/** `.../hub/status`, QoS 1, retained; the hub's last will publishes `offline`. */
export const hubStatusMessageSchema = z.object({
  v,
  state: z.enum(['online', 'offline']),
  /** When the hub went into this state (the will carries the time the hub connected). */
  since: isoTime,
  /** Protocol versions this hub publishes (topic trees it serves). */
  protocols: z.array(z.number().int().positive()).min(1).max(16),
  hubVersion: z.string().max(64).optional(),
  /** Actions the hub carries out on agents' calls (`…/actions/req`); absent = none. */
  actions: z.array(z.string().max(16)).max(8).optional(),
  /** With "online": the hub republishes this status every heartbeatMs; several periods without one mean it is gone. */
  heartbeatMs: z.number().int().min(100).max(3_600_000).optional(),
  /** With "online": when this heartbeat was published. */
  at: isoTime.optional(),
});
export type HubStatusMessage = z.infer<typeof hubStatusMessageSchema>;

/** `.../directory`, QoS 1, retained: extension → agent display name ("answered by Anna"). */
export const directoryMessageSchema = z.object({
  v,
  agents: z.record(z.string().regex(extensionPattern), z.string().min(1).max(128)),
});
export type DirectoryMessage = z.infer<typeof directoryMessageSchema>;

/**
 * `.../agent/{encoded name}/extensions`, QoS 1, retained, readable only by that agent: its own
 * extensions, so a client can follow all of them (`serve --hub` without --extension) and say that one
 * it was given is not its own. Never in the directory: login names are half of a password guess.
 */
export const agentExtensionsMessageSchema = z.object({ v, extensions: z.array(z.string().regex(extensionPattern)).max(64) });
export type AgentExtensionsMessage = z.infer<typeof agentExtensionsMessageSchema>;

/** `.../ext/{ext}/sync/req`, QoS 1, published by a client: "every record of this extension changed after `since`". */
export const syncRequestSchema = z.object({
  v,
  /** The highest hub seq the client has applied; 0 = everything the hub still has. */
  since: seq,
  /** Where to answer: the client's own MQTT client id (`.../sync/res/{clientId}`). */
  clientId: z.string().regex(clientIdPattern),
  /** Chosen by the client to tell answers to overlapping requests apart. */
  requestId: z.string().min(1).max(64),
});
export type SyncRequest = z.infer<typeof syncRequestSchema>;

/** `.../ext/{ext}/sync/res/{clientId}`, QoS 1: one chunk of the answer, in seq order. */
export const syncResponseSchema = z.object({
  v,
  requestId: z.string().min(1).max(64),
  /** Chunk index from 0. */
  part: z.number().int().nonnegative(),
  /** Each record's latest state with the seq of its latest change, ascending by seq. */
  records: z.array(z.object({ seq, record: callRecordSchema })).max(SYNC_CHUNK),
  /** The last chunk of this answer. */
  done: z.boolean(),
  /** With `done`: the hub's seq when it answered; ask again from here if `more`. */
  headSeq: seq,
  /** With `done`: the answer stopped at SYNC_MAX_RECORDS; ask again from the last record's seq. */
  more: z.boolean(),
});
export type SyncResponse = z.infer<typeof syncResponseSchema>;

/** What an agent may ask the hub to do on its own calls (issue 18 §2). */
export const callActions = ['call', 'hangup', 'transfer', 'answer'] as const;
export type CallAction = (typeof callActions)[number];

/** `.../ext/{ext}/actions/req`, QoS 1, published by a client: act on this extension's call (or dial from it). */
export const actionRequestSchema = z.object({
  v,
  /** Where to answer: the client's own MQTT client id (`.../actions/res/{clientId}`). */
  clientId: z.string().regex(clientIdPattern),
  requestId: z.string().min(1).max(64),
  action: z.enum(callActions),
  /** The call record's id (hangup, transfer, answer). */
  callId: z.string().min(1).max(64).optional(),
  /** A number or an extension (call, transfer): digits with an optional leading +, * and #. */
  destination: z.string().regex(/^\+?[0-9*#]{1,32}$/).optional(),
});
export type ActionRequest = z.infer<typeof actionRequestSchema>;

/** `.../ext/{ext}/actions/res/{clientId}`, QoS 1: the outcome, in words the agent can read when not ok. */
export const actionResponseSchema = z.object({
  v,
  requestId: z.string().min(1).max(64),
  ok: z.boolean(),
  error: z.string().max(512).optional(),
});
export type ActionResponse = z.infer<typeof actionResponseSchema>;

/** Parse a JSON payload with a schema; never throws. */
export function decodePayload<T>(schema: z.ZodType<T>, payload: Uint8Array | string): { ok: true; value: T } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (json && typeof json === 'object' && 'v' in json && (json as { v: unknown }).v !== HUB_PROTOCOL_VERSION) {
    return { ok: false, error: `protocol version ${JSON.stringify((json as { v: unknown }).v)} is not understood (this Callpop speaks v${HUB_PROTOCOL_VERSION})` };
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    return { ok: false, error: `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, value: r.data };
}
