// `callpop hub`: one webhook URL for the whole PBX, every agent's calls through an MQTT broker.
//   callpop hub [options]                      run the hub (prints "Listening on URL", "Broker on mqtt://…")
//   callpop hub agent add|remove|list …        manage who may connect
//   callpop hub mosquitto-files --out DIR      password_file, acl_file and mosquitto.conf for an external Mosquitto
// SIGINT/SIGTERM: stop accepting, write what was accepted, publish "offline", exit 0.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SITE, sitePattern } from '../../shared/hub-protocol';
import type { Logger } from '../../shared/diagnostics-log';
import { CallLogInUseError } from '../core/call-log/lock';
import { defaultDataDir } from '../core/config/paths';
import { AgentError, AgentExistsError, addAgent, generatePassword, listAgents, parseAgentName, removeAgent } from '../core/hub/accounts/agents';
import { hubLogDirName, startHub, type BrokerConfig, type Hub } from '../core/hub/hub';
import { waitForHubToApply } from '../core/hub/accounts/agents-applied';
import type { BrokerState } from '../core/hub/broker/external-broker';
import { writeNatsFiles } from '../core/hub/broker/nats-files';
import { addressListProblem } from '../core/listener/listener';
import { CliError, parseAllowFlag, parseExtension, parseFlags, parsePort, printable, UsageError, type CliIo } from './args';
import { actionOptions, actionUsage, callControlOptions, callControlUsage, parseActionFlags, parseCallControlFlags } from './call-control-flags';
import { attachCallControl } from '../core/call-control/hub-source';
import { callControlExecutor, startHubActions, webApiExecutor } from '../core/call-control/hub-actions';
import { dataFolderProblem, unreadableMessage } from './file-access';
import { watchTlsFiles } from './hub-tls-reload';
import { parseRole, runQueue } from './hub-queue';
import { clock, updateLine } from './format';
import { runMosquittoFiles as runMosquittoFilesCommand } from './hub-mosquitto-files';
import { agentExistsMessage, holdsHub, noHubMessage, noteExternalBroker, noteSharedExtensions, runAgentPasswd, runAgentSet } from './hub-agent-change';

export const hubUsage = `Usage: callpop hub [--site NAME] [--data-dir DIR] [--port 8765] [--host 0.0.0.0] [--allow IP,CIDR,...]
                  [--broker-port 1883] [--broker-ws-port N] [--broker-host ADDR] [--tls-cert FILE --tls-key FILE] [--board-port N]
                  [--broker mqtt(s)://HOST:PORT[,mqtt(s)://HOST2:PORT ...] --broker-user USER --broker-password-file FILE [--broker-ca FILE]]
       callpop hub agent add NAME --extension EXT [--extension EXT ...] [--display-name TEXT] [--password-stdin] [--role agent|supervisor] [--replace]
       callpop hub agent set NAME [--extension EXT ...] [--display-name TEXT]
       callpop hub agent passwd NAME [--password-stdin]
       callpop hub agent remove NAME
       callpop hub agent list [--json]
       callpop hub mosquitto-files --out DIR [--site NAME] [--owner USER] [--group GROUP] [--tls-cert FILE --tls-key FILE] [--ws-port N] …
       callpop hub nats-files --out DIR [--site NAME] [--owner USER]

Receives the PBX's 3CX WebAPI webhooks (one URL for the whole PBX), tracks every extension, and
publishes each agent's calls through an MQTT broker that desktops connect to (outbound only).
  --site NAME             names this PBX on the broker (default "default")
  --data-dir DIR          the hub's folder: agents, webhook secret, PBX-wide call log (default: Callpop/hub in the user's config folder)
  --port N, --host ADDR   webhook listener (default 8765 on 0.0.0.0; port 0 = any free port)
  --allow LIST            only accept webhooks from these IPs/ranges
  --tls-cert, --tls-key   PEM files: HTTPS for the webhooks and TLS for the embedded broker
  --broker-port N         embedded broker's MQTT port (default 1883; 0 = any free port)
  --broker-ws-port N      also serve MQTT over WebSocket on this port
  --broker-host ADDR      embedded broker's address (default: --host)
  --broker URL            publish to this external broker instead (Mosquitto, NATS, EMQX, …) as --broker-user;
                          the nodes of a cluster: a comma list or --broker again (a lost node: the next one)
  --board-port N          serve the supervisors' live board (and MQTT over WebSocket at /mqtt) on this port
Agents (all take --data-dir; changes reach a running hub within a second, removal cuts connections):
  agent add NAME          prints the generated password as the last line (or reads one with --password-stdin);
                          an existing NAME is refused unless --replace; --role supervisor may also watch
                          the board (--board-port) and needs no extension
  agent passwd NAME       a new password (printed last, or --password-stdin); agent set: extensions, display name
  queue set|remove|list   queue names and members (see: callpop hub queue --help)
Prints "Listening on URL": paste URL into WEBHOOK_URL in WebhooksApi.ini.
${callControlUsage}
${actionUsage}`;

