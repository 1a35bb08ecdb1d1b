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
