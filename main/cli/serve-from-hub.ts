// `callpop serve --hub URL`: serve over a hub feed. Instead of listening for webhooks, connects to a
// Callpop hub's MQTT broker as one agent, mirrors that agent's extensions (each --extension, or all of
// the agent's) into the local call log (so `callpop log` shows the same as with a listener) and prints
// the same change lines (serve.ts runs the feed from the table). A refused password, an untrusted
// certificate or an extension that is not the agent's ends it (exit 1, one line; ./hub-agent-probe.ts);
// losing the network only retries.
import { readFileSync } from 'node:fs';
import { DEFAULT_SITE, sitePattern, topics } from '../../shared/hub-protocol';
import type { ServiceState } from '../../shared/source-state';
import type { Logger } from '../../shared/diagnostics-log';
import { settingsSchema } from '../../shared/settings';
import { defaultDataDir } from '../core/config/paths';
import { openSettingsFile } from '../core/config/settings-file';
import { pinnedConnect, pinProblem } from '../core/hub-client/hub-tls-pin';
import { normalizeFingerprint } from '../core/download/tls-pin';
import type { HubFeedExtra } from '../core/hub-client/hub-feed';
import { splitHubUrls } from '../../shared/settings';
import { CliError, parseExtension, printable, UsageError, type CliIo } from './args';
import { readFileFlagSync, unreadableMessage } from './file-access';
import { probeAgent } from './hub-agent-probe';
import { notTheAgents, notTheAgentsForCli } from '../core/hub-client/agent-extensions';
import { clock } from './format';
import type { ServePlan } from './serve';

export interface ServeHubFlags {
  /** One URL, or the nodes of a cluster (repeated --hub, comma lists). */
  hub: string | readonly string[];
  user?: string | undefined;
  'password-file'?: string | undefined;
  site?: string | undefined;
  extension?: string[] | undefined;
  'data-dir'?: string | undefined;
  /** PEM CA (chain) to trust for an mqtts:// or wss:// hub. */
  'hub-ca'?: string | undefined;
  /** SHA-256 fingerprint of the hub's certificate (pinned: the chain is not checked). */
  'hub-fingerprint'?: string | undefined;
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
    throw new CliError(unreadableMessage('password-file', file, e));
  }
  // The file's one line; the newline an editor or `echo` adds is not part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (password === '' || password.includes('\n')) throw new UsageError(`--password-file: ${file} must hold the password on one line.`);
  return password;
}

/**
 * `serve --hub`: the settings of a hub feed from the flags (after one short connection that checks the
 * certificate, the password and the extensions), and its lines (Connected, offline, refused). A number:
 * serve ends with it at once (the probe was refused: said already; stopped while waiting: 0).
 */
