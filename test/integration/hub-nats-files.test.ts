// `callpop hub nats-files --out DIR`: the NATS authorization block from the hub's agent list (real
// files, the real CLI entry). Each agent gets both `…ext.N` and `…ext.N.>` (NATS needs both for the
// MQTT filter `…/ext/N/#`), `$MQTT.sub.>` for QoS-1 subscriptions, MQTT connections only, and may
// publish only its own sync requests; an agent whose password predates its NATS hash (or changed by
// another path since) is left out and named; only a folder set up for NATS (by the first run) keeps
// bcrypt hashes at all; the file is 0600 and, written as root, owned by `nats`.
// That NATS itself enforces these rules is tested on a real cluster (hub-nats-cluster.test.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { main as cliMain } from '../../main/cli/index';
import { addAgent, agentsFilePath, removeAgent } from '../../main/core/hub/accounts/agents';
import { hubBrokerPassword } from '../../main/core/hub/broker/mosquitto-files';
import { localUser } from '../../main/core/hub/broker/nats-files';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-nats-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = { out: '', err: '' };
  const code = await cliMain(args, { stdout: (s) => (io.out += s), stderr: (s) => (io.err += s), env: { ...process.env, XDG_CONFIG_HOME: dir } });
  return { code, ...io };
}

describe('callpop hub nats-files', () => {
  it('writes one user per agent limited to its extensions, the hub user for the site, 0600, and names agents it must leave out', async () => {
    const data = join(dir, 'hub');
    // An agent added before the folder was set up for NATS has no bcrypt hash: the first run says so.
    await addAgent(data, { name: 'early', extensions: ['400'] });
    expect(JSON.parse(await readFile(agentsFilePath(data), 'utf8')).agents[0]).not.toHaveProperty('natsHash');
    const first = await run(['hub', 'nats-files', '--out', join(dir, 'out'), '--site', 'acme', '--data-dir', data]);
    expect([first.code, first.err]).toEqual([0, 'callpop hub: left out early: no NATS password hash yet (made when a password is set); set their password again.\n']);
    await removeAgent(data, 'early');
    const anna = await addAgent(data, { name: 'anna', extensions: ['117', '118'], displayName: 'Anna' });
    await addAgent(data, { name: 'bob.k', extensions: ['204'] });
    await addAgent(data, { name: 'old', extensions: ['300'] });
    await addAgent(data, { name: 'changed', extensions: ['301'] });
    // An agent from before NATS hashes, and one whose password another path changed: both left out.
    const file = JSON.parse(await readFile(agentsFilePath(data), 'utf8')) as { agents: { name: string; natsHash?: { for: string }; mosquittoHash: string }[] };
    delete file.agents.find((a) => a.name === 'old')!.natsHash;
    file.agents.find((a) => a.name === 'changed')!.natsHash!.for = 'scrypt$16384$8$1$older$hash';
    await writeFile(agentsFilePath(data), JSON.stringify(file));

    const r = await run(['hub', 'nats-files', '--out', join(dir, 'out'), '--site', 'acme', '--data-dir', data]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('callpop hub: left out old, changed: no NATS password hash yet (made when a password is set); set their password again.\n');
    const path = join(dir, 'out', 'nats-authorization.conf');
    expect(r.out).toContain(`Wrote ${path} (2 agent(s) + the hub's user callpop-hub, site "acme"`);
    const text = await readFile(path, 'utf8');
    const st = await stat(path);
    expect(st.mode & 0o777).toBe(0o600);
    const nats = localUser('nats');
    if (userInfo().uid === 0 && nats) expect([st.uid, st.gid]).toEqual([nats.uid, nats.gid]);
    else expect(st.uid).toBe(userInfo().uid);

    expect(text).toContain(
      '{ user: "anna", password: "$2b$10$',
    );
    expect(text).toContain(
      'permissions: { publish: { allow: ["callpop.v1.acme.ext.117.sync.req", "callpop.v1.acme.ext.117.actions.req", "callpop.v1.acme.ext.117.callbacks.req", "callpop.v1.acme.ext.118.sync.req", "callpop.v1.acme.ext.118.actions.req", "callpop.v1.acme.ext.118.callbacks.req"] }, subscribe: { allow: ["callpop.v1.acme.hub.status", "callpop.v1.acme.directory", "callpop.v1.acme.agent.anna.extensions", "callpop.v1.acme.ext.117", "callpop.v1.acme.ext.117.>", "callpop.v1.acme.ext.118", "callpop.v1.acme.ext.118.>", "$MQTT.sub.>"] } },',
    );
    expect(text).toContain('{ user: "bob.k", password: "$2b$10$');
    expect(text).toContain('permissions: { publish: { allow: ["callpop.v1.acme.>"] }, subscribe: { allow: ["callpop.v1.acme.>", "$MQTT.sub.>"] } },');
    expect(text).not.toContain('"old"');
    expect(text).not.toContain('"changed"');
    expect(text.match(/allowed_connection_types: \["MQTT"\]/g)).toHaveLength(3);
    // The hashes are of the real passwords (the hub's is the one in its data folder).
    const hashes = [...text.matchAll(/user: "([^"]+)", password: "([^"]+)"/g)].map((m) => [m[1]!, m[2]!] as const);
    const hash = (u: string): string => hashes.find(([n]) => n === u)![1];
    expect(bcrypt.compareSync(anna.password, hash('anna'))).toBe(true);
    expect(bcrypt.compareSync('wrong-password', hash('anna'))).toBe(false);
    expect(bcrypt.compareSync((await hubBrokerPassword(data)).password, hash('callpop-hub'))).toBe(true);
  });

  it('refuses a bad site or a missing --out with a usage error and writes nothing', async () => {
    expect((await run(['hub', 'nats-files', '--site', 'a.b', '--out', join(dir, 'x'), '--data-dir', dir])).code).toBe(2);
    expect((await run(['hub', 'nats-files', '--data-dir', dir])).code).toBe(2);
    await expect(stat(join(dir, 'x'))).rejects.toThrow();
  });
});
