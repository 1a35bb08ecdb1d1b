// Files the CLI reads for an administrator (passwords, certificates, keys): a file this user cannot
// read is a setup problem, not a typo, so it is said in one line naming the file and the user, with
// what to do, and exits 1 without the usage text (CliError).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { currentUserName } from '../core/config/unix-users';
import { CliError } from './args';

export function unreadableMessage(flag: string | null, path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  const user = currentUserName();
  const what = `${flag ? `--${flag}: ` : ''}cannot read ${path}`;
  if (code === 'EACCES' || code === 'EPERM') return `${what} as user ${user} (${code}). Make it readable by ${user}, e.g. sudo chown ${user} ${path} (and let ${user} enter its folder).`;
  if (code === 'ENOENT') return `${what}: no such file (running as user ${user}).`;
  if (code === 'EISDIR') return `${what}: it is a folder; give the file.`;
  return `${what} as user ${user}: ${code}`;
}

export async function readFileFlag(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new CliError(unreadableMessage(flag, path, e));
  }
}

export function readFileFlagSync(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CliError(unreadableMessage(flag, path, e));
  }
}

/**
 * The data folder (or a file in it) could not be made or opened: one line naming it and the user, and
 * when the folder was the default one (in the user's home), that a service user gives it with
 * --data-dir. Null for any other error.
 */
export function dataFolderProblem(e: unknown, defaulted: boolean): string | null {
  // The file error itself, or the one a "Cannot read FILE" error was made from.
  const err = ((e as NodeJS.ErrnoException).path ? e : (e as Error).cause ?? e) as NodeJS.ErrnoException;
  if (!err.path || !['EACCES', 'EPERM', 'ENOENT', 'EROFS', 'ENOTDIR'].includes(err.code ?? '')) return null;
  const user = currentUserName();
  const verb = err.syscall === 'mkdir' ? 'create' : 'open';
  const hint = defaulted
    ? ` The default folder is in the home folder of ${user}; for a service user give the hub's folder with --data-dir DIR (the systemd unit uses /var/lib/callpop-hub).`
    : ` Give ${user} that folder (sudo chown -R ${user} DIR), or another --data-dir.`;
  return `cannot ${verb} ${err.path} as user ${user} (${err.code}).${hint}`;
}
