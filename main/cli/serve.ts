// `callpop serve`: the core without a window, over any kind of call feed (the table in
// core/feed/kinds.ts: this PC's listener, or a hub with --hub). Prints where the feed is reached
// (the webhook URL) or what it connected to, then one line per change to this extension's calls;
// --notify pops OS notifications. SIGINT/SIGTERM: stop accepting, write what was accepted, exit 0.
import { resolve } from 'node:path';
import type { CallUpdate } from '../../shared/call-record';
import type { Logger } from '../../shared/diagnostics-log';
import { settingsSchema, zodFieldErrors, type Settings } from '../../shared/settings';
import { CallLogInUseError } from '../core/call-log/lock';
import { addressListProblem } from '../core/listener/listener';
import { defaultDataDir } from '../core/config/paths';
import { withWebhookSecret } from '../core/listener/secret';
import { openSettingsFile } from '../core/config/settings-file';
import type { CallFeed, FeedContext } from '../core/feed/call-feed';
import { startFeed } from '../core/feed/kinds';
import { parseAllowFlag, parseExtension, parseFlags, parsePort, printable, UsageError, type CliIo } from './args';
import { clock, numberText, updateLine } from './format';
import { serveFromHubPlan } from './serve-from-hub';
import { callControlOptions, callControlUsage, parseCallControlFlags } from './call-control-flags';
import { serveFromCallControlPlan } from './serve-call-control';

export const serveUsage = `Usage: callpop serve --extension EXT [--port 8765] [--host 0.0.0.0] [--data-dir DIR] [--allow IP,CIDR,...] [--tls-cert FILE --tls-key FILE] [--notify]

Receives the 3CX WebAPI webhooks and tracks the calls of extension EXT.
  --extension EXT   your 3CX extension (default: the one in the app's settings)
  --port N          port to listen on (default 8765 or the app's setting; 0 = any free port)
  --host ADDR       address to listen on (default 0.0.0.0 = every network)
  --data-dir DIR    where the settings and the call log live (default: the desktop app's folder)
  --allow LIST      only accept webhooks from these IPs/ranges, e.g. 192.0.2.10,198.51.100.0/24
  --tls-cert FILE   serve HTTPS with this PEM certificate (chain); needs --tls-key
  --tls-key FILE    the certificate's PEM private key
  --notify          show desktop notifications for ringing and missed calls
Prints "Listening on URL": paste URL into WEBHOOK_URL in WebhooksApi.ini.

callpop serve --hub URL[,URL...] --user NAME --password-file FILE [--extension EXT ...] [--site SITE] [--hub-ca FILE | --hub-fingerprint SHA256] [--data-dir DIR] [--notify]
Follows your calls through a Callpop hub instead (no listener on this PC): connects to the hub's broker
(mqtt://, mqtts://, ws://, wss://) as agent NAME, prints "Connected to URL", keeps the same call log.
  --hub URL         the hub's broker; the nodes of a broker cluster as a comma list or --hub again
                    (a lost node: the next one, within seconds)
  --extension EXT   each extension to follow (default: every extension the hub lists for NAME)
  --site SITE       the hub's site (default: default)
  --hub-ca FILE     trust this CA (PEM) for the hub's certificate (an internal CA)
  --hub-fingerprint SHA256   trust exactly this certificate (self-signed): openssl x509 -noout -fingerprint -sha256

callpop serve --source call-control --pbx URL --client-id ID --client-secret-file FILE [--extension EXT] [--data-dir DIR] [--notify]
${callControlUsage}`;

const options = {
  extension: { type: 'string', multiple: true },
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  allow: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  notify: { type: 'boolean' },
  hub: { type: 'string', multiple: true },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  site: { type: 'string' },
  'hub-ca': { type: 'string' },
  'hub-fingerprint': { type: 'string' },
  ...callControlOptions,
  help: { type: 'boolean', short: 'h' },
} as const;

function stderrLogger(io: CliIo): Logger {
  const line = (level: string) => (m: string) => io.stderr(`${clock(new Date())} ${level}${printable(m)}\n`);
  return { debug() {}, info: line(''), warn: line('warning: '), error: line('error: ') };
}

