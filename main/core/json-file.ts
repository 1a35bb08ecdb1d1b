// Small JSON files of the hub's data folder (queues, learned queue members, callbacks) written the way
// agents.json is: to a temp file, fsync'ed, renamed over the old one, so a reader (or a restart after a
// crash) sees the old file or the new one, never half of one. Resolves once the new file is on disk.
// Run as root (`sudo callpop hub agent add`, `sudo callpop hub mosquitto-files`, `sudo callpop hub
// queue set`), a file stays its owner's: the previous file's, else the folder's, so the hub's service
// user can still read it.
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

async function ownerOf(path: string): Promise<{ uid: number; gid: number }> {
  const st = await stat(path);
  return { uid: st.uid, gid: st.gid };
}

export async function writeJsonFile(path: string, value: unknown, mode = 0o600, indent = 1): Promise<void> {
  // Owner-only folder, like every file in it (a folder made outside systemd was 0755).
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  const owner = process.getuid?.() === 0 ? await ownerOf(path).catch(() => ownerOf(dirname(path))).catch(() => null) : null;
  const fh = await open(temp, 'w', mode);
  try {
    if (owner) await fh.chown(owner.uid, owner.gid);
    await fh.writeFile(`${JSON.stringify(value, null, indent)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  // The rename itself is durable once the folder is synced.
  const dir = await open(dirname(path), 'r').catch(() => null);
  await dir?.sync().catch(() => {});
  await dir?.close();
}

/** The parsed file, or `missing` when there is none. Throws a one-line error when it is not JSON. */
export async function readJsonFile<T>(path: string, missing: T): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return missing;
    throw new Error(`Cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${path} is not valid JSON; fix or remove it.`);
  }
}
