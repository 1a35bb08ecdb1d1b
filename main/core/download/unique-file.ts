// Never overwrite: a finished download gets the first free name of "name.mp3", "name (1).mp3", …
// Claiming a name is atomic (hard link or open with 'wx' both fail if the name exists), so two
// downloads finishing at once, or another program creating the file, cannot clobber anything.
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

const maxAttempts = 1000;

/** "a.mp3", 0 → "a.mp3"; "a.mp3", 2 → "a (2).mp3". */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const ext = path.extname(name);
  return `${name.slice(0, name.length - ext.length)} (${n})${ext}`;
}

const codeOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

/** Create an empty file under the first free name (open with 'wx') and return its path. */
export async function reserveUniqueName(dir: string, name: string): Promise<string> {
  for (let n = 0; n < maxAttempts; n++) {
    const candidate = path.join(dir, numberedName(name, n));
    try {
      const fh = await fs.open(candidate, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      await fh.close();
      return candidate;
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw err;
    }
  }
  throw Object.assign(new Error(`No free file name for ${name} in ${dir}`), { code: 'EEXIST' });
}

/** Errors meaning "this file system has no hard links"; then the 'wx' reservation is used. */
const noHardLinks = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK', 'EINVAL']);

/**
 * Give the complete temp file its final, never-existing name and return that path. A hard link
 * makes the file appear under its name only when complete; where links are not supported (FAT,
 * some shares) the name is reserved with 'wx' and the temp file renamed over the empty placeholder.
 */
export async function publishFile(tempPath: string, dir: string, name: string): Promise<string> {
  for (let n = 0; n < maxAttempts; n++) {
    const candidate = path.join(dir, numberedName(name, n));
    try {
      await fs.link(tempPath, candidate);
    } catch (err) {
      const code = codeOf(err);
      if (code === 'EEXIST') continue;
      if (code !== undefined && noHardLinks.has(code)) {
        const reserved = await reserveUniqueName(dir, name);
        await fs.rename(tempPath, reserved);
        await syncDir(dir);
        return reserved;
      }
      throw err;
    }
    await fs.unlink(tempPath);
    await syncDir(dir);
    return candidate;
  }
  throw Object.assign(new Error(`No free file name for ${name} in ${dir}`), { code: 'EEXIST' });
}

/** Persist the directory entry (best effort: Windows cannot open directories for fsync). */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await fs.open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // not supported on this platform / file system
  }
}
