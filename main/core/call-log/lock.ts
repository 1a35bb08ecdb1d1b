// The single-writer lock of a call log directory: a file holding the writer's pid and when the machine
// booted. A lock whose pid is no longer running (the writer crashed or was killed), or that was taken
// before the last reboot (its pid may now be some other program), is stale and taken over.
import { link, open, readFile, unlink } from 'node:fs/promises';
import { uptime } from 'node:os';
import { join } from 'node:path';

export const lockFileName = 'calls.lock';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const errCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** Boot time in epoch ms; clock adjustments move it a little, so compare with a tolerance. */
const bootTime = (): number => Math.round(Date.now() - uptime() * 1000);
const sameBootToleranceMs = 120_000;

/** Creates `path` holding `content` only if it does not exist; the content is never seen half-written. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeNew(temp, content, 'w');
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    // File systems without hard links: fall back to O_EXCL (a reader may then see it empty for a moment).
    if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EXDEV'].includes(errCode(err) ?? '')) throw err;
    try {
      await writeNew(path, content, 'wx');
      return true;
    } catch (err2) {
      if (errCode(err2) === 'EEXIST') return false;
      throw err2;
    }
  } finally {
    await unlink(temp).catch(() => {});
  }
}

async function writeNew(path: string, content: string, flags: 'w' | 'wx'): Promise<void> {
  // Owner-only like the data it guards (it was 0644).
  const fh = await open(path, flags, 0o600);
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
}

interface LockOwner {
  pid: number;
  /** Absent in a lock written by a file system hiccup or by hand. */
  bootedAt: number | null;
}

async function readOwner(path: string): Promise<LockOwner | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
  const [pidText = '', bootText = ''] = text.split('\n');
  const pid = Number.parseInt(pidText, 10);
  const bootedAt = Number.parseInt(bootText, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? { pid, bootedAt: Number.isSafeInteger(bootedAt) ? bootedAt : null } : null;
}

const isLive = (owner: LockOwner): boolean =>
  isRunning(owner.pid) && (owner.bootedAt === null || Math.abs(owner.bootedAt - bootTime()) < sameBootToleranceMs);

/** The pid of the live process holding the lock of `dir`, or null (none, or a stale lock). */
export async function liveLockHolder(dir: string): Promise<number | null> {
  const owner = await readOwner(join(dir, lockFileName)).catch(() => null);
  return owner !== null && isLive(owner) ? owner.pid : null;
}

/** Another live process (the desktop app or another `callpop serve`) writes this call log. */
export class CallLogInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the call log in ${dir} is in use by process ${pid}`);
  }
}

/** Takes the lock or throws CallLogInUseError ("the call log in DIR is in use by process PID"). Returns its release. */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, lockFileName);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(path, `${process.pid}\n${bootTime()}\n`)) {
      return async () => {
        if ((await readOwner(path).catch(() => null))?.pid === process.pid) await unlink(path).catch(() => {});
      };
    }
    const owner = await readOwner(path);
    if (owner !== null && isLive(owner)) throw new CallLogInUseError(dir, owner.pid);
    // Stale (or unreadable) lock: remove it and try again; O_EXCL/link decides between racing takers.
    await unlink(path).catch((err: unknown) => {
      if (errCode(err) !== 'ENOENT') throw err;
    });
  }
  throw new Error(`Cannot lock the call log in ${dir}: the lock file ${path} keeps changing`);
}
