// `callpop hub agent passwd NAME` and `callpop hub agent set NAME …`: change an existing agent in
// place (a new password; other extensions or display name), keeping what is not given, and the
// messages `agent add` shares with them (a name that exists, an extension that is someone else's, a
// folder that holds no hub). The hub reads agents.json again within a second and closes the sessions
// of an agent whose password or extensions changed.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { agentsFileName, sharedExtensions, updateAgent, type AgentInfo } from '../core/hub/accounts/agents';
import { hubBrokerPasswordFileName } from '../core/hub/broker/mosquitto-files';
import { hubSettingsFileName } from '../core/hub/hub';
import { printable, UsageError, type CliIo } from './args';

export interface AgentChangeFlags {
  extensions: string[];
  displayName: string | undefined;
  /** From --password-stdin; absent = generate one. */
  password: string | undefined;
}

const plural = (n: number, word: string): string => `${word}${n > 1 ? 's' : ''}`;

/** One stderr note per extension the agent shares with others (allowed: a team phone, a handover). */
export async function noteSharedExtensions(io: CliIo, dataDir: string, name: string, extensions: readonly string[]): Promise<void> {
  for (const s of await sharedExtensions(dataDir, name, extensions)) {
    const who = s.agents.map((a) => `${a}'s`).join(' and ');
    io.stderr(`callpop hub: note: extension ${s.extension} is also ${who}; ${s.agents.length > 1 ? 'all these' : 'both'} agents will see its calls.\n`);
  }
}

/**
 * With Mosquitto (mosquitto-files made the hub's broker password here), a change reaches the broker
 * only through regenerated files: said on stderr after each change, so it is not missed.
 */
export async function noteExternalBroker(io: CliIo, dataDir: string): Promise<void> {
  try {
    await access(join(dataDir, hubBrokerPasswordFileName));
  } catch {
    return;
  }
  io.stderr(`callpop hub: note: with Mosquitto, run "callpop hub mosquitto-files" again and reload Mosquitto (SIGHUP) for this change to reach it.\n`);
}

export function agentExistsMessage(a: AgentInfo): string {
  return `agent ${JSON.stringify(a.name)} already exists (${plural(a.extensions.length, 'extension')} ${a.extensions.join(', ')}). Change it with "agent set ${a.name}", give a new password with "agent passwd ${a.name}", or add --replace to start over.`;
}

const noAgent = (name: string): string => `no agent named ${JSON.stringify(name)}. Add one with: callpop hub agent add ${name} --extension EXT`;

/** True when the folder holds a hub (its agents or its webhook secret): a typo in --data-dir is said, not taken for "no agents". */
export async function holdsHub(dataDir: string): Promise<boolean> {
  for (const f of [agentsFileName, hubSettingsFileName]) {
    try {
      await access(join(dataDir, f));
      return true;
    } catch {
      // Try the next one.
    }
  }
  return false;
}

export function noHubMessage(dataDir: string): string {
  return `${dataDir} holds no hub (no ${agentsFileName} or ${hubSettingsFileName}). Check --data-dir, or add the first agent with: callpop hub agent add NAME --extension EXT --data-dir ${dataDir}`;
}

export async function runAgentPasswd(io: CliIo, dataDir: string, name: string, fromStdin: string | undefined, generate: () => string): Promise<number> {
  const password = fromStdin ?? generate();
  const agent = await updateAgent(dataDir, name, { password });
  if (!agent) {
    io.stderr(`callpop hub: ${noAgent(name)}\n`);
    return 1;
  }
  await noteExternalBroker(io, dataDir);
  if (fromStdin !== undefined) io.stdout(`New password for agent ${name} set from stdin; a running hub closes the old sessions.\n`);
  else io.stdout(`New password for agent ${name} (shown once; a running hub closes the old sessions):\n${password}\n`);
  return 0;
}

export async function runAgentSet(io: CliIo, dataDir: string, name: string, flags: Omit<AgentChangeFlags, 'password'>): Promise<number> {
  if (flags.extensions.length === 0 && flags.displayName === undefined) throw new UsageError('agent set needs --extension EXT (one or more) and/or --display-name TEXT.');
  const agent = await updateAgent(dataDir, name, {
    ...(flags.extensions.length > 0 && { extensions: flags.extensions }),
    ...(flags.displayName !== undefined && { displayName: flags.displayName }),
  });
  if (!agent) {
    io.stderr(`callpop hub: ${noAgent(name)}\n`);
    return 1;
  }
  const shown = agent.displayName === null ? 'no display name' : `display name ${JSON.stringify(printable(agent.displayName))}`;
  io.stdout(`Changed agent ${name}: ${plural(agent.extensions.length, 'extension')} ${agent.extensions.join(', ')}, ${shown}. The password is unchanged.\n`);
  if (flags.extensions.length > 0) await noteSharedExtensions(io, dataDir, name, agent.extensions);
  await noteExternalBroker(io, dataDir);
  return 0;
}
