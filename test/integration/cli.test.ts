// The `callpop` command as a user runs it: real processes, a real listener on 127.0.0.1:0, a temp
// data dir. Runs the TypeScript entry through tsx (the built bin/callpop.mjs is checked too when built).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { callRecordColumns, type CallRecord } from '../../shared/call-record';
import { csvColumns } from '../../shared/call-csv';
import { seedFlows } from '../../shared/webhook/seed-flows';
import { defaultSettings } from '../../shared/settings';
import { openSettingsFile } from '../../main/core/config/settings-file';
import { defaultDataDir } from '../../main/core/config/paths';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { usage } from '../../main/cli/index';
import { logUsage } from '../../main/cli/log';
import { serveUsage } from '../../main/cli/serve';
import { simulateUsage } from '../../main/cli/simulate';
import { downloadUsage } from '../../main/cli/download-command';
import { openCallLogStore } from '../../main/core/call-log/store';
import { callLogDir } from '../../main/core/config/paths';

const root = resolve(__dirname, '../..');
const entry = [join(root, 'main/cli/index.ts')];
const bundle = join(root, 'out/cli/callpop.mjs');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { bin?: boolean } = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const argv = opts.bin ? [join(root, 'bin/callpop.mjs'), ...args] : ['--import', 'tsx', ...entry, ...args];
    const p = spawn(process.execPath, argv, { cwd: root, env: { ...process.env, XDG_CONFIG_HOME: dataHome } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    // 'close', not 'exit': 'exit' can come before the pipes are read to their end (a loaded machine
    // saw exit 2 with an empty stderr).
    p.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

let dataHome = '';
let dataDir = '';

beforeAll(async () => {
  // XDG_CONFIG_HOME points at a temp dir, so nothing here can touch a real Callpop folder.
  dataHome = await mkdtemp(join(tmpdir(), 'callpop-cli-home-'));
  dataDir = await mkdtemp(join(tmpdir(), 'callpop-cli-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await rm(dataHome, { recursive: true, force: true });
});

// Each case spawns a Node process (about a second with tsx); generous timeouts for a busy machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

describe.concurrent('callpop: flags', () => {
  const bad: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /Unknown command "frobnicate"/],
    ['unknown flag', ['log', '--bogus'], /Unknown option '--bogus'/],
    ['both formats', ['log', '--json', '--csv'], /one of --json and --csv/],
    ['bad date', ['log', '--since', 'yesterday'], /--since must be a date/],
    ['bad number', ['log', '--number', 'abc'], /--number must be a phone number/],
    ['bad port', ['serve', '--extension', '202', '--port', '70000'], /--port must be a number from 0 to 65535/],
    ['bad extension', ['serve', '--extension', '20x'], /--extension must be 1 to 10 digits/],
    ['bad allow-list', ['serve', '--extension', '202', '--allow', '1.2.3.400'], /--allow/],
    ['unknown flow', ['simulate', 'nope', '--to', 'http://127.0.0.1:9/webhook/x'], /Unknown flow "nope"/],
    ['missing --to', ['simulate', 'incoming-answered'], /--to URL/],
    ['bad --to', ['simulate', 'incoming-answered', '--to', 'ftp://x/'], /http:\/\/ or https:\/\//],
    ['bad download flag', ['download', '--nope'], /Unknown option/],
  ];
  const usageOf: Record<string, string> = { log: logUsage, serve: serveUsage, simulate: simulateUsage, download: downloadUsage };
  for (const [what, args, message] of bad) {
    it(`${what}: the error on one line, then the usage on its own lines (stderr), exit 2`, async () => {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const [first, ...rest] = r.stderr.trimEnd().split('\n');
      expect(first).toMatch(message);
      expect(first).toMatch(/^callpop( \w+)?: /);
      expect(rest.join('\n')).toBe(usageOf[args[0]!] ?? usage);
    });
  }

  it('log --data-dir on a folder that holds no call log says so, exit 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-cli-nolog-'));
    try {
      const r = await cli(['log', '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`callpop log: There is no call log in ${dir}; give the data folder of the Callpop app or of callpop serve.\n`);
      expect(readdirSync(dir)).toEqual([]); // nothing created there
      const missing = await cli(['log', '--data-dir', join(dir, 'typo'), '--json']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('There is no call log in');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('log on an existing but empty call log: "No calls.", exit 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-cli-emptylog-'));
    try {
      await (await openCallLogStore(callLogDir(dir))).close();
      const r = await cli(['log', '--data-dir', dir]);
      expect(r).toEqual({ code: 0, stdout: 'No calls.\n', stderr: '' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('download from a host that does not resolve (.invalid, RFC 2606): says so, tried once, exit 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-cli-nxdomain-'));
    try {
      const r = await cli(['download', 'http://pbx.invalid/webapi/recording/1.mp3', '--to', dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      // A retried failure would end in ", after 3 tries".
      expect(r.stderr).toBe('callpop download: The PBX host pbx.invalid was not found (no such name in DNS); check the PBX address (and the VPN, for an internal name)\n');
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--help for every command', async () => {
    const commands = ['serve', 'log', 'simulate', 'download'];
    const results = await Promise.all(commands.map((command) => cli([command, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, commands[i]).toBe(0);
      expect(r.stdout).toContain(`callpop ${commands[i]}`);
    });
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/serve[\s\S]*log[\s\S]*simulate[\s\S]*download/);
  });

  it('serve on a port in use: names the port and what to do, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), 'callpop-cli-busy-'));
    try {
      const r = await cli(['serve', '--extension', '202', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`Port ${port} is already in use`);
      expect(r.stderr).toMatch(/--port/);
    } finally {
      await new Promise((r) => blocker.close(r));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('simulate --list names every seed flow', async () => {
    const r = await cli(['simulate', '--list']);
    expect(r.code).toBe(0);
    for (const f of seedFlows) expect(r.stdout).toContain(f.name);
  });

  it.runIf(existsSync(bundle))('the built bin runs the bundle', async () => {
    const r = await cli(['simulate', '--list'], { bin: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('incoming-answered');
  });
});

describe('callpop serve / simulate / log', () => {
  let serve: ChildProcessWithoutNullStreams;
  let out = '';
  let url = '';

  const waitFor = (re: RegExp): Promise<RegExpMatchArray> =>
    new Promise((resolvePromise, reject) => {
      const check = (): boolean => {
        const m = out.match(re);
        if (m) resolvePromise(m);
        return Boolean(m);
      };
      if (check()) return;
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output so far:\n${out}`)), 45_000);
      serve.stdout.on('data', () => check() && clearTimeout(timer));
    });

  beforeAll(async () => {
    serve = spawn(process.execPath, ['--import', 'tsx', ...entry, 'serve', '--extension', '202', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], {
      cwd: root,
      env: { ...process.env, XDG_CONFIG_HOME: dataHome },
    });
    serve.stdout.on('data', (d: Buffer) => (out += d.toString()));
    serve.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const m = await waitFor(/Listening on (http:\/\/127\.0\.0\.1:(\d+)\/webhook\/[A-Za-z0-9_-]{24})\n/);
    url = m[1]!;
    expect(Number(m[2])).toBeGreaterThan(0);
  });

  afterAll(() => {
    if (serve.exitCode === null) serve.kill('SIGKILL');
  });

  it('serve saved the secret of the printed URL in the data folder', () => {
    const saved = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')) as { webhookSecret: string };
    expect(url.endsWith(`/webhook/${saved.webhookSecret}`)).toBe(true);
  });

  it('serve prints a line per change as simulate replays flows against it', async () => {
    const answered = await cli(['simulate', 'incoming-answered', '--to', url]);
    expect(answered.code, answered.stderr).toBe(0);
    expect(answered.stdout.trim().split('\n').map((l) => l.match(/ (\d{3}) /)?.[1])).toEqual(['200', '200', '200', '200', '200', '200']);
    await waitFor(/\d\d:\d\d:\d\d ringing +incoming 05551239988 via queue 820/);
    await waitFor(/answered +incoming 05551239988/);
    await waitFor(/ended +incoming 05551239988 .*6 s/);
    await waitFor(/recording +incoming 05551239988/);

    const missed = await cli(['simulate', 'incoming-missed', '--to', url, '--get']);
    expect(missed.code, missed.stderr).toBe(0);
    await waitFor(/missed +incoming 05551239988/);
    // Another extension's flow: acknowledged, nothing printed for it.
    const foreign = await cli(['simulate', 'outgoing-answered', '--to', url]);
    expect(foreign.code).toBe(0);
    // A wrong secret is refused.
    const wrong = await cli(['simulate', 'incoming-missed', '--to', url.replace(/[A-Za-z0-9_-]{24}$/, 'x'.repeat(24))]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(' 404 ');
  });

  it('log reads the log while serve is running (table, --json, --csv, filters)', async () => {
    const json = await cli(['log', '--data-dir', dataDir, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const records = JSON.parse(json.stdout) as CallRecord[];
    expect(records.map((r) => r.result)).toEqual(['missed', 'answered']); // newest first
    expect(Object.keys(records[1]!).sort()).toEqual([...callRecordColumns.filter((c) => c !== 'endedBy'), 'note'].sort());
    expect(records[1]).toMatchObject({ extension: '202', queue: '820', durationSec: 6, status: 'ended' });

    const csv = await cli(['log', '--data-dir', dataDir, '--csv']);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe([...csvColumns, 'note'].join(','));
    expect(lines).toHaveLength(3);

    const missed = JSON.parse((await cli(['log', '--data-dir', dataDir, '--json', '--missed'])).stdout) as CallRecord[];
    expect(missed.map((r) => r.result)).toEqual(['missed']);
    const byNumber = JSON.parse((await cli(['log', '--data-dir', dataDir, '--json', '--number', '(0555) 123-99-88'])).stdout) as CallRecord[];
    expect(byNumber).toHaveLength(2);
    const none = JSON.parse((await cli(['log', '--data-dir', dataDir, '--json', '--number', '0444 000 00 00'])).stdout) as CallRecord[];
    expect(none).toEqual([]);
    const future = JSON.parse((await cli(['log', '--data-dir', dataDir, '--json', '--since', '2999-01-01'])).stdout) as CallRecord[];
    expect(future).toEqual([]);

    const table = await cli(['log', '--data-dir', dataDir]);
    expect(table.stdout).toMatch(/^When +Dir +Status +Number/);
    expect(table.stdout).toContain('05551239988');
  });

  it('a second serve on the same data folder says who holds the call log and what to do, exit 1', async () => {
    const r = await cli(['serve', '--extension', '202', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`is in use by process ${serve.pid}`);
    expect(r.stderr).toMatch(/Quit it first, or give another --data-dir/);
  });

  it('SIGTERM stops serve with exit code 0', async () => {
    const exited = new Promise<number | null>((r) => serve.once('exit', (code) => r(code)));
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The port is free again: nothing listens any more.
    const r = await cli(['simulate', 'incoming-missed', '--to', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach/);
  });
});

describe('settings file and data folder (shared with the desktop app)', () => {
  it('is where Electron puts userData for "Callpop" on each platform', () => {
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32')).toMatch(/Roaming[\\/]Callpop$/);
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library[\\/]Application Support[\\/]Callpop$/);
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/x/conf' }, 'linux')).toBe(join('/x/conf', 'Callpop'));
    expect(defaultDataDir({}, 'linux')).toMatch(/\.config[\\/]Callpop$/);
  });

  it('reads valid keys, drops invalid ones with a warning, keeps electron-store bookkeeping, writes sparsely and atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-settings-'));
    try {
      const path = join(dir, 'settings.json');
      writeFileSync(path, JSON.stringify({ __internal__: { migrations: { version: '0.1.0' } }, extension: '117', listenPort: 'eighty', popup: { autoCloseSec: 5 } }));
      const warnings: string[] = [];
      const file = openSettingsFile(dir, { logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} } });
      const s = file.get();
      expect(s.extension).toBe('117');
      expect(s.listenPort).toBe(defaultSettings().listenPort);
      expect(s.popup.autoCloseSec).toBe(5);
      expect(warnings.join()).toContain('listenPort');

      file.set({ ...s, webhookSecret: 'abcdefghijklmnopqrstuvwx' });
      const written = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      expect(written.__internal__).toEqual({ migrations: { version: '0.1.0' } });
      expect(written.webhookSecret).toBe('abcdefghijklmnopqrstuvwx');
      expect(written.extension).toBe('117');
      // Only what differs from the defaults (or was already there) is stored, as the app does.
      expect(written).not.toHaveProperty('theme');
      expect(file.get().webhookSecret).toBe('abcdefghijklmnopqrstuvwx');

      writeFileSync(path, '{ not json');
      expect(openSettingsFile(dir).get()).toEqual(defaultSettings());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serve generates the webhook secret once and keeps it across runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-secret-'));
    try {
      const first = openSettingsFile(dir).get().webhookSecret;
      expect(first).toBe('');
      const { withWebhookSecret } = await import('../../main/core/listener/secret');
      const a = withWebhookSecret(defaultSettings());
      expect(a.generated).toBe(true);
      expect(a.settings.webhookSecret).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(withWebhookSecret(a.settings)).toEqual({ settings: a.settings, generated: false });
      expect(withWebhookSecret(defaultSettings()).settings.webhookSecret).not.toBe(a.settings.webhookSecret);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
