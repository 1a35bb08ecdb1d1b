// `callpop hub mosquitto-files --out DIR`: what an external Mosquitto needs to serve the hub's agents:
// password_file and acl_file (owned by the user Mosquitto reads them as: --owner/--group, by default
// `mosquitto` when run as root), a complete mosquitto.conf (listeners, TLS, limits), and the hub's own
// broker password in the hub's data folder (owned by that folder's owner, the hub's service user).
import { resolve } from 'node:path';
import { isRoot, lookupGroup, lookupUser, type Owner } from '../core/config/unix-users';
import { writeMosquittoFiles } from '../core/hub/broker/mosquitto-files';
import { CliError, parseFlags, UsageError, type CliIo } from './args';
import { unreadableMessage } from './file-access';
import { flagPort, hubDataDir, parseSite } from './hub';

export const mosquittoFilesUsage = `Usage: callpop hub mosquitto-files --out DIR [--site NAME] [--data-dir DIR] [--owner USER] [--group GROUP]
                                  [--port 1883|none] [--bind ADDR] [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-port 8883]] [--ws-port N]
Writes DIR/password_file and DIR/acl_file for Mosquitto from the hub's agents (and the hub's own
user "callpop-hub", whose password it keeps in the data folder: pass that file to --broker-password-file),
and DIR/mosquitto.conf: the listeners, TLS and limits (each explained in the file).
  --owner USER, --group GROUP  who reads password_file and acl_file (mode 0600); default as root: mosquitto
  --port N|none          plain MQTT (default 1883; loopback only when TLS is given: for the hub on this machine)
  --bind ADDR            address of the agents' listeners (default: every address)
  --tls-cert, --tls-key  PEM files for mqtts:// (port --tls-port, default 8883) and wss://; readable by Mosquitto's user
  --tls-ca FILE          CA chain Mosquitto sends with the certificate
  --ws-port N            MQTT over WebSocket (wss:// with TLS)
Run it again after adding or removing agents, then reload Mosquitto (SIGHUP).`;

const options = {
  out: { type: 'string' },
  site: { type: 'string' },
  'data-dir': { type: 'string' },
  owner: { type: 'string' },
  group: { type: 'string' },
  port: { type: 'string' },
  bind: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-port': { type: 'string' },
  'ws-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Who reads the files: --owner/--group; as root without them, Debian's `mosquitto` user; else nobody else. */
function fileOwner(owner: string | undefined, group: string | undefined): { owner: Owner | null; name: string | null } {
  if (owner === undefined && group === undefined) {
    if (!isRoot()) return { owner: null, name: null };
    const m = lookupUser('mosquitto');
    if (!m) throw new UsageError('There is no "mosquitto" user here: say who runs Mosquitto with --owner USER (and --group GROUP).');
    return { owner: m, name: 'mosquitto' };
  }
  if (!isRoot()) throw new CliError(`--owner/--group: only root may give files to another user; run it with sudo.`);
  // A number is taken as is: the user may exist only in another container (eclipse-mosquitto's is 1883).
  const numeric = (v: string | undefined): number | null => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null);
  const ownerId = numeric(owner);
  const user = owner === undefined ? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 } : ownerId !== null ? { uid: ownerId, gid: ownerId } : lookupUser(owner);
  if (!user) throw new UsageError(`--owner: there is no user "${owner}".`);
  const gid = group !== undefined ? (numeric(group) ?? lookupGroup(group)) : user.gid;
  if (gid === null) throw new UsageError(`--group: there is no group "${group}".`);
  return { owner: { uid: user.uid, gid }, name: `${owner ?? 'root'}${group !== undefined ? `:${group}` : ''}` };
}

export async function runMosquittoFiles(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, options);
  if (values.help) {
    io.stdout(`${mosquittoFilesUsage}\n`);
    return 0;
  }
  if (!values.out) throw new UsageError('Give the folder to write to with --out DIR.');
  const site = parseSite(values.site);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together.');
  for (const f of ['tls-ca', 'tls-port'] as const) if (values[f] !== undefined && values['tls-cert'] === undefined) throw new UsageError(`--${f} needs --tls-cert and --tls-key.`);
  const port = values.port === 'none' ? null : values.port !== undefined ? flagPort('port', values.port) : 1883;
  const tls = values['tls-cert'] !== undefined ? { cert: resolve(values['tls-cert']), key: resolve(values['tls-key']!), ca: values['tls-ca'] !== undefined ? resolve(values['tls-ca']) : null } : null;
  const { owner, name } = fileOwner(values.owner, values.group);
  const dataDir = hubDataDir(io, values['data-dir']);
  let r: Awaited<ReturnType<typeof writeMosquittoFiles>>;
  try {
    r = await writeMosquittoFiles(dataDir, values.out, site, {
      owner,
      conf: {
        port,
        bind: values.bind ?? null,
        tls,
        tlsPort: values['tls-port'] !== undefined ? flagPort('tls-port', values['tls-port']) : null,
        wsPort: values['ws-port'] !== undefined ? flagPort('ws-port', values['ws-port']) : null,
      },
    });
  } catch (e) {
    const path = (e as NodeJS.ErrnoException).path;
    if (path && ['EACCES', 'EPERM'].includes((e as NodeJS.ErrnoException).code ?? '')) throw new CliError(unreadableMessage(null, path, e).replace('cannot read', 'cannot write'));
    throw e;
  }
  const plain = port !== null ? `mqtt://127.0.0.1:${port}` : tls ? `mqtts://THIS-HOST:${values['tls-port'] ?? 8883} --broker-ca CA-FILE` : 'mqtt://HOST:1883';
  io.stdout(`Wrote ${r.passwordFile} and ${r.aclFile} (${name ? `owner ${name}, ` : ''}mode 0600; ${r.agents} agent(s) + the hub's user callpop-hub, site "${site}") and ${r.confFile}.
Start Mosquitto with it: mosquitto -c ${r.confFile}
  or, with Debian's service: sudo ln -s ${r.confFile} /etc/mosquitto/conf.d/callpop.conf && sudo systemctl restart mosquitto
Run the hub with: callpop hub --broker ${plain} --broker-user callpop-hub --broker-password-file ${r.hubPasswordFile}\n`);
  if (r.withoutMosquittoPassword.length > 0) {
    io.stdout(`Not in the password_file yet (added before this folder was set up for Mosquitto; set their password again with "callpop hub agent passwd NAME", then run this again): ${r.withoutMosquittoPassword.join(', ')}\n`);
  }
  return 0;
}
