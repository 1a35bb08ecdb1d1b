// A NATS `authorization { … }` block from the hub's agent list, for running the hub on a NATS
// cluster's MQTT gateway (`callpop hub nats-files --out DIR`; each node's nats-server.conf includes
// it). The rules are those of ./access.ts in NATS words (MQTT topic `a/b` is subject `a.b`):
//   - the hub's user publishes and subscribes the whole site;
//   - an agent subscribes to the site's status and directory and to its own extensions, both
//     `…ext.N` and `…ext.N.>` (NATS needs both for the MQTT filter `…/ext/N/#`), its own agent topic
//     (a supervisor also the board and every callback list), and publishes only
//     its own sync, action and callback requests;
//   - everyone with QoS-1 subscriptions needs `$MQTT.sub.>` (the gateway delivers through it);
//   - `allowed_connection_types: ["MQTT"]` keeps agents off the NATS protocol itself (where they
//     could read JetStream's API and others' sessions).
// NATS checks bcrypt hashes only, and the hub keeps no password: an agent's bcrypt hash is made when
// its password is set in a folder set up for NATS (./nats-hash.ts; the first nats-files run sets it
// up). An agent without a current one is left out and named: set its password again.
import { readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { TOPIC_ROOT, encodeAgentName, sitePattern } from '../../../../shared/hub-protocol';
import type { Agent } from '../accounts/agents';
import { hubUserName, readAgents } from '../accounts/agents';
import { hubBrokerPassword } from './mosquitto-files';
import { NATS_BCRYPT_COST, currentNatsHash, enableNatsHashes } from '../accounts/nats-hash';

export const natsAuthorizationFileName = 'nats-authorization.conf';

const subject = (site: string, ...levels: string[]): string => [...TOPIC_ROOT.split('/'), site, ...levels].join('.');
const list = (xs: readonly string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;

/** The authorization block for one site. Agents without a current NATS hash are left out (returned in `missing`). */
export function natsAuthorization(agents: readonly Agent[], site: string, hub: { user: string; password: string }): { text: string; missing: string[] } {
  if (!sitePattern.test(site)) throw new Error(`Invalid site: ${JSON.stringify(site)}`);
  const lines = [
    `# Written by \`callpop hub nats-files\` for site "${site}": include it in every node's nats-server.conf.`,
    '# Agents read only their own extensions and write only their own sync requests (see docs/deploy.md).',
    'authorization {',
    '  users: [',
    `    { user: ${JSON.stringify(hub.user)}, password: ${JSON.stringify(bcrypt.hashSync(hub.password, NATS_BCRYPT_COST))},`,
    `      permissions: { publish: { allow: ${list([subject(site, '>')])} }, subscribe: { allow: ${list([subject(site, '>'), '$MQTT.sub.>'])} } },`,
    '      allowed_connection_types: ["MQTT"] }',
  ];
  const missing: string[] = [];
  for (const a of agents) {
    const hash = currentNatsHash(a);
    if (!hash) {
      missing.push(a.name);
      continue;
    }
    // Its own agent topic (which extensions are its own), and a supervisor the board and every callback.
    const read = [
      subject(site, 'hub', 'status'),
      subject(site, 'directory'),
      subject(site, 'agent', encodeAgentName(a.name), 'extensions'),
      ...(a.role === 'supervisor' ? [subject(site, 'board'), subject(site, 'callbacks')] : []),
      ...a.extensions.flatMap((ext) => [subject(site, 'ext', ext), subject(site, 'ext', ext, '>')]),
      '$MQTT.sub.>',
    ];
    const write = a.extensions.flatMap((ext) => (['sync', 'actions', 'callbacks'] as const).map((kind) => subject(site, 'ext', ext, kind, 'req')));
    lines.push(
      `    { user: ${JSON.stringify(a.name)}, password: ${JSON.stringify(hash)},`,
      `      permissions: { publish: { allow: ${list(write)} }, subscribe: { allow: ${list(read)} } },`,
      '      allowed_connection_types: ["MQTT"] }',
    );
  }
  lines.push('  ]', '}');
  return { text: `${lines.join('\n')}\n`, missing };
}

/** The uid/gid of a local user from /etc/passwd (null if there is none). */
export function localUser(name: string): { uid: number; gid: number } | null {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    if (!line) return null;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return null;
  }
}

export interface NatsFilesResult {
  file: string;
  hubPasswordFile: string;
  agents: number;
  missing: string[];
  /** Who owns the file ("nats" when written as root for Debian's nats-server, else this user). */
  owner: string;
}

/**
 * Writes DIR/nats-authorization.conf, mode 0600: as root it is given to `owner` (default "nats",
 * the user Debian's nats-server runs as) so the broker, and only it, can read the hashes.
 */
export async function writeNatsFiles(dataDir: string, outDir: string, site: string, owner = 'nats'): Promise<NatsFilesResult> {
  await enableNatsHashes(dataDir);
  const agents = await readAgents(dataDir);
  const hub = await hubBrokerPassword(dataDir);
  const { text, missing } = natsAuthorization(agents, site, { user: hubUserName, password: hub.password });
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, natsAuthorizationFileName);
  const to = userInfo().uid === 0 ? localUser(owner) : null;
  const fh = await open(file, 'w', 0o600);
  try {
    await fh.chmod(0o600);
    if (to) await fh.chown(to.uid, to.gid);
    await fh.truncate(0);
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
  return { file, hubPasswordFile: hub.path, agents: agents.length - missing.length, missing, owner: to ? owner : userInfo().username };
}