const runOptions = {
  site: { type: 'string' },
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  allow: { type: 'string' },
  'broker-port': { type: 'string' },
  'broker-ws-port': { type: 'string' },
  'broker-host': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  broker: { type: 'string', multiple: true },
  'broker-user': { type: 'string' },
  'broker-password-file': { type: 'string' },
  'broker-ca': { type: 'string' },
  ...callControlOptions,
  ...actionOptions,
  'board-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function stderrLogger(io: CliIo): Logger {
  const line = (level: string) => (m: string) => io.stderr(`${clock(new Date())} ${level}${printable(m)}\n`);
  return { debug() {}, info: line(''), warn: line('warning: '), error: line('error: ') };
}

export const hubDataDir = (io: CliIo, given: string | undefined): string => given ?? join(defaultDataDir(io.env ?? process.env), 'hub');

export function flagPort(name: string, value: string): number {
  try {
    return parsePort(value);
  } catch {
    throw new UsageError(`--${name} must be a number from 0 to 65535, got "${value}".`);
  }
}

export function parseSite(value: string | undefined): string {
  const site = value ?? DEFAULT_SITE;
  if (!sitePattern.test(site)) throw new UsageError(`--site must be 1 to 64 letters, digits, _ or -; got "${site}".`);
  return site;
}

async function readFileFlag(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new CliError(unreadableMessage(flag, path, e));
  }
}

/** `--broker` values: repeated flags and comma lists, each an mqtt(s)/ws(s) URL without credentials. */
export function brokerUrls(values: readonly string[]): string[] {
  const urls = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (urls.length === 0) throw new UsageError('--broker needs a URL like mqtts://broker.example.com:8883.');
  if (urls.length > 16) throw new UsageError(`--broker takes at most 16 URLs (the nodes of one cluster), got ${urls.length}.`);
  for (const value of urls) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new UsageError(`--broker must be a URL like mqtts://broker.example.com:8883, got "${value}".`);
    }
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol)) throw new UsageError(`--broker must use mqtt://, mqtts://, ws:// or wss://, got "${url.protocol}".`);
    if (url.username || url.password) throw new UsageError('--broker must not contain a user or password; use --broker-user and --broker-password-file.');
  }
  return urls;
}

