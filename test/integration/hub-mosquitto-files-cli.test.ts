// `callpop hub mosquitto-files` as an administrator runs it (the BUILT command, as root, for a hub
// that runs as its own system user and Debian's Mosquitto that drops to `mosquitto`): password_file
// and acl_file are Mosquitto's (0600), the hub's broker password is the hub user's (0600), the
// mosquitto.conf it writes starts a real Mosquitto with plain, TLS and WebSocket listeners, anonymous
// clients refused and the limits set; the hub (as its user) publishes through it and an agent reads
// over TLS. A password file the hub cannot read is one line naming the file and the user, exit 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, chownSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { mosquittoLimits } from '../../main/core/hub/broker/mosquitto-conf';
import { topics } from '../../shared/hub-protocol';
import { callpop, cliBuilt, startCallpop } from '../support/built-cli';
import { freePort, mosquittoAvailable, startMosquittoConfig } from '../support/mosquitto';
import { selfSignedCert } from '../support/self-signed-cert';
import { createSystemUser, removeSystemUser, systemUserSkipReason, type SystemUser } from '../support/system-user';
import { lookupUser } from '../../main/core/config/unix-users';

const mosquittoUser = lookupUser('mosquitto');
const skip = !cliBuilt || !mosquittoAvailable || systemUserSkipReason !== null || mosquittoUser === null;