export async function serveFromHubPlan(flags: ServeHubFlags, io: CliIo, logger: Logger): Promise<ServePlan | number> {
  const urls = parseHubUrls(flags.hub);
  const url = urls.join(',');
  const user = flags.user?.trim();
  if (!user) throw new UsageError('--hub needs --user NAME (the agent name the hub gave you).');
  try {
    // The client ids and the agent topic are made from the name: one no hub can have is said here.
    topics.agentExtensions(DEFAULT_SITE, user);
  } catch {
    throw new UsageError(`--user must be an agent name (1 to 64 letters, digits or . _ - @), got "${printable(user)}".`);
  }
  if (!flags['password-file']) throw new UsageError('--hub needs --password-file FILE (a file holding the agent password).');
  const password = readPassword(flags['password-file']);
  const site = flags.site ?? DEFAULT_SITE;
  if (!sitePattern.test(site)) throw new UsageError(`--site must be 1 to 64 letters, digits, _ or -, got "${site}".`);
  const dataDir = flags['data-dir'] ?? defaultDataDir(io.env ?? process.env);
  const given = [...new Set((flags.extension ?? []).map(parseExtension))];
  const tls = hubTlsOptions(urls, flags);

  // One short connection first: certificate, password, and which extensions are the agent's.
  const probe = await probeAgent({
    urls,
    user,
    password,
    site,
    ...(tls.ca !== undefined && { mqtt: { ca: tls.ca } }),
    ...(tls.fingerprint !== undefined && { connect: pinnedConnect(tls.fingerprint) }),
    signal: io.signal,
    onWaiting: (why) => io.stderr(`${clock(new Date())} warning: cannot reach the hub's broker at ${url} yet (${printable(why)}); retrying\n`),
  });
  if (probe.kind === 'aborted') return 0;
  if (probe.kind === 'refused') {
    io.stderr(`callpop serve: ${probe.reason} (${url}, agent ${printable(user)})\n`);
    return 1;
  }
  if (probe.kind === 'certificate') throw new CliError(probe.message);
  const own = probe.extensions;
  const foreign = notTheAgents(given, own);
  if (foreign.length > 0) throw new CliError(notTheAgentsForCli(printable(user), foreign, own!));
  const saved = given.length > 0 ? settingsSchema.parse({}) : openSettingsFile(dataDir, { logger }).get();
  const settingsExtension = given.length === 0 && !own ? saved.extension : '';
  const extensions = given.length > 0 ? given : own && own.length > 0 ? own : settingsExtension ? [settingsExtension] : [];
  if (extensions.length === 0) throw new UsageError('Give your extension with --extension EXT (e.g. --extension 117).');

  const extra: HubFeedExtra = { site, extensions, ...(tls.ca !== undefined && { mqtt: { ca: tls.ca } }) };
  let printedFor: string | null = null;
  let lastState: ServiceState['state'] | null = null;
  return {
    dataDir,
    settings: { ...saved, source: 'hub', hubUrl: url, hubAgent: user, hubFingerprint: tls.fingerprint ?? '', extension: extensions[0]! },
    password,
    extra: { hub: extra },
    started() {
      io.stdout(`Following extension${extensions.length > 1 ? 's' : ''} ${extensions.join(', ')} through the hub as ${printable(user)}. Press Ctrl+C to stop.\n`);
      return null;
    },
    status(feed) {
      const s = feed.status();
      const changed = s.state !== lastState;
      lastState = s.state;
      if (s.state === 'hub-connected' && printedFor !== s.since) {
        // Once per connection (again after each reconnect), not when the backfill completes.
        printedFor = s.since;
        io.stdout(`Connected to ${s.url}\n`);
      } else if (s.state === 'hub-offline' && changed)
        io.stderr(`${clock(new Date())} warning: the hub is offline (${s.silent ? `no heartbeat since ${clock(new Date(s.since))}` : 'it said so'}; connected to its broker, waiting for it)\n`);
      else if (s.state === 'hub-refused') {
        io.stderr(`callpop serve: ${s.reason} (${url}, agent ${printable(user)})\n`);
        return 1;
      }
      return null;
    },
  };
}

/** --hub-ca / --hub-fingerprint: a CA for the chain check, or a pinned certificate (the chain not checked). */
function hubTlsOptions(urls: readonly string[], flags: ServeHubFlags): { ca?: Buffer; fingerprint?: string } {
  const ca = flags['hub-ca'];
  const fingerprint = flags['hub-fingerprint'];
  if (ca === undefined && fingerprint === undefined) return {};
  if (ca !== undefined && fingerprint !== undefined) throw new UsageError('Give --hub-ca or --hub-fingerprint, not both.');
  const scheme = urls.map((u) => new URL(u).protocol).find((p) => p !== 'mqtts:' && p !== 'wss:');
  if (scheme !== undefined) throw new UsageError(`--hub-${ca !== undefined ? 'ca' : 'fingerprint'} is for a TLS hub (mqtts:// or wss://), not ${scheme}//.`);
  if (ca !== undefined) return { ca: readFileFlagSync('hub-ca', ca) };
  try {
    normalizeFingerprint(fingerprint!);
  } catch {
    throw new UsageError(`--hub-fingerprint must be a SHA-256 fingerprint (64 hex digits, colons allowed), got "${fingerprint}".`);
  }
  const problem = urls.map(pinProblem).find(Boolean);
  if (problem) throw new UsageError(problem);
  return { fingerprint: fingerprint! };
}
