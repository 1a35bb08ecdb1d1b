// Startup smoke test of the BUILT desktop app (out/main/index.js, out/main/service-host.js,
// out/preload/index.cjs, out/renderer) under plain Node, with a stand-in `electron` module
// (test/smoke/stand-in) in Electron's place: app ready → single-instance lock → windows created with
// the built preload and pages → the core forked as a real child process → listening → an IPC round
// trip from a page through the built preload to the real core → quit. It catches what the mocked unit
// tests cannot: import-time errors, ESM/CJS mismatches in the bundles, wrong paths to the preload,
// the pages and the service host. (The real-Electron launch test, test/electron/launch.spec.ts, runs
// where an Electron binary exists.)
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type SmokeEvent = { type: string; [k: string]: unknown };

const built = ['out/main/index.js', 'out/main/service-host.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'out/renderer/popup.html'].map((f) => resolve(f));

class App {
  readonly events: SmokeEvent[] = [];
  private waiters: { test: (e: SmokeEvent) => boolean; resolve: (e: SmokeEvent) => void }[] = [];
  private nextId = 1;
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(readonly child: ChildProcess) {
    child.on('message', (m: SmokeEvent & { smoke?: boolean }) => {
      if (!m?.smoke) return;
      this.events.push(m);
      for (const w of [...this.waiters]) {
        if (w.test(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
  }

  /** The first event (already seen or still to come) that passes `test`. */
  waitFor(test: (e: SmokeEvent) => boolean, what: string, ms = 20_000): Promise<SmokeEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; stderr:\n${this.stderr}`)), ms);
      this.waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  async command<T>(cmd: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    const reply = this.waitFor((e) => e.type === 'reply' && e.id === id, `reply to ${String(cmd.smokeCommand)}`);
    this.child.send({ ...cmd, id });
    const r = await reply;
    if (r.error) throw new Error(String(r.error));
    return r.value as T;
  }

  callApi<T>(window: number, method: string, ...args: unknown[]): Promise<{ exposedAs: string; result: T }> {
    return this.command({ smokeCommand: 'callApi', window, method, args });
  }
}

describe('startup of the built desktop app (stand-in Electron)', () => {
  let home: string;
  let app: App;

  beforeAll(async () => {
    const missing = built.filter((f) => !existsSync(f));
    if (missing.length) throw new Error(`Build first (npm run build): missing ${missing.join(', ')}`);
    home = await mkdtemp(join(tmpdir(), 'callpop-smoke-'));
    // Loopback and any free port: the test never binds 0.0.0.0:8765.
    await mkdir(join(home, 'userData'), { recursive: true });
    await writeFile(join(home, 'userData', 'settings.json'), JSON.stringify({ listenHost: '127.0.0.1', listenPort: 0 }));
    const child = fork(resolve('out/main/index.js'), [], {
      execArgv: ['--import', resolve('test/smoke/stand-in/register.mjs')],
      env: { ...process.env, CALLPOP_SMOKE_HOME: home, CALLPOP_SMOKE_ROOT: resolve('.'), NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    app = new App(child);
  });

  afterAll(async () => {
    if (app && app.child.exitCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    const core = app?.events.find((e) => e.type === 'forked');
    if (core) {
      try {
        process.kill(Number(core.pid), 'SIGKILL');
      } catch {
        /* already gone, as it should be */
      }
    }
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('takes the single-instance lock once ready', async () => {
    await app.waitFor((e) => e.type === 'singleInstanceLock', 'single-instance lock');
  });

  it('creates the popup and the main window with the built preload, sandboxed, loading the built pages', async () => {
    await app.waitFor((e) => e.type === 'load' && String(e.url).endsWith('/index.html'), 'main page load');
    await app.waitFor((e) => e.type === 'load' && String(e.url).endsWith('/popup.html'), 'popup page load');
    const windows = app.events.filter((e) => e.type === 'window');
    expect(windows).toHaveLength(2);
    for (const w of windows) {
      expect(w.preload).toBe(resolve('out/preload/index.cjs'));
      expect(w.preloadExists).toBe(true);
      expect(w.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false });
    }
    for (const load of app.events.filter((e) => e.type === 'load')) {
      const page = await app.command<{ status: number; contentType: string; body: string }>({ smokeCommand: 'fetchPage', url: load.url });
      expect(page.status).toBe(200);
      expect(page.contentType).toContain('text/html');
      const script = page.body.match(/<script[^>]+src="\.?\/?([^"]+\.js)"/)?.[1];
      expect(script, 'the page names its bundle').toBeTruthy();
      const asset = await app.command<{ status: number; contentType: string }>({ smokeCommand: 'fetchPage', url: new URL(script!, String(load.url)).href });
      expect(asset.status).toBe(200);
      expect(asset.contentType).toContain('javascript');
    }
  });

  it('forks the built core as a real child process, which starts listening', async () => {
    const forkEvent = await app.waitFor((e) => e.type === 'fork', 'utilityProcess.fork');
    expect(forkEvent.modulePath).toBe(resolve('out/main/service-host.js'));
    expect(forkEvent.exists).toBe(true);
    const forked = await app.waitFor((e) => e.type === 'forked', 'core process');
    expect(() => process.kill(Number(forked.pid), 0)).not.toThrow();
    // Main queues pushes until a page says it is ready, as the renderer does on load.
    const main = app.events.find((e) => e.type === 'load' && String(e.url).endsWith('/index.html'))!;
    await app.callApi(Number(main.id), 'rendererReady', 'main');
    const status = await app.waitFor((e) => e.type === 'status' && (e.payload as { service: { state: string } }).service.state === 'listening', 'listening status');
    expect((status.payload as { service: { port: number } }).service.port).toBeGreaterThan(0);
  });

  it('answers a page through the built preload: settings to the core, a real webhook, the call back from the core', async () => {
    const main = app.events.find((e) => e.type === 'load' && String(e.url).endsWith('/index.html'))!;
    const status = await app.callApi<{ service: { state: string; port: number; url: string } }>(Number(main.id), 'getStatus');
    expect(status.exposedAs).toBe('callpop');
    expect(status.result.service.state).toBe('listening');
    const saved = await app.callApi<{ ok: boolean }>(Number(main.id), 'updateSettings', { extension: '117' });
    expect(saved.result.ok).toBe(true);
    const port = status.result.service.port;
    const settings = await app.callApi<{ settings: { webhookSecret: string } }>(Number(main.id), 'getSettings');
    const url = `http://127.0.0.1:${port}/webhook/${settings.result.settings.webhookSecret}`;
    const id = `261201090000_${process.pid % 1000}`;
    // The settings reach the core asynchronously: post until the core tracks 117 (bounded).
    let active: { id: string; status: string }[] = [];
    for (let i = 0; i < 50 && active.length === 0; i++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ Event: 'ringing', Callerid: '05551239988', User: '117', Usertype: 'ext', Did: '', Id: `${id}-${i}` }),
      });
      expect(res.status).toBe(200);
      active = (await app.callApi<{ id: string; status: string }[]>(Number(main.id), 'activeCalls')).result;
      if (active.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(active.map((c) => c.status)).toEqual(['ringing']);
    expect(active[0]!.id).toBe(id);
  });

  it('quits cleanly: the core stops, the app exits 0', async () => {
    await app.command({ smokeCommand: 'quit' });
    await app.waitFor((e) => e.type === 'coreExit', 'core exit');
    expect(await app.exited).toBe(0);
    expect(app.events.find((e) => e.type === 'exit')?.code).toBe(0);
  });
});