export async function runHub(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'agent') return runAgent(rest, io);
  if (sub === 'mosquitto-files') return runMosquittoFiles(rest, io);
  if (sub === 'nats-files') return runNatsFiles(rest, io);
  if (sub === 'queue') return runQueue(rest, io, hubDataDir);
  if (sub !== undefined && !sub.startsWith('-')) throw new UsageError(`Unknown hub command "${sub}". Commands: agent, queue, mosquitto-files, nats-files (or options to run the hub).`);
  const { values } = parseFlags(argv, runOptions);
  if (values.help) {
    io.stdout(`${hubUsage}\n`);
    return 0;
  }
  const site = parseSite(values.site);
  const port = values.port !== undefined ? flagPort('port', values.port) : 8765;
  const host = values.host?.trim() ?? '0.0.0.0';
  if (host === '') throw new UsageError('--host must not be empty.');
  const allow = parseAllowFlag(values.allow);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together.');
  const external = values.broker !== undefined;
  for (const f of ['broker-port', 'broker-ws-port', 'broker-host', 'board-port'] as const) {
    if (external && values[f] !== undefined) throw new UsageError(`--${f} is for the embedded broker; it cannot be combined with --broker.`);
  }
  for (const f of ['broker-user', 'broker-password-file', 'broker-ca'] as const) {
    if (!external && values[f] !== undefined) throw new UsageError(`--${f} needs --broker URL.`);
  }
  let broker: BrokerConfig;
  if (external) {
    const urls = brokerUrls(values.broker!);
    const password = values['broker-password-file'] !== undefined ? (await readFileFlag('broker-password-file', values['broker-password-file'])).toString('utf8').trim() : undefined;
    const ca = values['broker-ca'] !== undefined ? await readFileFlag('broker-ca', values['broker-ca']) : undefined;
    broker = { kind: 'external', url: urls, username: values['broker-user'], password, ca };
  } else {
    broker = {
      kind: 'embedded',
      host: values['broker-host']?.trim() || host,
      port: values['broker-port'] !== undefined ? flagPort('broker-port', values['broker-port']) : 1883,
      wsPort: values['broker-ws-port'] !== undefined ? flagPort('broker-ws-port', values['broker-ws-port']) : null,
    };
  }
  const callControl = await parseCallControlFlags(values);
  const actions = await parseActionFlags(values, callControl !== null);
  const tls = values['tls-cert'] !== undefined ? { cert: await readFileFlag('tls-cert', values['tls-cert']), key: await readFileFlag('tls-key', values['tls-key']!) } : null;

  const board = values['board-port'] !== undefined ? { port: flagPort('board-port', values['board-port']) } : null;
  const logger = stderrLogger(io);
  let hub: Hub;
  try {
    const advertised = callControl ? ['call', 'hangup', 'transfer', 'answer'] : actions.webApi ? ['call'] : [];
    hub = await startHub({ dataDir: hubDataDir(io, values['data-dir']), site, host, port, allowedSources: allow, tls, broker, logger, actions: advertised, signal: io.signal, board });
  } catch (e) {
    const advice = e instanceof CallLogInUseError ? ' (another callpop hub is running on this data folder). Stop it first, or give another --data-dir.' : '';
    const denied = dataFolderProblem(e, values['data-dir'] === undefined);
    io.stderr(`callpop hub: ${denied ?? `${printable((e as Error).message)}${advice}`}\n`);
    return 1;
  }
  const [url, ...others] = hub.webhookUrls;
  const noAddresses = addressListProblem();
  if (noAddresses) logger.warn(`cannot list this machine's network addresses (${noAddresses}); the URLs show its host name: use the address the PBX reaches it on`);
  io.stdout(`Listening on ${url}\n`);
  for (const other of others) io.stdout(`  also reachable as ${other}\n`);
  if (hub.embedded) {
    io.stdout(`Broker on ${hub.brokerUrl}\n`);
    if (hub.brokerWsUrl) io.stdout(`Broker on ${hub.brokerWsUrl} (MQTT over WebSocket)\n`);
  } else io.stdout(`Publishing to ${hub.brokerUrl}\n`);
  if (hub.boardUrl) io.stdout(`Board on ${hub.boardUrl} (supervisors log in; MQTT over WebSocket at /mqtt)\n`);
  io.stdout(`Site "${site}". Press Ctrl+C to stop.\n`);
  const stopWatchingTls = values['tls-cert'] !== undefined ? watchTlsFiles(hub, values['tls-cert'], values['tls-key']!, logger) : () => {};
  // The hub's state line: a stalled or lost broker holds every pop back, so it is said where the changes are.
  const brokerLine = (state: BrokerState): void => io.stdout(`${clock(new Date())} broker ${state === 'connected' ? 'connected' : state === 'stalled' ? 'stalled: not confirming messages' : 'lost: reconnecting'}\n`);
  if (!hub.embedded) brokerLine(hub.brokerState);
  hub.onBrokerState(brokerLine);
  hub.onChange((changes) => {
    for (const c of changes) io.stdout(`${updateLine(c, new Date())} (ext ${printable(c.record.extension)}, seq ${c.seq})\n`);
  });
  const cc = callControl && (await attachCallControl(hub, { ...callControl, dataDir: hubDataDir(io, values['data-dir']), logger }));
  const executor = cc ? callControlExecutor(cc) : actions.webApi && webApiExecutor(actions.webApi);
  startHubActions(hub, { site, executor, logger, dialAllow: actions.dialAllow });

  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) return resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  stopWatchingTls();
  await cc?.close();
  await hub.close();
  io.stderr(`${clock(new Date())} stopped\n`);
  return 0;
}

