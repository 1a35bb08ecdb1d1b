// `callpop serve --hub URL`: the headless hub client. Instead of listening for webhooks, connects to a
// Callpop hub's MQTT broker as one agent, mirrors that agent's extension into the local call log (so
// `callpop log` shows the same as with a listener) and prints the same change lines. A refused
// password ends it (exit 1, one line); losing the network only retries.
import { readFileSync } from 'node:fs';
import type { CallUpdate } from '../../shared/call-record';
import { DEFAULT_SITE, sitePattern } from '../../shared/hub-protocol';
import type { Logger } from '../../shared/log';
import { CallLogInUseError } from '../core/call-log/lock';
import { defaultDataDir } from '../core/config/paths';
import { openSettingsFile } from '../core/config/settings-file';
import { HubClient, type HubClientStatus } from '../core/hub-client/hub-client';
import { splitHubUrls } from '../../shared/settings';
import { parseExtension, printable, UsageError, type CliIo } from './args';
import { clock, updateLine } from './format';

export interface ServeHubFlags {
  /** One URL, or the nodes of a cluster (repeated --hub, comma lists). */
  hub: string | readonly string[];
  user?: string | undefined;
  'password-file'?: string | undefined;
  site?: string | undefined;
  extension?: string | undefined;
  'data-dir'?: string | undefined;
}

const hubSchemes = new Set(['mqtt:', 'mqtts:', 'ws:', 'wss:']);

/** Every --hub value, comma lists split: each must be an mqtt(s)/ws(s) URL without credentials. */
function parseHubUrls(values: string | readonly string[]): string[] {
  const urls = splitHubUrls(values);
  if (urls.length === 0) throw new UsageError('--hub needs a URL like mqtt://hub.example.com:1883.');
  if (urls.length > 16) throw new UsageError(`--hub takes at most 16 URLs (the nodes of one broker cluster), got ${urls.length}.`);
  return urls.map(parseHubUrl);
}

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

export async function runServeHub(flags: ServeHubFlags, io: CliIo, logger: Logger, onUpdate: (u: CallUpdate) => void = () => {}): Promise<number> {
  const urls = parseHubUrls(flags.hub);
  const url = urls.join(',');
  const user = flags.user?.trim();
  if (!user) throw new UsageError('--hub needs --user NAME (the agent name the hub gave you).');
  if (!flags['password-file']) throw new UsageError('--hub needs --password-file FILE (a file holding the agent password).');
  const password = readPassword(flags['password-file']);
  const site = flags.site ?? DEFAULT_SITE;
  if (!sitePattern.test(site)) throw new UsageError(`--site must be 1 to 64 letters, digits, _ or -, got "${site}".`);
  const dataDir = flags['data-dir'] ?? defaultDataDir(io.env ?? process.env);
  const extension = flags.extension !== undefined ? parseExtension(flags.extension) : openSettingsFile(dataDir, { logger }).get().extension;
  if (!extension) throw new UsageError('Give your extension with --extension EXT (e.g. --extension 117).');

  let client: HubClient;
  try {
    client = await HubClient.start({ dataDir, url: urls, user, password, extension, site, logger });
  } catch (e) {
    const advice =
      e instanceof CallLogInUseError ? ` (the Callpop desktop app or another callpop serve is running on this data folder). Quit it first, or give another --data-dir.` : '';
    io.stderr(`callpop serve: ${printable((e as Error).message)}${advice}\n`);
    return 1;
  }
  io.stdout(`Following extension ${extension} through the hub as ${printable(user)}. Press Ctrl+C to stop.\n`);

  client.onUpdates((updates) => {
    for (const u of updates) {
      io.stdout(`${updateLine(u, new Date())}\n`);
      onUpdate(u);
    }
  });
  let printedFor: string | null = null;
  let lastState: HubClientStatus['state'] | null = null;
  const exit = await new Promise<number>((resolve) => {
    const onStatus = (s: HubClientStatus): void => {
      const changed = s.state !== lastState;
      lastState = s.state;
      if (s.state === 'connected' && printedFor !== s.since) {
        // Once per connection (again after each reconnect), not when the backfill completes.
        printedFor = s.since;
        io.stdout(`Connected to ${s.url}\n`);
      } else if (s.state === 'hub-offline' && changed)
        io.stderr(`${clock(new Date())} warning: the hub is offline (${s.silent ? `no heartbeat since ${clock(new Date(s.since))}` : 'it said so'}; connected to its broker, waiting for it)\n`);
      else if (s.state === 'refused') {
        io.stderr(`callpop serve: ${s.reason} (${url}, agent ${printable(user)})\n`);
        resolve(1);
      }
    };
    client.onStatus(onStatus);
    onStatus(client.currentStatus());
    if (io.signal?.aborted) return resolve(0);
    io.signal?.addEventListener('abort', () => resolve(0), { once: true });
  });
  await client.close();
  if (exit === 0) io.stderr(`${clock(new Date())} stopped\n`);
  return exit;
}
