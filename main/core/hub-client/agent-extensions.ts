// The hub publishes, retained, which extensions it gives each agent on a topic only that agent may read
// (`callpop/v1/{site}/agent/{name}/extensions`). An extension that is not among them has its topics
// refused by the broker; read first, that topic lets Callpop say so in words instead. Used by
// `callpop serve --hub`'s probe (../../cli/hub-agent-probe.ts) and by the desktop's HubClient, which
// without it reconnected and was refused again forever (issue #20): the topic, the reading and the
// words are here once.
import { agentExtensionsMessageSchema, decodePayload, topics } from '../../../shared/hub-protocol';

/** The agent's extensions topic; null for a name no hub can have made one for (the login still says whether it is known). */
export function agentExtensionsTopic(site: string, agent: string): string | null {
  try {
    return topics.agentExtensions(site, agent);
  } catch {
    return null;
  }
}

/** The extensions in a message on that topic; null when it is not one (an emptied retained topic, garbage). */
export function readAgentExtensions(payload: Buffer): string[] | null {
  const m = decodePayload(agentExtensionsMessageSchema, payload);
  return m.ok ? m.value.extensions : null;
}

/** The extensions of `given` that are not the agent's; none when the hub did not say (`own` null: an older hub). */
export const notTheAgents = (given: readonly string[], own: readonly string[] | null): string[] => (own ? given.filter((ext) => !own.includes(ext)) : []);

/** The command line's words (`callpop serve --hub --extension …`), for whoever runs the hub's tools. */
export function notTheAgentsForCli(agent: string, foreign: readonly string[], own: readonly string[]): string {
  return `extension ${foreign.join(', ')} ${foreign.length > 1 ? 'are' : 'is'} not agent ${agent}'s on this hub (${own.length > 0 ? `the agent's: ${own.join(', ')}` : 'the hub lists none for this agent'}). The hub's administrator can add it: callpop hub agent set ${agent} --extension …`;
}

/** The app's words, for the agent herself (the desktop's hub-refused state). */
export function notTheAgentsForAgent(agent: string, extension: string, own: readonly string[]): string {
  const hers = own.length > 0 ? `${agent}'s extensions there: ${own.join(', ')}` : `it lists no extension for ${agent}`;
  return `The hub does not give ${agent} extension ${extension} (${hers}). Check the extension in Settings or ask your administrator.`;
}
