// Unix users and groups by name, for files written for another program's user (Mosquitto's
// password_file for `mosquitto`, the hub's password for its service user) and for error messages that
// name who could not read a file. Node has no getpwnam: `id` and `getent` (coreutils, libc-bin) answer
// through NSS, so LDAP/SSSD users work too. POSIX only; on Windows nothing is looked up.
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';

export interface Owner {
  uid: number;
  gid: number;
}

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** A user's uid and primary gid by name or number; null when there is no such user. */
export function lookupUser(nameOrId: string): Owner | null {
  const uid = run('id', ['-u', nameOrId]);
  const gid = run('id', ['-g', nameOrId]);
  return uid !== null && gid !== null && /^\d+$/.test(uid) && /^\d+$/.test(gid) ? { uid: Number(uid), gid: Number(gid) } : null;
}

/** A group's gid by name or number; null when there is no such group. */
export function lookupGroup(nameOrId: string): number | null {
  const line = run('getent', ['group', nameOrId]);
  const gid = line?.split(':')[2];
  return gid !== undefined && /^\d+$/.test(gid) ? Number(gid) : null;
}

/** Who this process runs as, for messages ("as user callpop-hub"); the uid when it has no name. */
export function currentUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

export const isRoot = (): boolean => process.getuid?.() === 0;
