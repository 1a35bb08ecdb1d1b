// Where the desktop's 3CX Call Control API key lives, and how the core reads it. The key never goes into
// settings (settings.json is clear text and the whole Settings object is shown to the renderer): either
// IT names a file holding it (settings.callControlSecretFile, usually locked by the machine policy), or
// the agent types it once in Settings and the core writes it here, into its own data folder, in a file
// only this user may read (0600; on Windows the profile folder's ACL does that job). It is read anew at
// every start of the Call Control feed, never sent back to a renderer and never logged.
import { chmodSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../../../shared/settings';

/** The core's own file in the data folder (the agent's key from Settings). */
export const CALL_CONTROL_SECRET_FILE = 'call-control-secret';

/** 3CX API keys are a few dozen characters; anything much larger is not one. */
const MAX_SECRET_BYTES = 4096;

/** One line of printable characters (no spaces: 3CX generates the key; a pasted space is a mistake). */
export function secretProblem(secret: string): string | null {
  if (secret === '') return 'Enter the API key.';
  if (secret.length > 1024) return 'An API key is at most 1,024 characters.';
  if (!/^[\x21-\x7E]+$/.test(secret)) return 'The API key is one line of letters, digits and symbols (no spaces).';
  return null;
}

export type ReadSecret = { secret: string; problem: null } | { secret: null; problem: string };

/** The key the settings point to: IT's file when named, else the agent's saved one. */
export function readCallControlSecret(settings: Pick<Settings, 'callControlSecretFile'>, dataDir: string): ReadSecret {
  const it = settings.callControlSecretFile;
  const file = it || join(dataDir, CALL_CONTROL_SECRET_FILE);
  let text: string;
  try {
    if (statSync(file).size > MAX_SECRET_BYTES) return { secret: null, problem: `The API key file ${file} is too large to hold a key.` };
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!it && code === 'ENOENT') return { secret: null, problem: 'Enter the API key of the 3CX API client.' };
    return { secret: null, problem: `Cannot read the API key file ${file}: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}.` };
  }
  const secret = text.replace(/^\uFEFF/, '').replace(/\r?\n$/, '');
  const problem = secretProblem(secret);
  return problem ? { secret: null, problem: `The API key file ${file} does not hold one key on one line.` } : { secret, problem: null };
}

/** Writes the agent's key (0600, replaced whole: a crash leaves the old key or the new one, never half). */
export function saveCallControlSecret(dataDir: string, secret: string): void {
  const file = join(dataDir, CALL_CONTROL_SECRET_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${secret}\n`, { mode: 0o600, flag: 'w' });
    // A temp file left by a crash may exist with other bits: the mode only applies at creation.
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function clearCallControlSecret(dataDir: string): void {
  rmSync(join(dataDir, CALL_CONTROL_SECRET_FILE), { force: true });
}

/** Whether the agent saved a key (what Settings may know about it). */
export function hasSavedCallControlSecret(dataDir: string): boolean {
  try {
    return statSync(join(dataDir, CALL_CONTROL_SECRET_FILE)).isFile();
  } catch {
    return false;
  }
}
