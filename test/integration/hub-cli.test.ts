// `callpop hub` on the command line: agent add/remove/list (real files), --password-stdin (a child
// process reading stdin), mosquitto-files, bad flags (one line + usage on stderr, exit 2), --help,
// and a running hub printing its URLs and a line per record change.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { main } from '../../main/cli/index';
import { hubUsage } from '../../main/cli/hub';
import { readAgents, verifyPassword } from '../../main/core/hub/accounts/agents';
import { sendWebhook } from '../../main/core/listener/test-call';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { agentClientId } from '../../shared/hub-protocol';
import { until } from './hub-helpers';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-hub-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], signal?: AbortSignal): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => (out += s), stderr: (s) => (err += s), env: { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config') }, signal });
  return { code, out, err };
}

describe('callpop hub agent', () => {
  it('adds (password as the last line, stored only hashed, file mode 0600), lists, replaces and removes agents', async () => {
    const add = await run(['hub', 'agent', 'add', 'anna', '--extension', '117', '--extension', '118', '--display-name', 'Anna K', '--data-dir', dir]);
    expect(add.code).toBe(0);
    const password = add.out.trim().split('\n').at(-1)!;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const text = await readFile(join(dir, 'agents.json'), 'utf8');
    expect(text).not.toContain(password);
    expect((await stat(join(dir, 'agents.json'))).mode & 0o777).toBe(0o600);
    const [agent] = await readAgents(dir);
    expect(agent).toMatchObject({ name: 'anna', extensions: ['117', '118'], displayName: 'Anna K' });
    expect(await verifyPassword(password, agent!.passwordHash)).toBe(true);
    expect(await verifyPassword(`${password}x`, agent!.passwordHash)).toBe(false);

    expect((await run(['hub', 'agent', 'list', '--data-dir', dir])).out).toBe('anna\t117,118\tAnna K\n');
    const json = JSON.parse((await run(['hub', 'agent', 'list', '--json', '--data-dir', dir])).out) as unknown[];
    expect(json).toEqual([expect.objectContaining({ name: 'anna', extensions: ['117', '118'] })]);
    expect(JSON.stringify(json)).not.toContain('Hash');

    const again = await run(['hub', 'agent', 'add', 'anna', '--extension', '120', '--replace', '--data-dir', dir]);
    expect(again.out).toMatch(/^Replaced agent anna/);
    expect((await readAgents(dir)).map((a) => a.extensions)).toEqual([['120']]);

    expect((await run(['hub', 'agent', 'remove', 'anna', '--data-dir', dir])).code).toBe(0);
    expect(await readAgents(dir)).toEqual([]);
    const missing = await run(['hub', 'agent', 'remove', 'anna', '--data-dir', dir]);
    expect([missing.code, missing.err]).toEqual([1, 'callpop hub: no agent named "anna".\n']);
  });

  it('refuses bad input with one line on stderr and exit 2, changing nothing', async () => {
    await run(['hub', 'agent', 'add', 'anna', '--extension', '117', '--data-dir', dir]);
    const before = await readFile(join(dir, 'agents.json'), 'utf8');
    for (const args of [
      ['hub', 'agent', 'add', 'bad name', '--extension', '117'],
      ['hub', 'agent', 'add', 'callpop-hub', '--extension', '117'],
      ['hub', 'agent', 'add', 'bob'],
      ['hub', 'agent', 'add', 'bob', '--extension', '11a'],
      ['hub', 'agent', 'add', 'bob', '--extension', '117', '--bogus'],
      ['hub', 'agent', 'frobnicate'],
      ['hub', 'agent', 'list', '--extension', '1'],
      ['hub', '--port', '99999'],
      ['hub', '--broker-port', 'x'],
      ['hub', '--site', 'a/b'],
      ['hub', '--tls-cert', 'x.pem'],
      ['hub', '--broker', 'http://x'],
      ['hub', '--broker', 'mqtt://u:p@x:1883'],
      ['hub', '--broker', 'mqtt://x', '--broker-port', '1'],
      ['hub', '--broker-user', 'x'],
      ['hub', '--allow', 'nonsense'],
      ['hub', 'mosquitto-files'],
      ['hub', 'nats-files'],
      ['hub', '--broker', 'mqtt://n1:1883,http://n2'],
      ['hub', '--broker', 'mqtt://n1:1883', '--broker', 'mqtt://u:p@n2:1883'],
      ['hub', '--broker', ','],
    ]) {
      const r = await run([...args, '--data-dir', dir]);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2]);
      expect(r.err.split('\n')[0]).toMatch(/^callpop hub: \S/);
      expect(r.out).toBe('');
    }
    expect(await readFile(join(dir, 'agents.json'), 'utf8')).toBe(before);
  });

  it('prints help for hub, agent and mosquitto-files', async () => {
    expect(await run(['hub', '--help'])).toEqual({ code: 0, out: `${hubUsage}\n`, err: '' });
    expect((await run(['hub', 'agent', '--help'])).out).toMatch(/^Usage: callpop hub agent add NAME/);
    expect((await run(['hub', 'mosquitto-files', '--help'])).out).toMatch(/^Usage: callpop hub mosquitto-files --out DIR/);
    expect((await run(['--help'])).out).toMatch(/\n {2}hub {8}one webhook URL for the whole PBX/);
  });

  it('takes the password from stdin with --password-stdin (not printed)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../../main/cli/index.ts'), 'hub', 'agent', 'add', 'bob', '--extension', '204', '--password-stdin', '--data-dir', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end('correct horse battery staple\n');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).toBe('Added agent bob (extension 204). Password set from stdin.\n');
    const [bob] = await readAgents(dir);
    expect(await verifyPassword('correct horse battery staple', bob!.passwordHash)).toBe(true);
  }, 20_000);

  it('writes the Mosquitto files and the hub user password (mode 0600)', async () => {
    await run(['hub', 'agent', 'add', 'anna', '--extension', '117', '--data-dir', dir]);
    const out = join(dir, 'mosq');
    const r = await run(['hub', 'mosquitto-files', '--out', out, '--site', 'acme', '--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Wrote ${join(out, 'password_file')} and ${join(out, 'acl_file')}`);
    expect(r.out).toContain(`--broker-password-file ${join(dir, 'hub-broker-password')}`);
    for (const f of [join(out, 'password_file'), join(out, 'acl_file'), join(dir, 'hub-broker-password')]) expect((await stat(f)).mode & 0o777).toBe(0o600);
    expect(await readFile(join(out, 'acl_file'), 'utf8')).toContain('user callpop-hub\ntopic readwrite callpop/v1/acme/#');
  });
});

