// `callpop hub`: one webhook URL for the whole PBX, every agent's calls through an MQTT broker.
//   callpop hub [options]                      run the hub (prints "Listening on URL", "Broker on mqtt://…")
//   callpop hub agent add|remove|list …        manage who may connect
//   callpop hub mosquitto-files --out DIR      password_file + acl_file for an external Mosquitto
// SIGINT/SIGTERM: stop accepting, write what was accepted, publish "offline", exit 0.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SITE, sitePattern } from '../../shared/hub-protocol';
import type { Logger } from '../../shared/log';
import { CallLogInUseError } from '../core/call-log/lock';
import { defaultDataDir } from '../core/config/paths';
import { AgentError, addAgent, listAgents, parseAgentName, removeAgent } from '../core/hub/agents';
import { startHub, type BrokerConfig, type Hub } from '../core/hub/hub';
import { writeMosquittoFiles } from '../core/hub/mosquitto-files';
import { parseRole, runQueue } from './hub-queue';
import { buildAllowList } from '../core/listener/listener';
import { parseExtension, parseFlags, parsePort, printable, UsageError, type CliIo } from './args';
import { clock, updateLine } from './format';

export const hubUsage = `Usage: callpop hub [--site NAME] [--data-dir DIR] [--port 8765] [--host 0.0.0.0] [--allow IP,CIDR,...]
                  [--broker-port 1883] [--broker-ws-port N] [--broker-host ADDR] [--tls-cert FILE --tls-key FILE] [--board-port N]
                  [--broker mqtt(s)://HOST:PORT --broker-user USER --broker-password-file FILE [--broker-ca FILE]]
       callpop hub agent add NAME --extension EXT [--extension EXT ...] [--display-name TEXT] [--password-stdin] [--role agent|supervisor]
       callpop hub agent remove NAME
       callpop hub agent list [--json]
       callpop hub mosquitto-files --out DIR [--site NAME]

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
  --broker URL            publish to this external broker instead (Mosquitto, EMQX, …) as --broker-user
  --board-port N          serve the supervisors' live board (and MQTT over WebSocket at /mqtt) on this port
Agents (all take --data-dir; changes reach a running hub within a second, removal cuts connections):
  agent add NAME          prints the generated password as the last line (or reads one with --password-stdin);
                          --role supervisor may also watch the board (--board-port) and needs no extension
  queue set|remove|list   queue names and members (see: callpop hub queue --help)
Prints "Listening on URL": paste URL into WEBHOOK_URL in WebhooksApi.ini.`;

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
  broker: { type: 'string' },
  'broker-user': { type: 'string' },
  'broker-password-file': { type: 'string' },
  'broker-ca': { type: 'string' },
  'board-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function stderrLogger(io: CliIo): Logger {
  const line = (level: string) => (m: string) => io.stderr(`${clock(new Date())} ${level}${printable(m)}\n`);
  return { debug() {}, info: line(''), warn: line('warning: '), error: line('error: ') };
}

const hubDataDir = (io: CliIo, given: string | undefined): string => given ?? join(defaultDataDir(io.env ?? process.env), 'hub');

function flagPort(name: string, value: string): number {
  try {
    return parsePort(value);
  } catch {
    throw new UsageError(`--${name} must be a number from 0 to 65535, got "${value}".`);
  }
}

function parseSite(value: string | undefined): string {
  const site = value ?? DEFAULT_SITE;
  if (!sitePattern.test(site)) throw new UsageError(`--site must be 1 to 64 letters, digits, _ or -; got "${site}".`);
  return site;
}

async function readFileFlag(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new UsageError(`--${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function runHub(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'agent') return runAgent(rest, io);
  if (sub === 'mosquitto-files') return runMosquittoFiles(rest, io);
  if (sub === 'queue') return runQueue(rest, io, hubDataDir);
  if (sub !== undefined && !sub.startsWith('-')) throw new UsageError(`Unknown hub command "${sub}". Commands: agent, queue, mosquitto-files (or options to run the hub).`);
  const { values } = parseFlags(argv, runOptions);
  if (values.help) {
    io.stdout(`${hubUsage}\n`);
    return 0;
  }
  const site = parseSite(values.site);
  const port = values.port !== undefined ? flagPort('port', values.port) : 8765;
  const host = values.host?.trim() ?? '0.0.0.0';
  if (host === '') throw new UsageError('--host must not be empty.');
  const allow = values.allow !== undefined ? values.allow.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  if (allow) {
    try {
      buildAllowList(allow);
    } catch (e) {
      throw new UsageError(`--allow: ${(e as Error).message}`);
    }
  }
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
    let url: URL;
    try {
      url = new URL(values.broker!);
    } catch {
      throw new UsageError(`--broker must be a URL like mqtts://broker.example.com:8883, got "${values.broker}".`);
    }
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol)) throw new UsageError(`--broker must use mqtt://, mqtts://, ws:// or wss://, got "${url.protocol}".`);
    if (url.username || url.password) throw new UsageError('--broker must not contain a user or password; use --broker-user and --broker-password-file.');
    const password = values['broker-password-file'] !== undefined ? (await readFileFlag('broker-password-file', values['broker-password-file'])).toString('utf8').trim() : undefined;
    const ca = values['broker-ca'] !== undefined ? await readFileFlag('broker-ca', values['broker-ca']) : undefined;
    broker = { kind: 'external', url: values.broker!, username: values['broker-user'], password, ca };
  } else {
    broker = {
      kind: 'embedded',
      host: values['broker-host']?.trim() || host,
      port: values['broker-port'] !== undefined ? flagPort('broker-port', values['broker-port']) : 1883,
      wsPort: values['broker-ws-port'] !== undefined ? flagPort('broker-ws-port', values['broker-ws-port']) : null,
    };
  }
  const tls = values['tls-cert'] !== undefined ? { cert: await readFileFlag('tls-cert', values['tls-cert']), key: await readFileFlag('tls-key', values['tls-key']!) } : null;

  const board = values['board-port'] !== undefined ? { port: flagPort('board-port', values['board-port']) } : null;
  const logger = stderrLogger(io);
  let hub: Hub;
  try {
    hub = await startHub({ dataDir: hubDataDir(io, values['data-dir']), site, host, port, allowedSources: allow, tls, broker, logger, board });
  } catch (e) {
    const advice = e instanceof CallLogInUseError ? ' (another callpop hub is running on this data folder). Stop it first, or give another --data-dir.' : '';
    io.stderr(`callpop hub: ${printable((e as Error).message)}${advice}\n`);
    return 1;
  }
  const [url, ...others] = hub.webhookUrls;
  io.stdout(`Listening on ${url}\n`);
  for (const other of others) io.stdout(`  also reachable as ${other}\n`);
  if (hub.embedded) {
    io.stdout(`Broker on ${hub.brokerUrl}\n`);
    if (hub.brokerWsUrl) io.stdout(`Broker on ${hub.brokerWsUrl} (MQTT over WebSocket)\n`);
  } else io.stdout(`Publishing to ${hub.brokerUrl}\n`);
  if (hub.boardUrl) io.stdout(`Board on ${hub.boardUrl} (supervisors log in; MQTT over WebSocket at /mqtt)\n`);
  io.stdout(`Site "${site}". Press Ctrl+C to stop.\n`);
  hub.onChange((changes) => {
    for (const c of changes) io.stdout(`${updateLine(c.update, new Date())} (ext ${printable(c.update.record.extension)}, seq ${c.seq})\n`);
  });

  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) return resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await hub.close();
  io.stderr(`${clock(new Date())} stopped\n`);
  return 0;
}