type Notify = (title: string, message: string) => void;

/** node-notifier, loaded only when asked for; a failure is logged, never fatal. */
async function loadNotifier(logger: Logger): Promise<Notify> {
  try {
    type NotifyFn = (o: object, cb: (err: Error | null) => void) => void;
    const mod = (await import('node-notifier')) as unknown as { default?: { notify: NotifyFn }; notify?: NotifyFn };
    const notifier = mod.default ?? (mod as { notify: NotifyFn });
    // Say once that notifications fail (e.g. no notify-send), not on every call.
    let warned = false;
    const fail = (e: Error): void => {
      if (!warned) logger.warn(`Notification failed (further failures not shown): ${e.message}`);
      warned = true;
    };
    return (title, message) => {
      try {
        notifier.notify({ title, message, wait: false }, (err) => err && fail(err));
      } catch (e) {
        fail(e as Error);
      }
    };
  } catch (e) {
    logger.warn(`Notifications unavailable: ${(e as Error).message}`);
    return () => {};
  }
}

/** How `serve` runs one kind of feed: what to start it with and what to print about it. */
export interface ServePlan {
  dataDir: string;
  settings: Settings;
  password: string | null;
  extra?: FeedContext['extra'];
  /** Once started: print the first lines; a number ends serve with that exit code. */
  started(feed: CallFeed): number | null;
  /** The feed's status changed (and once after start): print what it means; a number ends serve. */
  status(feed: CallFeed): number | null;
}

/** Starts the plan's feed from the table, prints its changes until a signal (exit 0) or the plan says stop. */
async function serveFeed(plan: ServePlan, io: CliIo, logger: Logger, notify: Notify | null): Promise<number> {
  let feed: CallFeed;
  try {
    feed = await startFeed({ dataDir: plan.dataDir, settings: plan.settings, password: plan.password, logger, extra: plan.extra, allowLoopback: true });
  } catch (e) {
    const advice =
      e instanceof CallLogInUseError
        ? ` (the Callpop desktop app or another callpop serve is running on this data folder). Quit it first, or give another --data-dir.`
        : '';
    io.stderr(`callpop serve: ${printable((e as Error).message)}${advice}\n`);
    return 1;
  }
  const early = plan.started(feed);
  if (early !== null) {
    await feed.close();
    return early;
  }
  feed.changes((updates) => {
    for (const u of updates) {
      io.stdout(`${updateLine(u, new Date())}\n`);
      const n = notify && notificationFor(u);
      if (notify && n) notify(n[0], n[1]);
    }
  });
  const exit = await new Promise<number>((resolve) => {
    const onStatus = (): void => {
      const code = plan.status(feed);
      if (code !== null) resolve(code);
    };
    feed.statusChanged(onStatus);
    onStatus();
    if (io.signal?.aborted) return resolve(0);
    io.signal?.addEventListener('abort', () => resolve(0), { once: true });
  });
  await feed.close();
  if (exit === 0) io.stderr(`${clock(new Date())} stopped\n`);
  return exit;
}

function notificationFor(u: CallUpdate): [string, string] | null {
  const who = numberText(u.record);
  if (u.change === 'ringing') return ['Incoming call', `${who}${u.record.queue ? ` via queue ${printable(u.record.queue)}` : ''}`];
  if (u.change === 'missed' && u.record.direction === 'incoming') return ['Missed call', who];
  return null;
}

