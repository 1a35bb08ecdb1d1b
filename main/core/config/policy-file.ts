// Finding, reading and watching the machine-wide policy file (schema in shared/policy.ts).
// Never throws: a missing file is "no policy", a bad one is one error line naming file and field,
// and the caller keeps running on the user's settings.
import { existsSync, readFileSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parsePolicy } from '../../../shared/policy';
import type { Policy } from '../../../shared/policy';

export type PolicyLoadResult = { ok: true; policy: Policy | null } | { ok: false; error: string };

export interface PolicyPathInput {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  argv: readonly string[];
  /** For a relative --config / CALLPOP_CONFIG; defaults to process.cwd(). */
  cwd?: string;
}

const MAX_POLICY_BYTES = 1024 * 1024;

function configArg(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' && argv[i + 1] !== undefined) return argv[i + 1]!;
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return null;
}

/**
 * Where to read the policy. An explicit `--config FILE` (or CALLPOP_CONFIG) replaces the
 * machine-wide file; otherwise the platform's machine-wide location. First entry is the one used.
 */
export function policyPaths({ platform, env, argv, cwd = process.cwd() }: PolicyPathInput): string[] {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const explicit = configArg(argv) ?? (env.CALLPOP_CONFIG?.trim() || null);
  if (explicit) return [p.resolve(cwd, explicit)];
  switch (platform) {
    case 'win32': {
      const programData = env.ProgramData ?? env.PROGRAMDATA ?? env.ALLUSERSPROFILE ?? 'C:\\ProgramData';
      return [p.join(programData, 'Callpop', 'policy.json')];
    }
    case 'darwin':
      return ['/Library/Application Support/Callpop/policy.json'];
    default:
      return ['/etc/callpop/policy.json'];
  }
}

/** JSON with an optional UTF-8 BOM and // or /* *\/ comments (IT people annotate these files). */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const comment = text.slice(i, end < 0 ? text.length : end + 2);
      out += comment.replace(/[^\n]/g, ' '); // keep line numbers for error messages
      i = end < 0 ? text.length : end + 1;
    } else out += c;
  }
  return out;
}

/** Parse file text; `file` only names the file in the error. */
export function parsePolicyText(text: string, file: string): PolicyLoadResult {
  const body = stripJsonComments(text.replace(/^\uFEFF/, ''));
  if (body.trim() === '') return { ok: false, error: `Policy file ${file} is empty (expected a JSON object); it is ignored.` };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    return { ok: false, error: `Policy file ${file} is not valid JSON (${(e as Error).message.split('\n')[0]}); it is ignored.` };
  }
  const r = parsePolicy(json);
  return r.ok ? r : { ok: false, error: `Policy file ${file} is invalid and ignored: ${r.error}` };
}

function readError(file: string, e: unknown): PolicyLoadResult {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: true, policy: null };
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
  return { ok: false, error: `Cannot read policy file ${file}: ${why}; it is ignored.` };
}

export async function loadPolicy(file: string): Promise<PolicyLoadResult> {
  try {
    const st = await stat(file);
    if (st.isFile() && st.size > MAX_POLICY_BYTES) return { ok: false, error: `Policy file ${file} is larger than 1 MB; it is ignored.` };
    return parsePolicyText(await readFile(file, 'utf8'), file);
  } catch (e) {
    return readError(file, e);
  }
}

/** Same as loadPolicy, for start-up code that must decide before anything async runs. */
export function loadPolicySync(file: string): PolicyLoadResult {
  try {
    const st = statSync(file);
    if (st.isFile() && st.size > MAX_POLICY_BYTES) return { ok: false, error: `Policy file ${file} is larger than 1 MB; it is ignored.` };
    return parsePolicyText(readFileSync(file, 'utf8'), file);
  } catch (e) {
    return readError(file, e);
  }
}

export interface WatchOptions {
  /** Quiet time after the last change before reading (editors write in several steps). */
  debounceMs?: number;
  /** Safety-net poll: covers a folder that does not exist yet, is deleted, or network shares. */
  pollMs?: number;
}

/** Raw content as a change signature: "absent", the error code, or the text. */
async function snapshot(file: string): Promise<string> {
  try {
    const st = await stat(file);
    if (st.isFile() && st.size > MAX_POLICY_BYTES) return `big:${st.size}:${st.mtimeMs}`;
    return `text:${await readFile(file, 'utf8')}`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : `error:${code ?? 'unknown'}`;
  }
}

function snapshotSync(file: string): string {
  try {
    const st = statSync(file);
    if (st.isFile() && st.size > MAX_POLICY_BYTES) return `big:${st.size}:${st.mtimeMs}`;
    return `text:${readFileSync(file, 'utf8')}`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : `error:${code ?? 'unknown'}`;
  }
}

/**
 * Call onChange with the new load result whenever the file is created, changed or deleted
 * (compared with what was on disk when watching started). Watches the folder, since the file
 * may be replaced or not exist yet, plus an unref'd poll as a safety net. Returns stop().
 */
export function watchPolicy(file: string, onChange: (result: PolicyLoadResult) => void, { debounceMs = 250, pollMs = 2000 }: WatchOptions = {}): () => void {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let last = snapshotSync(file);
  let stopped = false;
  let watcher: FSWatcher | null = null;
  let debounce: NodeJS.Timeout | null = null;
  let checking = false;
  let again = false;

  const check = async (): Promise<void> => {
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      do {
        again = false;
        const now = await snapshot(file);
        if (stopped) return;
        if (now !== last) {
          last = now;
          onChange(now === 'absent' ? { ok: true, policy: null } : await loadPolicy(file));
        }
      } while (again && !stopped);
    } catch {
      // onChange threw: not ours to crash on; the next change is still reported.
    } finally {
      checking = false;
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = null;
      void check();
    }, debounceMs);
    debounce.unref();
  };

  const startWatcher = (): void => {
    if (watcher || stopped || !existsSync(dir)) return;
    try {
      watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || name === base) schedule();
      });
      watcher.on('error', () => {
        // The folder was removed (or the handle died): fall back to the poll until it returns.
        watcher?.close();
        watcher = null;
        schedule();
      });
    } catch {
      watcher = null;
    }
  };

  startWatcher();
  const poll = setInterval(() => {
    // A watched folder that was deleted leaves a dead inotify handle: drop it, re-watch later.
    if (watcher && !existsSync(dir)) {
      watcher.close();
      watcher = null;
    }
    startWatcher();
    void check();
  }, pollMs);
  poll.unref();

  return () => {
    stopped = true;
    clearInterval(poll);
    if (debounce) clearTimeout(debounce);
    watcher?.close();
    watcher = null;
  };
}