const agentUsage = `Usage: callpop hub agent add NAME --extension EXT [--extension EXT ...] [--display-name TEXT] [--password-stdin] [--role agent|supervisor] [--data-dir DIR]
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
    role: { type: 'string' },
    'data-dir': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  if (action === undefined || action === '--help' || action === '-h') {
    io.stdout(`${agentUsage}\n`);
    return action === undefined ? 2 : 0;
  }
  if (!['add', 'remove', 'list'].includes(action)) throw new UsageError(`Unknown agent command "${action}". Use add, remove or list.`);
  const { values, positionals } = parseFlags(rest, options, true);
  if (values.help) {
    io.stdout(`${agentUsage}\n`);
    return 0;
  }
  const dataDir = hubDataDir(io, values['data-dir']);
  const only = (allowed: string[]): void => {
    for (const f of ['extension', 'display-name', 'password-stdin', 'json', 'role'] as const) {
      if (values[f] !== undefined && !allowed.includes(f)) throw new UsageError(`--${f} is not an option of "agent ${action}".`);
    }
  };
  try {
    if (action === 'list') {
      only(['json']);
      if (positionals.length > 0) throw new UsageError('agent list takes no names.');
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
      io.stdout(`Removed agent ${name}; a running hub closes its connections.\n`);
      return 0;
    }
    only(['extension', 'display-name', 'password-stdin', 'role']);
    parseAgentName(name);
    const role = parseRole(values.role);
    const extensions = (values.extension ?? []).map(parseExtension);
    if (extensions.length === 0 && role !== 'supervisor') throw new UsageError('Give the agent at least one --extension EXT.');
    let password: string | undefined;
    if (values['password-stdin']) {
      password = (await readStdin()).replace(/\r?\n$/, '');
      if (password.length < 8) throw new UsageError('The password from stdin must be at least 8 characters.');
    }
    const r = await addAgent(dataDir, { name, extensions, displayName: values['display-name'] ?? null, password, role });
    io.stdout(`${r.replaced ? 'Replaced' : 'Added'} ${role === 'supervisor' ? 'supervisor' : 'agent'} ${name} (${extensions.length === 0 ? 'no extension' : `extension${extensions.length > 1 ? 's' : ''} ${extensions.join(', ')}`}). ${values['password-stdin'] ? 'Password set from stdin.' : 'Password (shown once):'}\n`);
    if (!values['password-stdin']) io.stdout(`${r.password}\n`);
    return 0;
  } catch (e) {
    if (e instanceof AgentError) throw new UsageError(e.message);
    throw e;
  }
}

async function runMosquittoFiles(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { out: { type: 'string' }, site: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const);
  if (values.help) {
    io.stdout(`Usage: callpop hub mosquitto-files --out DIR [--site NAME] [--data-dir DIR]
Writes DIR/password_file and DIR/acl_file for Mosquitto from the hub's agents (and the hub's own
user "callpop-hub", whose password it keeps in the data folder: pass that file to --broker-password-file).\n`);
    return 0;
  }
  if (!values.out) throw new UsageError('Give the folder to write to with --out DIR.');
  const site = parseSite(values.site);
  const dataDir = hubDataDir(io, values['data-dir']);
  const r = await writeMosquittoFiles(dataDir, values.out, site);
  io.stdout(`Wrote ${r.passwordFile} and ${r.aclFile} (${r.agents} agent(s) + the hub's user callpop-hub, site "${site}").
In mosquitto.conf: password_file ${r.passwordFile}
                   acl_file ${r.aclFile}
                   allow_anonymous false
Run the hub with: callpop hub --broker mqtt://HOST:1883 --broker-user callpop-hub --broker-password-file ${r.hubPasswordFile}\n`);
  return 0;
}
