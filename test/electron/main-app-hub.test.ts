// The composition root (main/app/index.ts) in hub mode, with `electron` mocked at the module boundary, the
// REAL core (main/core/desktop/utility-process.ts over createCoreBackend in an in-process "utility process")
// and a REAL `callpop hub` (startHub, embedded broker) on loopback:
// - the hub password goes through safeStorage into hub-password.bin, reaches the core, and is never in the
//   settings store, the log file or anything sent to a page;
// - powerMonitor 'resume' / 'unlock-screen' and a network change reach the core as { type: 'reconnect' }
//   and the core really reconnects; a ring posted to the hub pops.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type * as NodeOs from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => ({
  dir: '',
  handlers: new Map<string, (event: unknown, args: unknown) => unknown>(),
  appEvents: new Map<string, ((...a: unknown[]) => void)[]>(),
  windows: [] as unknown[],
  exitCode: null as number | null,
  store: {} as Record<string, unknown>,
  toCore: [] as { type: string; [k: string]: unknown }[],
  power: null as null | { emit(e: string): boolean },
  interfaces: {} as Record<string, NetworkInterfaceInfo[]>,
  encrypted: [] as string[],
}));

vi.mock('node:os', async (importOriginal) => {
  const real = await importOriginal<typeof NodeOs>();
  const networkInterfaces = () => h.interfaces;
  return { ...real, networkInterfaces, default: { ...real, networkInterfaces } };
});

vi.mock('electron-store', () => ({
  default: class {
    constructor(_o: unknown) {}
    get store() {
      return structuredClone(h.store);
    }
    set store(v: Record<string, unknown>) {
      h.store = structuredClone(v);
    }
  },
}));
vi.mock('electron-updater', () => ({ default: { autoUpdater: {} } }));

vi.mock('electron', async () => {
  const { EventEmitter: EE } = await import('node:events');
  const { fakeApp, inProcessUtility } = await import('../support/electron-stand-ins');
  let nextId = 1;
  const noop = () => undefined;
  class Contents extends EE {
    id = nextId++;
    url = '';
    sent: [string, unknown][] = [];
    setWindowOpenHandler() {}
    send(c: string, p: unknown) {
      this.sent.push([c, p]);
    }
    isDestroyed() {
      return false;
    }
  }
  class BrowserWindow extends EE {
    webContents = new Contents();
    visible = false;
    constructor(readonly options: Record<string, unknown>) {
      super();
      // Whatever else windows.ts calls on a window is a no-op here.
      const win = new Proxy(this, { get: (t, k) => (k in t || typeof k === 'symbol' || k === 'then' || k === 'toJSON' ? (t as never)[k] : noop) });
      h.windows.push(win);
      return win;
    }
    loadURL(u: string) {
      this.webContents.url = u;
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    isMinimized() {
      return false;
    }
    isVisible() {
      return this.visible;
    }
    show() {
      this.visible = true;
    }
    showInactive() {
      this.visible = true;
    }
    hide() {
      this.visible = false;
    }
    static getAllWindows() {
      return h.windows;
    }
  }
  const fork = () => inProcessUtility((m) => h.toCore.push(m as never));
  const display = { id: 1, label: 'Test', workArea: { x: 0, y: 0, width: 1600, height: 900 }, bounds: { x: 0, y: 0, width: 1600, height: 900 }, size: { width: 1600, height: 900 } };
  const screen = Object.assign(new EE(), { getPrimaryDisplay: () => display, getAllDisplays: () => [display], getCursorScreenPoint: () => ({ x: 0, y: 0 }) });
  const powerMonitor = new EE();
  h.power = powerMonitor;
  const app = fakeApp(h);
  const image = { isEmpty: () => true, setTemplateImage() {} };
  // A reversible stand-in for the OS keychain: what it "encrypts" is recorded, and the file holds no clear text.
  const safeStorage = {
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => 'gnome_libsecret',
    encryptStringAsync: async (s: string) => {
      h.encrypted.push(s);
      return Buffer.from(Buffer.from(s, 'utf8').map((b) => b ^ 0x5a));
    },
    decryptStringAsync: async (b: Buffer) => ({ result: Buffer.from(b.map((x) => x ^ 0x5a)).toString('utf8'), shouldReEncrypt: false }),
  };
  return {
    app,
    BrowserWindow,
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    ipcMain: { handle: (c: string, l: (e: unknown, a: unknown) => unknown) => h.handlers.set(c, l) },
    screen,
    Menu: { buildFromTemplate: (t: unknown) => t, setApplicationMenu: vi.fn() },
    Tray: class {
      on() {}
      setImage() {}
      setToolTip() {}
      setContextMenu() {}
      destroy() {}
      getBounds() {
        return { x: 0, y: 0, width: 0, height: 0 };
      }
    },
    nativeImage: { createEmpty: () => image, createFromPath: () => image },
    Notification: class {
      static isSupported() {
        return false;
      }
    },
    safeStorage,
    session: { defaultSession: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() } },
    shell: { openExternal: vi.fn(), openPath: vi.fn(async () => ''), showItemInFolder: vi.fn() },
    clipboard: { writeText: vi.fn() },
    dialog: {},
    globalShortcut: { register: () => true, unregister: vi.fn(), unregisterAll: vi.fn(), isRegistered: () => false },
    powerMonitor,
    utilityProcess: { fork },
  };
});

