// The bcrypt hash a NATS authorization block needs for an agent (NATS checks bcrypt only), made when
// the password is known (agent add) and kept in agents.json beside the other two hashes. It is bound
// to the Mosquitto hash made at the same moment, so a password changed by a path that does not make
// a new one is never taken for current (./nats-files.ts then leaves the agent out and says so).
import bcrypt from 'bcryptjs';

/** bcrypt cost: NATS checks the hash on every login (~50 ms at 10 here), agents log in rarely. */
export const NATS_BCRYPT_COST = 10;

/** What agents.json keeps for NATS: a bcrypt hash and the Mosquitto hash it was made with. */
export interface NatsHash {
  bcrypt: string;
  /** The agent's mosquittoHash when this was made: a mismatch means the password changed since. */
  for: string;
}

export function natsHash(password: string, mosquittoHash: string): NatsHash {
  return { bcrypt: bcrypt.hashSync(password, NATS_BCRYPT_COST), for: mosquittoHash };
}

/** The agent's current bcrypt hash, or null (none, or made for an older password). */
export function currentNatsHash(a: { mosquittoHash: string; natsHash?: NatsHash | undefined }): string | null {
  return a.natsHash && a.natsHash.for === a.mosquittoHash ? a.natsHash.bcrypt : null;
}
