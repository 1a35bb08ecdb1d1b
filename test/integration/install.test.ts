// How a server gets the hub (docs/deploy.md, "Install the hub"): the npm package is packed
// (scripts/pack-cli.mjs), installed globally from its tarball into a temp prefix with no network, and
// its `callpop` runs the hub as a system user with no home (created here when the tests run as root),
// as the systemd unit runs it; without --data-dir that user gets one line saying to give one. The
// container files are checked statically (no container engine here): the Dockerfile's stages, user,
// volume, ports and command, the compose files' services, volumes, ports and users, and the image's
// command and environment are run against the installed package as the image's user would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { callpop, cliBuilt, repoRoot, startCallpop } from '../support/built-cli';
import { createSystemUser, removeSystemUser, systemUserSkipReason, type SystemUser } from '../support/system-user';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
let dir = '';
let installed = '';
let user: SystemUser | null = null;

beforeAll(async () => {
  if (!cliBuilt) return;
  dir = await mkdtemp(join(tmpdir(), 'callpop-install-'));
  await chmod(dir, 0o755);
  const tarball = execFileSync(process.execPath, [join(repoRoot, 'scripts/pack-cli.mjs')], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
  expect(tarball).toBe(join(repoRoot, `out/npm/callpop-cli-${version}.tgz`));
  const prefix = join(dir, 'prefix');
  execFileSync('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--cache', join(dir, 'npm-cache'), tarball], { stdio: 'pipe' });
  installed = join(prefix, 'bin/callpop');
  if (!systemUserSkipReason) user = createSystemUser();
}, 120_000);
afterAll(async () => {
  removeSystemUser(user);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!cliBuilt)('the npm package', () => {
  it('installs globally from its tarball with no network: `callpop` is the bundled CLI behind bin/callpop.mjs', async () => {
    expect(readlinkSync(installed)).toBe('../lib/node_modules/callpop-cli/bin/callpop.mjs');
    const pkg = JSON.parse(readFileSync(join(dir, 'prefix/lib/node_modules/callpop-cli/package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({ name: 'callpop-cli', version, bin: { callpop: 'bin/callpop.mjs' }, engines: { node: '>=20.19' } });
    expect(pkg.dependencies).toBeUndefined();
    expect(existsSync(join(dir, 'prefix/lib/node_modules/callpop-cli/deploy/callpop-hub.service'))).toBe(true);
    const help = await callpop(['hub', '--help'], { command: [installed] });
    expect([help.code, help.out.split('\n')[0]]).toEqual([0, expect.stringMatching(/^Usage: callpop hub /)]);
  });

  it.skipIf(systemUserSkipReason !== null)('runs `callpop hub` as a system user with no home; without --data-dir, one line saying to give one', async () => {
    const as = { uid: user!.uid, gid: user!.gid, env: { HOME: '/nonexistent' }, command: [installed], cwd: '/' };
    const noDir = await callpop(['hub', '--host', '127.0.0.1', '--port', '0', '--broker-port', '0'], as);
    expect([noDir.code, noDir.out]).toEqual([1, '']);
    expect(noDir.err).toBe(
      `callpop hub: cannot create /nonexistent as user ${user!.name} (EACCES). The default folder is in the home folder of ${user!.name}; for a service user give the hub's folder with --data-dir DIR (the systemd unit uses /var/lib/callpop-hub).\n`,
    );
    const data = join(dir, 'var-lib-callpop-hub');
    await mkdir(data, { mode: 0o700 });
    await chown(data, user!.uid, user!.gid);
    const hub = startCallpop(['hub', '--data-dir', data, '--host', '127.0.0.1', '--port', '0', '--broker-port', '0'], as);
    try {
      await hub.waitFor(/^Listening on http:\/\/127\.0\.0\.1:\d+\/webhook\/\S+$/m);
      await hub.waitFor(/^Broker on mqtt:\/\/127\.0\.0\.1:\d+$/m);
    } finally {
      expect((await hub.stop()).code).toBe(0);
    }
    expect(hub.err()).toMatch(/stopped\n$/);
  });
});

/** Dockerfile instructions: [keyword, rest] per logical line (continuations joined, comments dropped). */
function dockerfile(): [string, string][] {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l.trim())!;
      return [m[1]!.toUpperCase(), m[2]!];
    });
}

describe.skipIf(!cliBuilt)('the container files (checked statically: no container engine here)', () => {
  const steps = dockerfile();
  const final = steps.slice(steps.map(([k]) => k).lastIndexOf('FROM'));
  const get = (k: string): string[] => final.filter(([key]) => key === k).map(([, v]) => v);

  it('Dockerfile: Node >= 20.19 in both stages, the package installed from the tarball pack-cli makes, a non-root user, the data volume, the ports', () => {
    for (const [, from] of steps.filter(([k]) => k === 'FROM')) {
      const m = /^node:(\d+)\.(\d+)(?:\.\d+)?-bookworm-slim\b/.exec(from);
      expect(m && (Number(m[1]) > 20 || (Number(m[1]) === 20 && Number(m[2]) >= 19))).toBe(true);
    }
    expect(steps.some(([k, v]) => k === 'RUN' && v.includes('node scripts/build-cli.mjs && node scripts/pack-cli.mjs'))).toBe(true);
    expect(get('COPY')).toContain('--from=build /src/out/npm/callpop-cli-*.tgz /tmp/');
    expect(get('RUN')[0]).toMatch(/^npm install --global .*\/tmp\/callpop-cli-\*\.tgz/);
    expect(get('USER')).toEqual(['node']);
    expect(get('VOLUME')).toEqual(['/var/lib/callpop']);
    expect(get('EXPOSE')[0]!.split(/\s+/)).toEqual(['8765', '1883', '8083']);
    expect(get('ENV')).toEqual(['XDG_CONFIG_HOME=/var/lib/callpop']);
    // Every file the build stage copies by name is in the repository, and .dockerignore keeps out what the stage makes.
    for (const [, v] of steps.filter(([k, args]) => k === 'COPY' && !args.startsWith('--from'))) for (const src of v.split(/\s+/).slice(0, -1)) if (src !== '.') expect(existsSync(join(repoRoot, src))).toBe(true);
    expect(readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['node_modules', 'out']));
  });

  it.skipIf(systemUserSkipReason !== null)('the image\'s ENTRYPOINT + CMD with its ENV run the hub from the installed package as a non-root user', async () => {
    const entry = JSON.parse(get('ENTRYPOINT')[0]!) as string[];
    const cmd = JSON.parse(get('CMD')[0]!) as string[];
    expect(entry).toEqual(['callpop']);
    const [key, value] = get('ENV')[0]!.split('=') as [string, string];
    const volume = join(dir, 'volume');
    await mkdir(volume, { mode: 0o700 });
    await chown(volume, user!.uid, user!.gid);
    // The image's command, with free ports instead of the fixed ones (a later flag wins).
    const hub = startCallpop([...cmd, '--host', '127.0.0.1', '--port', '0', '--broker-port', '0'], {
      command: [installed],
      uid: user!.uid,
      gid: user!.gid,
      env: { HOME: '/nonexistent', [key]: value === '/var/lib/callpop' ? volume : value },
    });
    try {
      await hub.waitFor(/^Broker on mqtt:/m);
      expect(existsSync(join(volume, 'Callpop/hub/hub.json'))).toBe(true);
    } finally {
      expect((await hub.stop()).code).toBe(0);
    }
  });

  it('compose files: the hub from this Dockerfile as uid 1000 with its volume and ports; with Mosquitto, the files shared and the hub publishing to it', () => {
    type Service = { build?: { context: string; dockerfile: string }; user?: string; command: string[]; ports?: string[]; volumes?: string[]; image?: string; depends_on?: string[] };
    const load = (f: string) => yaml.load(readFileSync(join(repoRoot, 'deploy', f), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    const plain = load('compose.yaml');
    const hub = plain.services.hub!;
    expect(hub.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    expect(existsSync(join(repoRoot, 'deploy', hub.build!.context, hub.build!.dockerfile))).toBe(true);
    expect(hub.user).toBe('1000:1000');
    expect(hub.volumes).toContain('hub-data:/var/lib/callpop');
    expect(hub.ports).toEqual(['8765:8765', '1883:1883']);
    expect(hub.command).toEqual(['hub', '--port', '8765', '--broker-port', '1883']);
    expect(Object.keys(plain.volumes)).toEqual(['hub-data']);

    const withMosquitto = load('compose.mosquitto.yaml');
    const h = withMosquitto.services.hub!;
    const m = withMosquitto.services.mosquitto!;
    expect(h.command).toEqual(['hub', '--port', '8765', '--broker', 'mqtt://mosquitto:1883', '--broker-user', 'callpop-hub', '--broker-password-file', '/var/lib/callpop/Callpop/hub/hub-broker-password']);
    expect(h.depends_on).toEqual(['mosquitto']);
    expect(m.image).toMatch(/^eclipse-mosquitto:2\./);
    expect(h.volumes).toContain('mosquitto-config:/mosquitto/config');
    expect(m.volumes).toContain('mosquitto-config:/mosquitto/config');
    expect(m.ports).toEqual(['1883:1883']);
  });

  it.skipIf(systemUserSkipReason !== null)('compose.mosquitto.yaml\'s mosquitto-files command (as root, numeric owner of the Mosquitto image) writes what its mosquitto service reads', async () => {
    const text = readFileSync(join(repoRoot, 'deploy/compose.mosquitto.yaml'), 'utf8');
    const line = /run --rm --no-deps --user root hub (hub mosquitto-files .*)$/m.exec(text)![1]!;
    const args = line.split(' ');
    const out = join(dir, 'mosquitto-config');
    const data = join(dir, 'compose-hub');
    const r = await callpop([...args.map((a) => (a === '/mosquitto/config' ? out : a)), '--data-dir', data], { command: [installed] });
    expect(r.code).toBe(0);
    for (const f of ['password_file', 'acl_file']) expect(statSync(join(out, f)).uid).toBe(1883);
    const conf = readFileSync(join(out, 'mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/^listener 1883$/m);
    expect(conf).toContain(`password_file ${out}/password_file`);
  });
});
