// Who may read and write which topics of the hub protocol. Pure rules, used by the embedded broker
// on subscribe, publish and delivery, and mirrored by the Mosquitto acl_file (mosquitto-files.ts).
//
// A subscription filter is allowed only when it is EXACTLY one of a few forms naming the agent's own
// extension (or the site's status/directory): any other filter is refused, so no wildcard ("#",
// "callpop/#", "callpop/v1/+/ext/+/calls", "+/+/...") can ever match another agent's topics.
import { TOPIC_ROOT, clientIdPattern, extensionPattern, parseTopic, sitePattern } from '../../../shared/hub-protocol';
import { parseTeamTopic } from '../../../shared/team-protocol';

export interface AgentAccess {
  name: string;
  extensions: readonly string[];
  /** A supervisor also reads the board and every queue's callbacks (team.ts). */
  role?: 'agent' | 'supervisor';
}

/** Why a subscription was refused (for the log), or null when it is allowed. */
export function subscribeDenied(agent: AgentAccess, site: string, filter: string): string | null {
  const p = filter.split('/');
  if (`${p[0]}/${p[1]}` !== TOPIC_ROOT || p[2] !== site || !sitePattern.test(site)) return 'not this site';
  if (p.length === 4 && p[3] === 'directory') return null;
  if (p.length === 5 && p[3] === 'hub' && p[4] === 'status') return null;
  if (p.length === 4 && (p[3] === 'board' || p[3] === 'callbacks')) return agent.role === 'supervisor' ? null : `${agent.name} is not a supervisor`;
  if (p[3] !== 'ext' || !extensionPattern.test(p[4] ?? '')) return 'not an allowed topic';
  if (!agent.extensions.includes(p[4]!)) return `extension ${p[4]} is not ${agent.name}'s`;
  const rest = p.slice(5).join('/');
  if (rest === '#' || rest === 'calls' || rest === 'open' || rest === 'sync/res/+') return null;
  if (p.length === 8 && p[5] === 'sync' && p[6] === 'res' && clientIdPattern.test(p[7]!)) return null;
  if (rest === 'callbacks' || rest === 'callbacks/res/+') return null;
  if (p.length === 8 && p[5] === 'callbacks' && p[6] === 'res' && clientIdPattern.test(p[7]!)) return null;
  return 'not an allowed topic';
}

/** Why a publish was refused, or null: an agent publishes only sync requests of its own extensions, never retained. */
export function publishDenied(agent: AgentAccess, site: string, topic: string, retain: boolean): string | null {
  const t = parseTopic(topic) ?? parseTeamTopic(topic);
  if (!t || t.site !== site || (t.kind !== 'syncRequest' && t.kind !== 'callbacksRequest')) return 'agents may only publish sync and callback requests';
  if (!agent.extensions.includes(t.ext)) return `extension ${t.ext} is not ${agent.name}'s`;
  if (retain) return 'requests must not be retained';
  return null;
}

/** Whether a message on `topic` may be delivered to the agent (a second check, behind subscribe). */
export function mayRead(agent: AgentAccess, site: string, topic: string): boolean {
  const t = parseTopic(topic) ?? parseTeamTopic(topic);
  if (!t || t.site !== site) return false;
  if (t.kind === 'board' || t.kind === 'allCallbacks') return agent.role === 'supervisor';
  return 'ext' in t ? agent.extensions.includes(t.ext) : true;
}
