// Updates from the URL IT sets in the machine policy (electron-updater, generic provider). Only in a
// packaged app, only when enabled with an https URL; every failure is logged and otherwise ignored.
//
// Signatures: an update is only installed where its signature is checked.
// - Windows (NSIS): electron-updater checks the downloaded installer's Authenticode signature
//   against `publisherName` from resources/app-update.yml, and SKIPS the check when the file names
//   none (an unsigned build). Here a build without a publisherName never checks for updates at all,
//   and the check function refuses an empty publisher list, so no update is installed unchecked.
// - macOS: Squirrel.Mac only installs an update signed like the running app (hardened runtime,
//   notarised); an unsigned app cannot update itself.
// - Linux (AppImage, deb): nothing is checked but the sha512 from the same https server; IT is told
//   to deploy through a signed package repository instead (docs/deploy.md), and the log says so.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import electronUpdater from 'electron-updater';
import type { Logger } from '../../shared/diagnostics-log';
import type { Settings } from '../../shared/settings';

const SIX_HOURS = 6 * 60 * 60 * 1000;

type VerifySignature = (publisherNames: string[], path: string) => Promise<string | null>;

export interface UpdateOptions {
  settings: () => Settings;
  isPackaged: boolean;
  logger: Logger;
  /** Default process.platform. */
  platform?: NodeJS.Platform;
  /** electron-builder's app-update.yml; default resources/app-update.yml (where electron-updater reads it). */
  updateConfigPath?: string;
}

/**
 * The code-signing publisher names electron-builder wrote into app-update.yml (`publisherName: X`
 * or a `- X` list below it), [] when there are none or the file cannot be read.
 */
export function publisherNames(yaml: string | null): string[] {
  if (yaml === null) return [];
  const lines = yaml.split(/\r?\n/);
  const i = lines.findIndex((l) => /^publisherName:/.test(l));
  if (i < 0) return [];
  const unquote = (s: string) => s.trim().replace(/^(['"])(.*)\1$/, '$2').trim();
  const inline = unquote(lines[i]!.slice('publisherName:'.length));
  if (inline !== '' && inline !== 'null' && inline !== '~' && inline !== '[]') return [inline];
  const names: string[] = [];
  for (const l of lines.slice(i + 1)) {
    const m = /^\s+-\s+(.+)$/.exec(l);
    if (!m) break;
    const name = unquote(m[1]!);
    if (name !== '') names.push(name);
  }
  return names;
}

/** Why the update feed URL is refused, or null. */
export function feedUrlProblem(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:') return `the update URL must be https:, not ${u.protocol}`;
    if (u.username !== '' || u.password !== '') return 'the update URL must not hold credentials';
    return null;
  } catch {
    return 'the update URL is not a valid URL';
  }
}

/** Never accept an update because there was nobody to check its signature against. */
export function strictSignatureCheck(check: VerifySignature): VerifySignature {
  return (names, path) => (names.filter((n) => n.trim() !== '').length === 0 ? Promise.resolve('no code-signing publisher to check the update against') : check(names, path));
}

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

export function startUpdateChecks(opts: UpdateOptions): () => void {
  const { autoUpdater } = electronUpdater;
  const platform = opts.platform ?? process.platform;
  const log = opts.logger;
  let configuredUrl = '';
  let refused = '';
  let prepared = false;
  // One line per distinct refusal, not one every six hours.
  const refuse = (why: string) => {
    if (why !== refused) log.error(`updates: not checking: ${why}`);
    refused = why;
  };

  /** Platform checks, once: false when updates must stay off. */
  const prepare = (): boolean => {
    if (platform === 'win32') {
      const names = publisherNames(readText(opts.updateConfigPath ?? join(process.resourcesPath, 'app-update.yml')));
      if (names.length === 0) {
        refuse('this build names no code-signing publisher (publisherName in app-update.yml), so an update’s signature could not be checked; install a signed build');
        return false;
      }
      const nsis = autoUpdater as unknown as { verifyUpdateCodeSignature?: VerifySignature };
      if (typeof nsis.verifyUpdateCodeSignature !== 'function') {
        refuse('this updater cannot check signatures');
        return false;
      }
      if (!prepared) nsis.verifyUpdateCodeSignature = strictSignatureCheck(nsis.verifyUpdateCodeSignature);
    }
    if (!prepared) {
      if (platform === 'linux') log.warn('updates: Linux packages carry no signature the updater can check (only a checksum from the same server); prefer a signed package repository (docs/deploy.md)');
      // Full installers only: a web installer fetches a second package after the signature check.
      autoUpdater.disableWebInstaller = true;
      autoUpdater.allowDowngrade = false;
      autoUpdater.logger = { info: (m: unknown) => log.info(`updates: ${String(m)}`), warn: (m: unknown) => log.warn(`updates: ${String(m)}`), error: (m: unknown) => log.error(`updates: ${String(m)}`), debug: (m: unknown) => log.debug(`updates: ${String(m)}`) };
    }
    prepared = true;
    return true;
  };

  const check = () => {
    const { enabled, url } = opts.settings().updates;
    if (!opts.isPackaged || !enabled || url === '') return;
    try {
      // The settings schema already requires https; checked again here, where it matters.
      const problem = feedUrlProblem(url);
      if (problem) return refuse(problem);
      if (!prepare()) return;
      if (url !== configuredUrl) {
        autoUpdater.setFeedURL({ provider: 'generic', url });
        configuredUrl = url;
      }
      refused = '';
      autoUpdater.checkForUpdatesAndNotify().catch((e: unknown) => log.warn(`updates: check failed: ${e instanceof Error ? e.message : String(e)}`));
    } catch (e) {
      log.warn(`updates: cannot check: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const first = setTimeout(check, 30_000);
  const timer = setInterval(check, SIX_HOURS);
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
