// docs/deploy.md's "First day, command by command" followed as written: the commands between
// <!-- first-day:begin --> and <!-- first-day:end --> are read from the page and run in order, each
// by the one handler below that knows it (a command the test does not know fails it, so the page and
// the test cannot drift apart). What cannot run here is replaced by what it does: /var/lib/callpop-hub
// is a temp folder, `callpop-hub` a throw-away system user, /etc/systemd/system a temp folder,
// `systemctl enable --now` runs the installed unit's ExecStart as its User= (no systemd in CI; ports
// 8765/1883 become free ones), journalctl reads that process's output, and the firewall lines are
// checked for their form (no ufw here). Needs root (useradd, install -o, running as another user).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callpop, cliBuilt, repoRoot, startCallpop, type RunningCli } from '../support/built-cli';
import { freePort } from '../support/mosquitto';
import { removeSystemUser, systemUserSkipReason, type SystemUser } from '../support/system-user';

const doc = readFileSync(join(repoRoot, 'docs/deploy.md'), 'utf8');
const block = /<!-- first-day:begin -->\n```sh\n([\s\S]*?)```\n<!-- first-day:end -->/.exec(doc)?.[1] ?? '';
/** The commands as an administrator types them: one a line, the trailing `# comment` dropped. */
const commands = block
  .split('\n')
  .map((l) => l.replace(/\s+#\s.*$/, '').trim())
  .filter(Boolean);

/** Words of a command line as sh splits them (double and single quotes; nothing else is used). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const skip = !cliBuilt || systemUserSkipReason !== null || !block;

describe.skipIf(skip)(`docs/deploy.md "First day", command by command (${systemUserSkipReason ?? 'as root'})`, () => {
  let dir = '';
  let prefix = '';
  let stateDir = '';
  let unitDir = '';
  let user: SystemUser | null = null;
  let hub: RunningCli | null = null;
  let serve: RunningCli | null = null;
  const ports = { web: 0, broker: 0 };
  const passwords: Record<string, string> = {};
  let webhookUrl = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callpop-first-day-'));
    await chmod(dir, 0o755);
    prefix = join(dir, 'usr');
    stateDir = join(dir, 'var-lib-callpop-hub');
    unitDir = join(dir, 'etc-systemd-system');
    await mkdir(unitDir);
    ports.web = await freePort();
    ports.broker = await freePort();
  });
  afterAll(async () => {
    await serve?.stop();
    await hub?.stop();
    removeSystemUser(user);
    await rm(dir, { recursive: true, force: true });
  });

  const installed = (): string => join(prefix, 'bin/callpop');
  const packageDir = (): string => join(prefix, 'lib/node_modules/callpop-cli');
  /** The page's paths and names, as they exist in this test. */
  const local = (w: string): string =>
    w
      .replace('/var/lib/callpop-hub', stateDir)
      .replace('/usr/lib/node_modules/callpop-cli', packageDir())
      .replace('/etc/systemd/system', unitDir)
      .replace(/^callpop-hub$/, user?.name ?? 'callpop-hub');
  const asHub = () => ({ uid: user!.uid, gid: user!.gid, env: { HOME: '/nonexistent' }, command: [installed()], cwd: '/' });

  const handlers: [RegExp, (w: string[]) => Promise<void>][] = [
    [/^node --version$/, async () => {
      const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
      expect(major > 20 || (major === 20 && minor >= 19)).toBe(true);
    }],
    [/^sudo npm install --global \.\/callpop-cli-[\d.]+\.tgz$/, async (w) => {
      const tarball = execFileSync(process.execPath, [join(repoRoot, 'scripts/pack-cli.mjs')], { encoding: 'utf8' }).trim().split('\n').at(-1)!;
      expect(tarball.endsWith(w[4]!.slice(2))).toBe(true);
      execFileSync('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--cache', join(dir, 'npm-cache'), tarball], { stdio: 'pipe' });
    }],
    [/^sudo useradd --system .* callpop-hub$/, async (w) => {
      const name = `cp-day-${Math.random().toString(16).slice(2, 8)}`;
      execFileSync(w[1]!, [...w.slice(2, -1), name]);
      user = { name, uid: Number(execFileSync('id', ['-u', name]).toString()), gid: Number(execFileSync('id', ['-g', name]).toString()) };
    }],
    [/^sudo install -d -o callpop-hub -g callpop-hub -m 0700 \/var\/lib\/callpop-hub$/, async (w) => {
      execFileSync('install', w.slice(2).map(local));
    }],
    [/^sudo -u callpop-hub callpop hub agent add /, async (w) => {
      const r = await callpop(w.slice(4).map(local), asHub());
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      passwords[w[7]!] = r.out.trim().split('\n').at(-1)!;
    }],
    [/^sudo -u callpop-hub callpop hub agent list /, async (w) => {
      const r = await callpop(w.slice(4).map(local), asHub());
      expect([r.code, r.out]).toEqual([0, 'anna\t117\tAnna Kaya\nben\t204,205\t\n']);
    }],
    [/^sudo install -m 0644 \S+\/deploy\/callpop-hub\.service \/etc\/systemd\/system\/$/, async (w) => {
      execFileSync('install', w.slice(2).map(local));
    }],
    [/^sudo systemd-analyze verify \/etc\/systemd\/system\/callpop-hub\.service$/, async (w) => {
      // The unit's ExecStart names /usr/bin/callpop, where the npm install put it on the server.
      const unit = join(unitDir, 'callpop-hub.service');
      const text = readFileSync(unit, 'utf8');
      expect(text).toMatch(/^ExecStart=\/usr\/bin\/callpop hub /m);
      writeFileSync(unit, text.replace(/^ExecStart=\/usr\/bin\/callpop /m, `ExecStart=${installed()} `));
      const out = execFileSync(w[1]!, ['verify', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toBe('');
    }],
    [/^sudo systemctl daemon-reload && sudo systemctl enable --now callpop-hub$/, async () => {
      const unit = readFileSync(join(unitDir, 'callpop-hub.service'), 'utf8');
      const value = (k: string): string => new RegExp(`^${k}=(.*)$`, 'm').exec(unit)![1]!;
      expect([value('User'), value('StateDirectory')]).toEqual(['callpop-hub', 'callpop-hub']);
      const [, ...args] = words(value('ExecStart')).map(local);
      const exec = args.map((a, i) => (args[i - 1] === '--port' ? String(ports.web) : args[i - 1] === '--broker-port' ? String(ports.broker) : a));
      hub = startCallpop(exec, asHub());
    }],
    [/^journalctl -u callpop-hub \| grep "Listening on"$/, async () => {
      const [, url] = await hub!.waitFor(/^Listening on (http:\/\/\S+)$/m);
      webhookUrl = url!;
      await hub!.waitFor(/^Broker on mqtt:\/\/\S+$/m);
    }],
    [/^sudo ufw allow (from 192\.0\.2\.10 to any port 8765 proto tcp|1883\/tcp)$/, async () => {}],
    [/^callpop simulate incoming-answered --to http:\/\/127\.0\.0\.1:8765\/webhook\/SECRET --extension 117$/, async (w) => {
      const secret = /\/webhook\/(\S+)$/.exec(webhookUrl)![1]!;
      const to = w[4]!.replace(':8765/', `:${ports.web}/`).replace('SECRET', secret);
      const r = await callpop([...w.slice(1, 4), to, ...w.slice(5)], { command: [installed()] });
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
    }],
    [/^journalctl -u callpop-hub \| grep "ext 117"$/, async () => {
      await hub!.waitFor(/ended .*\(ext 117, seq \d+\)/);
    }],
    [/^callpop serve --hub mqtt:\/\/hub\.example\.com:1883 --user anna --password-file anna\.password --data-dir anna-pc$/, async (w) => {
      const passwordFile = join(dir, w[7]!);
      writeFileSync(passwordFile, `${passwords.anna}\n`, { mode: 0o600 });
      const args = w.slice(1).map((a) => (a === 'mqtt://hub.example.com:1883' ? `mqtt://127.0.0.1:${ports.broker}` : a === 'anna.password' ? passwordFile : a === 'anna-pc' ? join(dir, 'anna-pc') : a));
      serve = startCallpop(args, { command: [installed()], env: { HOME: dir } });
      await serve.waitFor(/^Following extension 117 through the hub as anna\./m);
      await serve.waitFor(/^Connected to mqtt:\/\/127\.0\.0\.1:\d+$/m);
      // Her PC catches up with the call the hub took before it connected.
      await serve.waitFor(/ incoming 0555/);
    }],
  ];

  it('runs every command of the walkthrough in order, each one known and checked', async () => {
    expect(commands.length).toBeGreaterThan(10);
    const ran: string[] = [];
    for (const line of commands) {
      const matching = handlers.filter(([re]) => re.test(line));
      expect([line, matching.length]).toEqual([line, 1]);
      await matching[0]![1](words(line));
      ran.push(line);
    }
    expect(ran).toEqual(commands);
    // `systemctl stop`: SIGTERM, exit 0.
    expect((await serve!.stop()).code).toBe(0);
    expect((await hub!.stop()).code).toBe(0);
  }, 180_000);
});
