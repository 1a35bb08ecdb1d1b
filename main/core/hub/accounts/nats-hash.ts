// The bcrypt hash a NATS authorization block needs for an agent (NATS checks bcrypt only), made when
// the password is known (agent add) and kept in agents.json beside the scrypt hash, but only in a data
// folder set up for NATS (`callpop hub nats-files` does that, like mosquitto-files for Mosquitto's
// hash): a hub that never uses NATS keeps no second, cheaper hash of its agents' passwords. The hash is
// bound to the scrypt hash made at the same moment, so a password changed by a path that does not make
// a new one is never taken for current (./nats-files.ts then leaves the agent out and says so).
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';

/** bcrypt cost: NATS checks the hash on every login (~50 ms at 10 here), agents log in rarely. */
export const NATS_BCRYPT_COST = 10;
/** Present in a hub data folder set up for NATS. */
export const natsMarkerFileName = 'nats-hashes';

/** What agents.json keeps for NATS: a bcrypt hash and the scrypt hash it was made beside. */
export interface NatsHash {
  bcrypt: string;
  /** The agent's passwordHash when this was made: a mismatch means the password changed since. */
  for: string;
}

export function natsHash(password: string, passwordHash: string): NatsHash {
  return { bcrypt: bcrypt.hashSync(password, NATS_BCRYPT_COST), for: passwordHash };
}

/** The agent's current bcrypt hash, or null (none, or made for an older password). */
export function currentNatsHash(a: { passwordHash: string; natsHash?: NatsHash | undefined }): string | null {
  return a.natsHash && a.natsHash.for === a.passwordHash ? a.natsHash.bcrypt : null;
}

export const natsHashesEnabled = (dataDir: string): boolean => existsSync(join(dataDir, natsMarkerFileName));

/** Sets the folder up for NATS: agents added or given a new password from now on get a bcrypt hash. */
export async function enableNatsHashes(dataDir: string): Promise<void> {
  if (natsHashesEnabled(dataDir)) return;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(join(dataDir, natsMarkerFileName), 'Written by `callpop hub nats-files`: agents added from now on also get a bcrypt hash for NATS.\n', { mode: 0o600 });
}