const agentUsage = `Usage: callpop hub agent add NAME --extension EXT [--extension EXT ...] [--display-name TEXT] [--password-stdin] [--role agent|supervisor] [--replace] [--data-dir DIR]
       callpop hub agent set NAME [--extension EXT ...] [--display-name TEXT] [--data-dir DIR]
       callpop hub agent passwd NAME [--password-stdin] [--data-dir DIR]
       callpop hub agent remove NAME [--data-dir DIR]
       callpop hub agent list [--json] [--data-dir DIR]
An agent is a broker login: NAME is the user name, the password is printed once (stored only hashed).`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function runAgent(argv: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = argv;
  const options = {
    extension: { type: 'string', multiple: true },
    'display-name': { type: 'string' },
    'password-stdin': { type: 'boolean' },
    replace: { type: 'boolean' },
    role: { type: 'string' },
    'data-dir': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  if (action === undefined || action === '--help' || action === '-h') {
    io.stdout(`${agentUsage}\n`);
    return action === undefined ? 2 : 0;
  }
  if (!['add', 'remove', 'list', 'set', 'passwd'].includes(action)) throw new UsageError(`Unknown agent command "${action}". Use add, set, passwd, remove or list.`);
  const { values, positionals } = parseFlags(rest, options, true);
  if (values.help) {
    io.stdout(`${agentUsage}\n`);
    return 0;
  }
  const dataDir = hubDataDir(io, values['data-dir']);
  const only = (allowed: string[]): void => {
    for (const f of ['extension', 'display-name', 'password-stdin', 'json', 'replace', 'role'] as const) {
      if (values[f] !== undefined && !allowed.includes(f)) throw new UsageError(`--${f} is not an option of "agent ${action}".`);
    }
  };
  try {
    if (action === 'list') {
      only(['json']);
      if (positionals.length > 0) throw new UsageError('agent list takes no names.');
      if (!(await holdsHub(dataDir))) {
        io.stderr(`callpop hub: ${noHubMessage(dataDir)}\n`);
        return 1;
      }
      const agents = await listAgents(dataDir);
      if (values.json) io.stdout(`${JSON.stringify(agents, null, 2)}\n`);
      else if (agents.length === 0) io.stdout(`No agents yet. Add one with: callpop hub agent add NAME --extension EXT\n`);
      else for (const a of agents) io.stdout(`${a.name}\t${a.extensions.join(',')}\t${printable(a.displayName ?? '')}${a.role === 'agent' ? '' : `\t${a.role}`}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`agent ${action} takes one NAME.`);
    const name = positionals[0]!;
    if (action === 'remove') {
      only([]);
      if (!(await removeAgent(dataDir, name))) {
        io.stderr(`callpop hub: no agent named ${JSON.stringify(name)}.\n`);
        return 1;
      }
      io.stdout(`Removed agent ${name}.\n`);
      return hubApplied(dataDir, io);
    }
    if (action === 'set') {
      only(['extension', 'display-name']);
      const rc = await runAgentSet(io, dataDir, name, { extensions: (values.extension ?? []).map(parseExtension), displayName: values['display-name'] });
      return rc === 0 ? hubApplied(dataDir, io) : rc;
    }
    const readPassword = async (): Promise<string | undefined> => {
      if (!values['password-stdin']) return undefined;
      const password = (await readStdin()).replace(/\r?\n$/, '');
      if (password.length < 8) throw new UsageError('The password from stdin must be at least 8 characters.');
      return password;
    };
    if (action === 'passwd') {
      only(['password-stdin']);
      const rc = await runAgentPasswd(io, dataDir, name, await readPassword(), generatePassword);
      return rc === 0 ? hubApplied(dataDir, io) : rc;
    }
    only(['extension', 'display-name', 'password-stdin', 'replace', 'role']);
    parseAgentName(name);
    const role = parseRole(values.role);
    const extensions = (values.extension ?? []).map(parseExtension);
    if (extensions.length === 0 && role !== 'supervisor') throw new UsageError('Give the agent at least one --extension EXT.');
    const password = await readPassword();
    let r: Awaited<ReturnType<typeof addAgent>>;
    try {
      r = await addAgent(dataDir, { name, extensions, displayName: values['display-name'] ?? null, password, replace: values.replace === true, role });
    } catch (e) {
      if (!(e instanceof AgentExistsError)) throw e;
      io.stderr(`callpop hub: ${agentExistsMessage(e.agent)}\n`);
      return 1;
    }
    await noteSharedExtensions(io, dataDir, name, extensions);
    await noteExternalBroker(io, dataDir);
    io.stdout(`${r.replaced ? 'Replaced' : 'Added'} ${role === 'supervisor' ? 'supervisor' : 'agent'} ${name} (${extensions.length === 0 ? 'no extension' : `extension${extensions.length > 1 ? 's' : ''} ${extensions.join(', ')}`}). ${values['password-stdin'] ? 'Password set from stdin.' : 'Password (shown once):'}\n`);
    if (!values['password-stdin']) io.stdout(`${r.password}\n`);
    return r.replaced ? hubApplied(dataDir, io) : 0;
  } catch (e) {
    if (e instanceof AgentError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * After a removal or a change: exits 0 only once a running hub has applied it (said on stderr, so a
 * password printed on stdout stays its last line) (no old login succeeds,
 * nothing more reaches those connections), or says that no hub runs on this data folder.
 */
async function hubApplied(dataDir: string, io: CliIo): Promise<number> {
  const r = await waitForHubToApply(dataDir, join(dataDir, hubLogDirName));
  if (r.state === 'applied' && r.broker === 'external') {
    io.stderr('The running hub applied it. Its external broker (Mosquitto) still needs `callpop hub mosquitto-files` and a reload (SIGHUP) before old logins are refused.\n');
    return 0;
  }
  if (r.state === 'applied') {
    io.stderr('The running hub applied it: old logins are refused and their connections closed.\n');
    return 0;
  }
  if (r.state === 'no-hub') {
    io.stderr(`No hub is running on ${dataDir}; it applies when the hub starts.\n`);
    return 0;
  }
  io.stderr(`callpop hub: the hub running on ${dataDir} (process ${r.pid}) did not apply the change within 10 s; its old logins may still work. Check its log, or restart it.\n`);
  return 1;
}

async function runMosquittoFiles(argv: string[], io: CliIo): Promise<number> {
  // ./hub-mosquitto-files.ts: owners, modes and mosquitto.conf.
  return runMosquittoFilesCommand(argv, io);
}

async function runNatsFiles(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { out: { type: 'string' }, site: { type: 'string' }, owner: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const);
  if (values.help) {
    io.stdout(`Usage: callpop hub nats-files --out DIR [--site NAME] [--owner USER] [--data-dir DIR]
Writes DIR/nats-authorization.conf: a NATS authorization block (the hub's user "callpop-hub" and one
user per agent, each limited to its own extensions, MQTT connections only) for every node of a NATS
cluster to include. Mode 0600; written as root it is given to USER (default nats, Debian's nats-server).\n`);
    return 0;
  }
  if (!values.out) throw new UsageError('Give the folder to write to with --out DIR.');
  const site = parseSite(values.site);
  const dataDir = hubDataDir(io, values['data-dir']);
  const r = await writeNatsFiles(dataDir, values.out, site, values.owner ?? 'nats');
  io.stdout(`Wrote ${r.file} (${r.agents} agent(s) + the hub's user callpop-hub, site "${site}"; owner ${r.owner}, mode 0600).
In each node's nats-server.conf: include ${r.file}
Run the hub with: callpop hub --broker mqtt://NODE1:1883,mqtt://NODE2:1883,mqtt://NODE3:1883 --broker-user callpop-hub --broker-password-file ${r.hubPasswordFile}\n`);
  if (r.missing.length > 0) io.stderr(`callpop hub: left out ${r.missing.join(', ')}: no NATS password hash yet (made when a password is set); set their password again.\n`);
  return 0;
}
