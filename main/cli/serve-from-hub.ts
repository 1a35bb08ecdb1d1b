// `callpop serve --hub URL`: serve over a hub feed. Instead of listening for webhooks, connects to a
// Callpop hub's MQTT broker as one agent, mirrors that agent's extension into the local call log (so
// `callpop log` shows the same as with a listener) and prints the same change lines (serve.ts runs
// the feed). A refused password ends it (exit 1, one line); losing the network only retries.
import { readFileSync } from 'node:fs';
import { DEFAULT_SITE, sitePattern } from '../../shared/hub-protocol';
import type { ServiceState } from '../../shared/ipc/contract';
import type { Logger } from '../../shared/diagnostics-log';
import { settingsSchema } from '../../shared/settings';
import { defaultDataDir } from '../core/config/paths';
import { openSettingsFile } from '../core/config/settings-file';
import { parseExtension, printable, UsageError, type CliIo } from './args';
import { clock } from './format';
import type { ServePlan } from './serve';

export interface ServeHubFlags {
  hub: string;
  user?: string | undefined;
  'password-file'?: string | undefined;
  site?: string | undefined;
  extension?: string | undefined;
  'data-dir'?: string | undefined;
}

const hubSchemes = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:']);

function parseHubUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--hub must be a URL like mqtt://hub.example.com:1883, got "${value}".`);
  }
  if (!hubSchemes.has(url.protocol)) throw new UsageError(`--hub must start with mqtt://, mqtts://, ws:// or wss://, got "${value}".`);
  if (url.username || url.password) throw new UsageError('--hub must not carry credentials: use --user and --password-file.');
  return value;
}

function readPassword(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--password-file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // The file's one line; the newline an editor or `echo` adds is not part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (password === '' || password.includes('\n')) throw new UsageError(`--password-file: ${file} must hold the password on one line.`);
  return password;
}

/** `serve --hub`: the settings of a hub feed from the flags, and its lines (Connected, offline, refused). */
export function serveFromHubPlan(flags: ServeHubFlags, io: CliIo, logger: Logger): ServePlan {
  const url = parseHubUrl(flags.hub);
  const user = flags.user?.trim();
  if (!user) throw new UsageError('--hub needs --user NAME (the agent name the hub gave you).');
  if (!flags['password-file']) throw new UsageError('--hub needs --password-file FILE (a file holding the agent password).');
  const password = readPassword(flags['password-file']);
  const site = flags.site ?? DEFAULT_SITE;
  if (!sitePattern.test(site)) throw new UsageError(`--site must be 1 to 64 letters, digits, _ or -, got "${site}".`);
  const dataDir = flags['data-dir'] ?? defaultDataDir(io.env ?? process.env);
  const saved = flags.extension !== undefined ? settingsSchema.parse({}) : openSettingsFile(dataDir, { logger }).get();
  const extension = flags.extension !== undefined ? parseExtension(flags.extension) : saved.extension;
  if (!extension) throw new UsageError('Give your extension with --extension EXT (e.g. --extension 117).');

  let printedFor: string | null = null;
  let lastState: ServiceState['state'] | null = null;
  return {
    dataDir,
    settings: { ...saved, source: 'hub', hubUrl: url, hubAgent: user, hubFingerprint: '', extension },
    password,
    extra: { hub: { site } },
    started() {
      io.stdout(`Following extension ${extension} through the hub as ${printable(user)}. Press Ctrl+C to stop.\n`);
      return null;
    },
    status(feed) {
      const s = feed.status();
      const changed = s.state !== lastState;
      lastState = s.state;
      if (s.state === 'hub-connected' && printedFor !== s.since) {
        // Once per connection (again after each reconnect), not when the backfill completes.
        printedFor = s.since;
        io.stdout(`Connected to ${url}\n`);
      } else if (s.state === 'hub-offline' && changed) io.stderr(`${clock(new Date())} warning: the hub is offline (connected to its broker; waiting for it)\n`);
      else if (s.state === 'hub-refused') {
        io.stderr(`callpop serve: ${s.reason} (${url}, agent ${printable(user)})\n`);
        return 1;
      }
      return null;
    },
  };
}