type FakeWin = { visible: boolean; webContents: { id: number; url: string; sent: [string, unknown][] } };
type Service = { state: string; [k: string]: unknown };

const until = async <T>(f: () => T | undefined | null | false, what: string, ms = 15_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

describe('main/app/index.ts on a Callpop hub', () => {
  it('keeps the hub password in safeStorage only, connects, pops, and reconnects on resume, unlock and network change', async () => {
    const { startHub } = await import('../../main/core/hub/hub');
    const { addAgent } = await import('../../main/core/hub/accounts/agents');
    const { sendWebhook } = await import('../../main/core/listener/test-call');
    const { findSeedFlow, flowRequests } = await import('../../shared/webhook/seed-flows');
    const hubDir = await mkdtemp(join(tmpdir(), 'callpop-mainapp-hub-'));
    cleanups.push(() => rm(hubDir, { recursive: true, force: true }));
    const password = 'Anna-secret-pass-4711';
    await addAgent(hubDir, { name: 'anna', extensions: ['117'], displayName: 'Anna', password });
    const hub = await startHub({ dataDir: hubDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, agentsPollMs: 50 });
    cleanups.push(() => hub.close());

    const dir = await mkdtemp(join(tmpdir(), 'callpop-mainapp-hubpc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    process.env.CALLPOP_USER_DATA_DIR = dir;
    process.env.CALLPOP_CONFIG = join(dir, 'no-policy.json');
    h.interfaces = { eth0: [{ address: '192.0.2.10', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:01', internal: false, cidr: '192.0.2.10/24' }] };
    h.store = { extension: '117', source: 'hub', hubUrl: hub.brokerUrl, hubAgent: 'anna', popup: { autoCloseSec: 0 } };
    // A missed call already in this PC's log: the badge counts it on a hub too (the core never "listens").
    const { openCallLogStore } = await import('../../main/core/call-log/store');
    const { callLogDir } = await import('../../main/core/config/paths');
    const log = await openCallLogStore(callLogDir(dir));
    const at = new Date(Date.now() - 3_600_000).toISOString();
    await log.put([{ id: '261201090000_7', direction: 'incoming', number: '05551239988', extension: '117', queue: null, did: null, startedAt: at, durationSec: null, transferType: null, transferredTo: null, transferredFrom: null, answeredBy: null, recordings: [], seen: false, status: 'ended', result: 'missed', answeredAt: null, endedAt: at }]);
    await log.close();
    await import('../../main/app/index');

    const wins = () => h.windows as FakeWin[];
    const popup = await until(() => wins().find((w) => w.webContents.url === 'app://callpop/popup.html'), 'the popup window');
    const main = await until(() => wins().find((w) => w.webContents.url === 'app://callpop/index.html'), 'the main window');
    await until(() => h.handlers.has('settings:setHubPassword'), 'IPC handlers');
    const invoke = (w: FakeWin, channel: string, args: unknown) => Promise.resolve(h.handlers.get(channel)!({ sender: { id: w.webContents.id }, senderFrame: { url: w.webContents.url } }, args));
    await invoke(popup, 'app:rendererReady', { view: 'popup' });
    await invoke(main, 'app:rendererReady', { view: 'main' });
    const lastService = () => (main.webContents.sent.filter(([c]) => c === 'push:status').at(-1)?.[1] as { service: Service } | undefined)?.service;

    // A PC preset for the hub asks only for the password.
    await until(() => lastService()?.state === 'hub-setup', 'the setup state');
    expect(lastService()).toEqual({ state: 'hub-setup', message: 'Enter the hub password (Settings → Connection).' });
    await until(() => (main.webContents.sent.filter(([c]) => c === 'push:status').at(-1)?.[1] as { missedUnseen: number }).missedUnseen === 1, 'the badge counting the earlier missed call');
    expect(await invoke(main, 'settings:getHubPassword', {})).toEqual({ hasPassword: false, available: true });
    expect(await invoke(main, 'settings:setHubPassword', { password })).toEqual({ ok: true });
    expect(await invoke(main, 'settings:getHubPassword', {})).toEqual({ hasPassword: true, available: true });
    const connected = await until(() => (lastService()?.state === 'hub-connected' ? lastService() : null), 'connected to the hub');
    expect(connected).toMatchObject({ state: 'hub-connected', extension: '117', url: hub.brokerUrl });

    // Through safeStorage into its own file; the core got it in a message; never stored or logged in clear.
    expect(h.encrypted).toEqual([password]);
    const file = await readFile(join(dir, 'hub-password.bin'));
    expect(file.includes(Buffer.from(password))).toBe(false);
    expect(h.toCore.some((m) => m.type === 'settings' && m.hubPassword === password)).toBe(true);
    expect(JSON.stringify(h.store)).not.toContain(password);
    for (const w of wins()) expect(JSON.stringify(w.webContents.sent)).not.toContain(password);

    // A ring posted to the hub pops.
    const reqs = flowRequests(findSeedFlow('hunt-missed')!, { extension: '117', validJson: true, freshIds: { stamp: '261201' + String(Date.now() % 1_000_000).padStart(6, '0') } });
    for (const raw of reqs.slice(0, 2)) expect((await sendWebhook(hub.webhookUrl, raw)).status).toBe(200);
    await until(() => popup.webContents.sent.some(([c, p]) => c === 'push:callUpdate' && (p as { change: string }).change === 'ringing'), 'the ring in the popup');
    expect(popup.visible).toBe(true);

    // Resume, unlock (coalesced with it) and a network change each reach the core, which reconnects.
    const reconnects = () => h.toCore.filter((m) => m.type === 'reconnect').map((m) => m.reason);
    const statesSince = (n: number) => main.webContents.sent.filter(([c]) => c === 'push:status').slice(n).map(([, p]) => (p as { service: Service }).service.state);
    let mark = main.webContents.sent.filter(([c]) => c === 'push:status').length;
    h.power!.emit('resume');
    h.power!.emit('unlock-screen');
    expect(reconnects()).toEqual(['resumed from sleep']);
    await until(() => statesSince(mark).includes('hub-reconnecting') && lastService()?.state === 'hub-connected', 'a reconnect after resume');
    mark = main.webContents.sent.filter(([c]) => c === 'push:status').length;
    await new Promise((r) => setTimeout(r, 1100)); // past the coalescing window
    h.interfaces = { wlan0: [{ address: '198.51.100.7', netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:02', internal: false, cidr: '198.51.100.7/24' }] };
    await until(() => reconnects().includes('network changed'), 'the network change (polled every 5 s)', 8000);
    await until(() => statesSince(mark).includes('hub-reconnecting') && lastService()?.state === 'hub-connected', 'a reconnect after the network change');

    // The log file says what happened, never the password.
    const logs = join(dir, 'logs');
    const text = (await Promise.all((await readdir(logs)).map((f) => readFile(join(logs, f), 'utf8')))).join('\n');
    expect(text).toContain('hub password saved');
    expect(text).toContain('Reconnecting to the hub now (resumed from sleep)');
    expect(text).not.toContain(password);

    const e = { preventDefault: vi.fn() };
    for (const l of h.appEvents.get('before-quit') ?? []) l(e);
    await until(() => h.exitCode !== null, 'app.exit');
    expect(h.exitCode).toBe(0);
  }, 40_000);
});
