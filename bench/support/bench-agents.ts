// What the latency benches on a hub with 1,000 simulated agents share (bench/callcontrol.ts,
// bench/hub-app-latency.ts): agents.json as bench/hub.ts's clients child expects it (agentI →
// extension 1000+I, one scrypt hash copied to all, so writing it takes milliseconds), the broker
// options that give all of them room on one source address, a quantile and a bounded wait.
import { readFile, writeFile } from 'node:fs/promises';
import { addAgent, agentsFilePath } from '../../main/core/hub/accounts/agents';

export const benchPassword = 'bench-password-0123456789';

/** Every simulated agent connects from 127.0.0.1: room for all of them on one source (the default is 64, 256 once one logged in). */
export const benchBroker = { kind: 'embedded', host: '127.0.0.1', port: 0, connectionLimits: { perSource: 4000 } } as const;

/** The bench's own agents (the probes) first, then agent0…agent{count-1} on extensions 1000…, all with benchPassword. */
export async function writeBenchAgents(dir: string, own: readonly { name: string; extension: string; displayName?: string }[], count: number): Promise<void> {
  for (const a of own) await addAgent(dir, { name: a.name, extensions: [a.extension], ...(a.displayName ? { displayName: a.displayName } : {}), password: benchPassword });
  const file = JSON.parse(await readFile(agentsFilePath(dir), 'utf8')) as { agents: Record<string, unknown>[] };
  const template = file.agents[0]!;
  for (let i = 0; i < count; i++) file.agents.push({ ...template, name: `agent${i}`, extensions: [String(1000 + i)], displayName: `Agent ${i}` });
  await writeFile(agentsFilePath(dir), JSON.stringify(file));
}

/** The q-quantile of ascending `sorted` (nearest rank). */
export const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/** Polls `cond` every 20 ms; throws `what` after `ms`. */
export async function waitUntil(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(what);
    await new Promise((r) => setTimeout(r, 20));
  }
}
