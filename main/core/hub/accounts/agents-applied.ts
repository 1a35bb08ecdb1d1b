// How `callpop hub agent remove` (and a password or extension change) knows that a running hub has
// applied it before it exits: the hub writes agents.applied (the SHA-256 of the agents.json text it
// loaded) once it has reloaded the file and closed the connections of the agents removed or changed;
// the command waits for the digest of the file it wrote. Before, the old password still logged in for
// up to 390 ms after the command exited, and 18 messages reached the removed agent.
//
// Whether a hub runs at all is read from its call log's lock (hub-log/calls.lock, a live pid).
import { createHash } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { liveLockHolder } from '../../call-log/lock';
import { agentsFilePath } from './agents';

export const agentsAppliedFileName = 'agents.applied';

export const agentsDigest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The hub: agents.json with this digest is in force on its `broker` (written atomically). */
export async function writeAgentsApplied(dataDir: string, digest: string, broker: 'embedded' | 'external'): Promise<void> {
  const path = join(dataDir, agentsAppliedFileName);
  const temp = `${path}.${process.pid}.tmp`;
  const fh = await open(temp, 'w', 0o600);
  try {
    await fh.writeFile(`${digest} ${broker}\n`);
  } finally {
    await fh.close();
  }
  await rename(temp, path);
}

export type HubApplied = { state: 'applied'; broker: 'embedded' | 'external' } | { state: 'no-hub' } | { state: 'not-applied'; pid: number };

/** After writing agents.json: waits (up to `timeoutMs`) until a running hub has applied the file as it is now. */
export async function waitForHubToApply(dataDir: string, hubLogDir: string, timeoutMs = 10_000): Promise<HubApplied> {
  const want = agentsDigest(await readFile(agentsFilePath(dataDir), 'utf8').catch(() => ''));
  const end = Date.now() + timeoutMs;
  for (;;) {
    const pid = await liveLockHolder(hubLogDir);
    if (pid === null) return { state: 'no-hub' };
    const [got, broker] = (await readFile(join(dataDir, agentsAppliedFileName), 'utf8').catch(() => '')).trim().split(' ');
    if (got === want) return { state: 'applied', broker: broker === 'external' ? 'external' : 'embedded' };
    if (Date.now() > end) return { state: 'not-applied', pid };
    await new Promise((r) => setTimeout(r, 20));
  }
}