export async function runServe(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, options);
  if (values.help) {
    io.stdout(`${serveUsage}\n`);
    return 0;
  }
  const callControl = await parseCallControlFlags(values);
  if (callControl) {
    const other = (['hub', 'port', 'host', 'allow', 'tls-cert', 'tls-key', 'hub-ca', 'hub-fingerprint'] as const).find((k) => values[k] !== undefined);
    if (other) throw new UsageError(`--${other} does not apply with --source call-control.`);
    if ((values.extension?.length ?? 0) > 1) throw new UsageError('--source call-control follows one --extension (follow several through a hub with --hub).');
    const logger = stderrLogger(io);
    const plan = serveFromCallControlPlan(callControl, { ...values, extension: values.extension?.[0] }, io, logger);
    return serveFeed(plan, io, logger, values.notify ? await loadNotifier(logger) : null);
  }
  if (values.hub !== undefined) {
    const local = (['port', 'host', 'allow', 'tls-cert', 'tls-key'] as const).find((k) => values[k] !== undefined);
    if (local) throw new UsageError(`--${local} is for receiving webhooks on this PC; it does not apply with --hub.`);
    const logger = stderrLogger(io);
    const plan = await serveFromHubPlan({ ...values, hub: values.hub }, io, logger);
    if (typeof plan === 'number') return plan;
    return serveFeed(plan, io, logger, values.notify ? await loadNotifier(logger) : null);
  }
  for (const k of ['user', 'password-file', 'site', 'hub-ca', 'hub-fingerprint'] as const) if (values[k] !== undefined) throw new UsageError(`--${k} needs --hub URL.`);
  if ((values.extension?.length ?? 0) > 1) throw new UsageError('serve tracks one --extension on this PC (follow several through a hub with --hub).');
  const extension = values.extension?.[0] !== undefined ? parseExtension(values.extension[0]) : undefined;
  const port = values.port !== undefined ? parsePort(values.port) : undefined;
  if (values.host !== undefined && values.host.trim() === '') throw new UsageError('--host must not be empty.');
  const allow = parseAllowFlag(values.allow);

  const tlsCert = values['tls-cert'];
  const tlsKey = values['tls-key'];
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('HTTPS needs both --tls-cert FILE and --tls-key FILE.');
  if (tlsCert?.trim() === '' || tlsKey?.trim() === '') throw new UsageError('--tls-cert and --tls-key need a file.');

  const logger = stderrLogger(io);
  const dataDir = values['data-dir'] ?? defaultDataDir(io.env ?? process.env);
  const file = openSettingsFile(dataDir, { logger });
  // Nothing is written (no secret generated and saved) for a command line that is refused.
  if (extension === undefined && !file.get().extension) throw new UsageError('Give your extension with --extension EXT (e.g. --extension 117).');
  const saved = withWebhookSecret(file.get());
  // The secret is part of the URL pasted into WebhooksApi.ini: keep it across runs.
  if (saved.generated) file.set(saved.settings);
  const merged = settingsSchema.safeParse({
    ...saved.settings,
    ...(extension !== undefined && { extension }),
    ...(port !== undefined && { listenPort: port }),
    ...(values.host !== undefined && { listenHost: values.host.trim() }),
    ...(allow !== undefined && { allowedSources: allow }),
    // Relative to where serve was started; the settings hold absolute paths.
    ...(tlsCert !== undefined && tlsKey !== undefined && { tlsCertFile: resolve(tlsCert), tlsKeyFile: resolve(tlsKey) }),
  });
  if (!merged.success) {
    const [key, message] = Object.entries(zodFieldErrors(merged.error))[0] ?? ['settings', 'invalid'];
    throw new UsageError(`${key}: ${message}`);
  }
  const settings = merged.data;
  if (!settings.extension) throw new UsageError('Give your extension with --extension EXT (e.g. --extension 117).');

  return serveFeed(
    {
      dataDir,
      // The app's settings file may say "hub": serve without --hub receives the webhooks itself.
      settings: { ...settings, source: 'listener' },
      password: null,
      started(feed) {
        const state = feed.status();
        if (state.state !== 'listening') {
          // The service has already logged why (e.g. the port is in use) on stderr.
          if (state.state !== 'error') io.stderr('callpop serve: not listening\n');
          return 1;
        }
        const [url, ...others] = feed.addresses();
        const noAddresses = addressListProblem();
        if (noAddresses) logger.warn(`cannot list this machine's network addresses (${noAddresses}); the URLs show its host name: use the address the PBX reaches it on`);
        io.stdout(`Listening on ${url}\n`);
        for (const other of others) io.stdout(`  also reachable as ${other}\n`);
        io.stdout(`Tracking extension ${settings.extension}. Press Ctrl+C to stop.\n`);
        return null;
      },
      status: () => null,
    },
    io,
    logger,
    values.notify ? await loadNotifier(logger) : null,
  );
}
