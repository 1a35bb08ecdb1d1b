// `--config FILE`, CALLPOP_CONFIG and CALLPOP_USER_DATA_DIR point the desktop app at another policy
// file or data folder. In a packaged app they would let any user undo the machine policy's locks
// (an empty policy file, a fresh data folder), so there they are honoured only when the machine-wide
// policy says `"allowLocalOverrides": true`. Unpackaged (development and test) runs always honour them.
import { loadPolicySync, policyPaths } from './policy-file';
import type { PolicyLoadResult } from './policy-file';

export interface StartupPathsInput {
  isPackaged: boolean;
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  argv: readonly string[];
  cwd?: string;
  /** Reads the machine-wide policy (default loadPolicySync). */
  loadPolicy?: (file: string) => PolicyLoadResult;
}

export interface StartupPaths {
  /** The policy file to load and watch. */
  policyFile: string;
  /** The data folder to use instead of Electron's default, or null. */
  userDataDir: string | null;
  /** Overrides that were given but not honoured, for the log ("--config", "CALLPOP_USER_DATA_DIR"). */
  ignored: string[];
}

const hasConfigArg = (argv: readonly string[]): boolean => argv.some((a) => a === '--config' || a.startsWith('--config='));

export function startupPaths({ isPackaged, platform, env, argv, cwd, loadPolicy = loadPolicySync }: StartupPathsInput): StartupPaths {
  const given = [...(hasConfigArg(argv) ? ['--config'] : []), ...(env.CALLPOP_CONFIG?.trim() ? ['CALLPOP_CONFIG'] : []), ...(env.CALLPOP_USER_DATA_DIR?.trim() ? ['CALLPOP_USER_DATA_DIR'] : [])];
  const machineFile = policyPaths({ platform, env: { ...env, CALLPOP_CONFIG: undefined }, argv: [], ...(cwd ? { cwd } : {}) })[0]!;
  const honoured = (): StartupPaths => ({
    policyFile: policyPaths({ platform, env, argv, ...(cwd ? { cwd } : {}) })[0]!,
    userDataDir: env.CALLPOP_USER_DATA_DIR?.trim() || null,
    ignored: [],
  });
  if (given.length === 0 || !isPackaged) return honoured();
  const machine = loadPolicy(machineFile);
  if (machine.ok && machine.policy?.allowLocalOverrides === true) return honoured();
  return { policyFile: machineFile, userDataDir: null, ignored: given };
}
