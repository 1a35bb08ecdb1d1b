// What a hub client keeps in the data folder (hub-client.json): its MQTT client id per agent, and how far
// it has caught up with each hub (the highest hub seq up to which everything is in the local call log).
// The client id must be stable (the broker and the sync answers address it) and unique per PC and
// agent (two connections with the same id kick each other off in a loop), so it is generated once here.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { agentClientId, clientIdBelongsTo, clientIdPattern } from '../../../shared/hub-protocol';
import { silentLogger, type Logger } from '../../../shared/diagnostics-log';

const fileName = 'hub-client.json';

const stateSchema = z.object({
  // A stored id of an older form is dropped here (catch), so the rest of the file still counts.
  clientIds: z.record(z.string(), z.string().regex(clientIdPattern).catch('')).default({}),
  /** Key: hubKey(); value: every change up to this seq is in the local log. */
  synced: z.record(z.string(), z.number().int().nonnegative()).default({}),
});
type State = z.infer<typeof stateSchema>;

/** One hub tree of one extension: another hub, site or extension starts from 0 again. */
export const hubKey = (url: string, site: string, extension: string): string => `${url}|${site}|${extension}`;

export interface HubClientState {
  /**
   * This PC's client id for the agent (created and saved on first use). `slot` names one more of the
   * agent's connections (another extension followed at once): its own id, still made for the agent.
   */
  clientIdFor(agent: string, slot?: string): string;
  syncedSeq(key: string): number;
  /** Saves the new watermark (atomically); only ever moves forward unless `reset`. */
  setSyncedSeq(key: string, seq: number, reset?: boolean): void;
}

/** `cp-<agent name, encoded>-<random>` (shared/hub-protocol.ts): the hub checks that it is the agent's own. */
export function newClientId(agent: string): string {
  return agentClientId(agent, randomBytes(6).toString('hex'));
}

export function openHubClientState(dataDir: string, logger: Logger = silentLogger): HubClientState {
  const path = join(dataDir, fileName);
  let state: State = { clientIds: {}, synced: {} };
  try {
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    if (parsed.success) state = parsed.data;
    else logger.warn(`${fileName} is not valid; starting over (a new client id, a full backfill)`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn(`Could not read ${fileName}: ${(e as Error).message}; starting over`);
  }
  const save = (): void => {
    mkdirSync(dataDir, { recursive: true });
    // Temp file + rename: a crash leaves the old or the new file, never half of one.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, '\t')}\n`, { mode: 0o600, flush: true });
    renameSync(tmp, path);
  };
  return {
    clientIdFor(agent, slot) {
      const key = slot ? `${agent}#${slot}` : agent;
      const known = state.clientIds[key];
      // One made before client ids were bound to agent names is replaced (the hub would refuse it).
      if (known && clientIdBelongsTo(known, agent)) return known;
      const id = newClientId(agent);
      state.clientIds[key] = id;
      save();
      return id;
    },
    syncedSeq: (key) => state.synced[key] ?? 0,
    setSyncedSeq(key, seq, reset = false) {
      const before = state.synced[key] ?? 0;
      if (seq === before || (!reset && seq < before)) return;
      state.synced[key] = seq;
      save();
    },
  };
}