describe('callpop hub (running)', () => {
  it('prints "Listening on URL" and "Broker on mqtt://HOST:PORT" with the real ports, a line per record change, and stops on abort', async () => {
    const add = await run(['hub', 'agent', 'add', 'anna', '--extension', '202', '--data-dir', dir]);
    const password = add.out.trim().split('\n').at(-1)!;
    const controller = new AbortController();
    let out = '';
    let err = '';
    const done = main(['hub', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--broker-port', '0'], { stdout: (s) => (out += s), stderr: (s) => (err += s), signal: controller.signal });
    try {
      await until(() => out.includes('Broker on'), 'start');
      const url = /^Listening on (http:\/\/127\.0\.0\.1:(\d+)\/webhook\/\S+)$/m.exec(out);
      const broker = /^Broker on (mqtt:\/\/127\.0\.0\.1:(\d+))$/m.exec(out);
      expect(url && Number(url[2]) > 0).toBe(true);
      expect(broker && Number(broker[2]) > 0).toBe(true);
      const c = await mqtt.connectAsync(broker![1]!, { username: 'anna', password, clientId: agentClientId('anna'), reconnectPeriod: 0 });
      await c.endAsync();
      for (const raw of flowRequests(findSeedFlow('incoming-missed')!)) expect((await sendWebhook(url![1]!, raw)).status).toBe(200);
      await until(() => /missed +incoming \S+ .*\(ext 202, seq \d+\)/.test(out), 'change lines');
      expect(out).toMatch(/ringing +incoming .*\(ext 202, seq \d+\)/);
    } finally {
      controller.abort();
    }
    expect(await done).toBe(0);
    expect(err).toMatch(/stopped\n$/);
  });

  it('exits 1 with one line when the webhook port or the broker port is taken, and leaves the data folder usable', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    const port = String((taken.address() as { port: number }).port);
    try {
      const web = await run(['hub', '--data-dir', dir, '--host', '127.0.0.1', '--port', port, '--broker-port', '0']);
      expect(web.code).toBe(1);
      expect(web.err).toMatch(new RegExp(`^callpop hub: Port ${port} is already in use`));
      const mqttPort = await run(['hub', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--broker-port', port]);
      expect(mqttPort.code).toBe(1);
      expect(mqttPort.err).toMatch(new RegExp(`^callpop hub: The broker port ${port} is already in use`));
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // Nothing left locked: a normal start works.
    const controller = new AbortController();
    let out = '';
    const done = main(['hub', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--broker-port', '0'], { stdout: (s) => (out += s), stderr: () => {}, signal: controller.signal });
    await until(() => out.includes('Broker on'), 'start');
    controller.abort();
    expect(await done).toBe(0);
  });
});
