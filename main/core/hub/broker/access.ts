// Who may read and write which topics of the hub protocol. Pure rules, used by the embedded broker
// on subscribe, publish and delivery, and mirrored by the Mosquitto acl_file (mosquitto-files.ts).
//
// A subscription filter is allowed only when it is EXACTLY one of a few forms naming the agent's own
// extension, its own agent topic (its extensions), the site's status/directory, and a supervisor the
// board and every callback list: any other filter is refused, so no wildcard ("#", "callpop/#",
// "callpop/v1/+/ext/+/calls", "+/+/...") can ever match another agent's topics.
import { TOPIC_ROOT, clientIdPattern, encodeAgentName, extensionPattern, parseTopic, sitePattern } from '../../../../shared/hub-protocol';
import { parseTeamTopic } from '../../../../shared/team-protocol';

export interface AgentAccess {
  name: string;
  extensions: readonly string[];
  /** A supervisor also reads the board and every queue's callbacks (team.ts). */
  role?: 'agent' | 'supervisor';
}

/** Why a subscription was refused (for the log), or null when it is allowed. `clientId`: the subscribing connection's own. */
export function subscribeDenied(agent: AgentAccess, site: string, filter: string, clientId: string): string | null {
  const p = filter.split('/');
  if (`${p[0]}/${p[1]}` !== TOPIC_ROOT || p[2] !== site || !sitePattern.test(site)) return 'not this site';
  if (p.length === 4 && p[3] === 'directory') return null;
  if (p.length === 5 && p[3] === 'hub' && p[4] === 'status') return null;
  if (p.length === 6 && p[3] === 'agent' && p[5] === 'extensions') return p[4] === encodeAgentName(agent.name) ? null : "another agent's extensions";
  if (p.length === 4 && (p[3] === 'board' || p[3] === 'callbacks')) return agent.role === 'supervisor' ? null : `${agent.name} is not a supervisor`;
  if (p[3] !== 'ext' || !extensionPattern.test(p[4] ?? '')) return 'not an allowed topic';
  if (!agent.extensions.includes(p[4]!)) return `extension ${p[4]} is not ${agent.name}'s`;
  const rest = p.slice(5).join('/');
  if (rest === '#' || rest === 'calls' || rest === 'open' || rest === 'head' || rest === 'sync/res/+' || rest === 'actions/res/+' || rest === 'callbacks' || rest === 'callbacks/changes' || rest === 'callbacks/res/+') return null;
  // Only the answers addressed to this connection's own client id.
  if (p.length === 8 && (p[5] === 'sync' || p[5] === 'actions' || p[5] === 'callbacks') && p[6] === 'res' && clientIdPattern.test(p[7]!)) return p[7] === clientId ? null : `${p[5]} answers of another client id`;
  return 'not an allowed topic';
}

/** Why a publish was refused, or null: an agent publishes only sync and action requests of its own extensions, never retained. */
export function publishDenied(agent: AgentAccess, site: string, topic: string, retain: boolean): string | null {
  const t = parseTopic(topic) ?? parseTeamTopic(topic);
  if (!t || t.site !== site || (t.kind !== 'syncRequest' && t.kind !== 'actionsRequest' && t.kind !== 'callbacksRequest')) return 'agents may only publish sync, action and callback requests';
  if (!agent.extensions.includes(t.ext)) return `extension ${t.ext} is not ${agent.name}'s`;
  if (retain) return 'requests must not be retained';
  return null;
}

/**
 * Topics parsed for delivery checks, kept: every message to 1,000 members is checked 1,000 times on a
 * handful of topics, and parsing each time (two splits) was a fifth of what the hub allocated per claim.
 * Bounded: the hub's topics are a few per extension; past the bound it starts again.
 */
type ParsedTopic = ReturnType<typeof parseTopic> | ReturnType<typeof parseTeamTopic>;
const parsedTopics = new Map<string, ParsedTopic>();
const PARSED_TOPICS_MAX = 50_000;
function parsedTopic(topic: string): ParsedTopic {
  let t = parsedTopics.get(topic);
  if (t === undefined) {
    if (parsedTopics.size >= PARSED_TOPICS_MAX) parsedTopics.clear();
    t = parseTopic(topic) ?? parseTeamTopic(topic);
    parsedTopics.set(topic, t);
  }
  return t;
}

/**
 * Whether a message on `topic` may be delivered to the agent's connection `clientId` (a second check,
 * behind subscribe): never another client's request (a sync request names the client id to take
 * over) or another client id's answer, even on the agent's own extension (`ext/{ext}/#`); the board
 * and the site's callbacks only to supervisors.
 */
export function mayRead(agent: AgentAccess, site: string, topic: string, clientId: string): boolean {
  const t = parsedTopic(topic);
  if (!t || t.site !== site) return false;
  if (t.kind === 'board' || t.kind === 'allCallbacks') return agent.role === 'supervisor';
  if (t.kind === 'syncRequest' || t.kind === 'actionsRequest' || t.kind === 'callbacksRequest') return false;
  if ((t.kind === 'syncResponse' || t.kind === 'actionsResponse' || t.kind === 'callbacksResponse') && t.clientId !== clientId) return false;
  if (t.kind === 'agentExtensions') return t.agent === encodeAgentName(agent.name);
  return 'ext' in t ? agent.extensions.includes(t.ext) : true;
}
