// Where Callpop keeps its files. The CLI and the desktop app must agree, so these mirror what
// Electron's app.getPath('userData') / ('downloads') return for productName "Callpop", without Electron.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const productName = 'Callpop';

/** Electron's appData folder for this platform. */
function appDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  if (platform === 'win32') return env.APPDATA || join(homedir(), 'AppData', 'Roaming');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support');
  return env.XDG_CONFIG_HOME || join(homedir(), '.config');
}

/** The desktop app's data folder (settings.json, call log, contacts). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  return join(appDataDir(env, platform), productName);
}

/** The OS download folder (recordings go here unless settings say otherwise). */
export function defaultDownloadDir(): string {
  return join(homedir(), 'Downloads');
}

/** The call log lives in its own folder inside the data folder. */
export function callLogDir(dataDir: string): string {
  return join(dataDir, 'call-log');
}