let dir = '';
let user: SystemUser | null = null;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-mosq-cli-'));
  await chmod(dir, 0o755);
});
afterAll(async () => {
  removeSystemUser(user);
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(skip)('callpop hub mosquitto-files (built, as root)', () => {
  it('writes files owned by who reads them and a mosquitto.conf that runs the hub\'s listeners with TLS and limits', async () => {
    user = createSystemUser();
    const as = { uid: user.uid, gid: user.gid, env: { HOME: '/nonexistent' } };
    const data = join(dir, 'hub');
    await mkdir(data, { mode: 0o700 });
    chownSync(data, user.uid, user.gid);
    // The folder is set up for Mosquitto first (its agents then keep Mosquitto's hash beside scrypt;
    // one added before would be named by mosquitto-files and need `agent passwd`).
    expect((await callpop(['hub', 'mosquitto-files', '--out', join(dir, 'first-run'), '--data-dir', data])).code).toBe(0);
    const add = await callpop(['hub', 'agent', 'add', 'anna', '--extension', '117', '--data-dir', data], as);
    expect(add.code).toBe(0);
    const annaPassword = add.out.trim().split('\n').at(-1)!;

    // TLS files Mosquitto reads as its own user.
    const tlsDir = join(dir, 'tls');
    await mkdir(tlsDir, { mode: 0o755 });
    const cert = selfSignedCert(tlsDir);
    chownSync(cert.keyFile, mosquittoUser!.uid, mosquittoUser!.gid);
    chmodSync(cert.keyFile, 0o600);

    const out = join(dir, 'etc-mosquitto-callpop');
    const [port, tlsPort, wsPort] = [await freePort(), await freePort(), await freePort()];
    const files = await callpop([
      'hub', 'mosquitto-files', '--out', out, '--data-dir', data, '--bind', '127.0.0.1', '--port', String(port),
      '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--tls-port', String(tlsPort), '--ws-port', String(wsPort),
    ]);
    expect(files.err).toBe('');
    expect(files.code).toBe(0);
    expect(files.out).toContain(`owner mosquitto, mode 0600`);
    expect(files.out).toContain(`mosquitto -c ${join(out, 'mosquitto.conf')}`);
    expect(files.out).toContain(`--broker-password-file ${join(data, 'hub-broker-password')}`);
    for (const f of ['password_file', 'acl_file']) {
      const st = await stat(join(out, f));
      expect([f, st.uid, st.mode & 0o777]).toEqual([f, mosquittoUser!.uid, 0o600]);
    }
    const hubPw = await stat(join(data, 'hub-broker-password'));
    expect([hubPw.uid, hubPw.mode & 0o777]).toEqual([user.uid, 0o600]);
    const conf = await readFile(join(out, 'mosquitto.conf'), 'utf8');
    expect(conf).toMatch(/^allow_anonymous false$/m);
    for (const l of mosquittoLimits) expect(conf).toMatch(new RegExp(`^${l.key} ${l.value}$`, 'm'));

    const broker = await startMosquittoConfig(join(out, 'mosquitto.conf'), [port, tlsPort, wsPort]);
    const hub = startCallpop(
      ['hub', '--data-dir', data, '--host', '127.0.0.1', '--port', '0', '--broker', `mqtt://127.0.0.1:${port}`, '--broker-user', 'callpop-hub', '--broker-password-file', join(data, 'hub-broker-password')],
      as,
    );
    const clients: mqtt.MqttClient[] = [];
    try {
      await hub.waitFor(/Publishing to mqtt:\/\/127\.0\.0\.1/);
      expect(broker.output().split('\n').filter((l) => /Unable to|Error: |Warning: /.test(l))).toEqual([]);
      // Anna asking for an extension that is not hers: said in one line from the hub's directory (exit 1).
      const pwFile = join(dir, 'anna.password');
      await writeFile(pwFile, `${annaPassword}\n`, { mode: 0o600 });
      const foreign = await callpop(['serve', '--hub', `mqtts://127.0.0.1:${tlsPort}`, '--hub-ca', cert.certFile, '--user', 'anna', '--password-file', pwFile, '--extension', '204', '--data-dir', join(dir, 'anna-pc')]);
      expect([foreign.code, foreign.err]).toEqual([1, "callpop serve: extension 204 is not agent anna's on this hub (the agent's: 117). The hub's administrator can add it: callpop hub agent set anna --extension …\n"]);
      // Anonymous: refused on every listener.
      await expect(mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow(/Not authorized|Connection refused/);
      // Anna over TLS (the certificate trusted as a CA) and over wss: the hub's retained status.
      for (const url of [`mqtts://127.0.0.1:${tlsPort}`, `wss://127.0.0.1:${wsPort}`]) {
        const c = await mqtt.connectAsync(url, { username: 'anna', password: annaPassword, ca: cert.cert, reconnectPeriod: 0, connectTimeout: 5000 });
        clients.push(c);
        const status = new Promise<string>((resolve) => c.on('message', (_t, p) => resolve(p.toString())));
        await c.subscribeAsync(topics.hubStatus('default'), { qos: 1 });
        expect(JSON.parse(await status)).toMatchObject({ state: 'online' });
      }
    } finally {
      for (const c of clients) await c.endAsync(true);
      const stopped = await hub.stop();
      // Mosquitto is stopped whatever the hub's exit said (a failed expect must not leave it running).
      await broker.stop();
      expect([stopped.code, stopped.err]).toEqual([0, stopped.err]);
    }
  }, 60_000);

  it('a data folder file the hub cannot read (agents.json written by root): one line naming it and the user, exit 1', async () => {
    const data = join(dir, 'hub');
    const agents = join(data, 'agents.json');
    chownSync(agents, 0, 0);
    try {
      const r = await callpop(['hub', '--data-dir', data, '--host', '127.0.0.1', '--port', '0', '--broker-port', '0'], { uid: user!.uid, gid: user!.gid, env: { HOME: '/nonexistent' } });
      expect([r.code, r.out]).toEqual([1, '']);
      expect(r.err).toBe(`callpop hub: cannot open ${agents} as user ${user!.name} (EACCES). Give ${user!.name} that folder (sudo chown -R ${user!.name} DIR), or another --data-dir.\n`);
    } finally {
      chownSync(agents, user!.uid, user!.gid);
    }
  });

  it('a password file the hub cannot read: one line naming the file and the user, exit 1, no usage', async () => {
    const data = join(dir, 'hub');
    const pw = join(data, 'hub-broker-password');
    chownSync(pw, 0, 0);
    const r = await callpop(['hub', '--data-dir', data, '--host', '127.0.0.1', '--port', '0', '--broker', 'mqtt://127.0.0.1:9', '--broker-user', 'callpop-hub', '--broker-password-file', pw], {
      uid: user!.uid,
      gid: user!.gid,
      env: { HOME: '/nonexistent' },
    });
    expect([r.code, r.out]).toEqual([1, '']);
    expect(r.err).toBe(`callpop hub: --broker-password-file: cannot read ${pw} as user ${user!.name} (EACCES). Make it readable by ${user!.name}, e.g. sudo chown ${user!.name} ${pw} (and let ${user!.name} enter its folder).\n`);
  });
});
