// A throw-away system user with no home (as `useradd --system` makes for a service, home
// /nonexistent), for running the built CLI as a server's service user would. Needs root; callers skip
// with `systemUserSkipReason` otherwise. Every user a test creates, it removes (removeSystemUser).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

const useradd = ['/usr/sbin/useradd', '/sbin/useradd'].find((p) => existsSync(p));

/** Why these tests cannot create a user here, or null when they can. */
export const systemUserSkipReason: string | null =
  userInfo().uid !== 0 ? 'needs root to create a system user (run the tests as root, as .ci/run does)' : !useradd ? 'useradd is not installed' : null;

export function createSystemUser(prefix = 'cp-test'): SystemUser {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  execFileSync(useradd!, ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name]);
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return { name, uid, gid };
}

export function removeSystemUser(u: SystemUser | null): void {
  if (!u) return;
  try {
    execFileSync('/usr/sbin/userdel', [u.name], { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
}
