// The composition root (main/app/index.ts) with `electron` mocked at the module boundary and the
// REAL core: the "utility process" is an in-process port running main/core/desktop/utility-process.ts over
// the real createCoreBackend, listening on 127.0.0.1. A ringing webhook posted to that listener
// must pop the popup window (shown inactive, the call pushed to its page) and Quit must flush the core.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => ({
  dir: '',
  handlers: new Map<string, (event: unknown, args: unknown) => unknown>(),
  appEvents: new Map<string, ((...a: unknown[]) => void)[]>(),
  windows: [] as unknown[],
  exitCode: null as number | null,
  store: {} as Record<string, unknown>,
  children: [] as unknown[],
  /** Global shortcuts main registered (accelerator → callback); `refused` ones the "OS" declines. */
  shortcuts: new Map<string, () => void>(),
  refusedShortcuts: new Set<string>(),
}));

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

const primaryDisplay = { id: 1, label: 'Built-in', bounds: { x: 0, y: 0, width: 1600, height: 900 }, workArea: { x: 0, y: 0, width: 1600, height: 900 }, size: { width: 1600, height: 900 } };

vi.mock('electron', async () => {
  const { EventEmitter: EE } = await import('node:events');
  const { fakeApp, inProcessUtility } = await import('../support/electron-stand-ins');
  let nextId = 1;
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
    focused = false;
    constructor(readonly options: Record<string, unknown>) {
      super();
      h.windows.push(this);
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
      this.visible = this.focused = true;
    }
    showInactive() {
      this.visible = true;
    }
    hide() {
      this.visible = false;
    }
    focus() {}
    restore() {}
    destroy() {}
    bounds: { x: number; y: number; width: number; height: number } | null = null;
    setBounds(b: { x: number; y: number; width: number; height: number }) {
      this.bounds = b;
    }
    setAlwaysOnTop() {}
    setVisibleOnAllWorkspaces() {}
    setFocusable() {}
    blur() {}
    static getFocusedWindow() {
      return null;
    }
    static getAllWindows() {
      return h.windows;
    }
  }
  const fork = () => {
    const child = inProcessUtility();
    h.children.push(child);
    return child;
  };
  const app = fakeApp(h);
  const image = { isEmpty: () => true, setTemplateImage() {} };
  return {
    app,
    BrowserWindow,
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    ipcMain: { handle: (c: string, l: (e: unknown, a: unknown) => unknown) => h.handlers.set(c, l) },
    screen: {
      getPrimaryDisplay: () => primaryDisplay,
      getAllDisplays: () => [primaryDisplay],
      getCursorScreenPoint: () => ({ x: 10, y: 10 }),
      on: () => undefined,
    },
    globalShortcut: {
      register: (accel: string, cb: () => void) => !h.refusedShortcuts.has(accel) && !!h.shortcuts.set(accel, cb),
      unregister: (accel: string) => void h.shortcuts.delete(accel),
    },
    Menu: { buildFromTemplate: (t: unknown) => t },
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
    safeStorage: { isEncryptionAvailable: () => false },
    session: { defaultSession: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() } },
    shell: { openExternal: vi.fn(), openPath: vi.fn(async () => ''), showItemInFolder: vi.fn() },
    clipboard: { writeText: vi.fn() },
    dialog: {},
    utilityProcess: { fork },
    powerMonitor: new EE(),
  };
});

type FakeWin = { visible: boolean; bounds: { x: number; y: number; width: number; height: number } | null; webContents: { id: number; url: string; sent: [string, unknown][] } };

const until = async <T>(f: () => T | undefined | null | false, what: string, ms = 15_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const secret = 'mainapptestsecret_0123456789';

describe('main/app/index.ts with the real core', () => {
  afterAll(async () => {
    if (h.dir) await rm(h.dir, { recursive: true, force: true });
  });

  it('pops the popup for a ringing webhook of our extension and flushes the core on quit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-mainapp-'));
    process.env.CALLPOP_USER_DATA_DIR = dir;
    process.env.CALLPOP_CONFIG = join(dir, 'no-policy.json');
    h.store = { extension: '117', listenHost: '127.0.0.1', listenPort: 0, webhookSecret: secret, popup: { autoCloseSec: 0 } };
    await import('../../main/app/index');

    const wins = () => h.windows as FakeWin[];
    const popup = await until(() => wins().find((w) => w.webContents.url === 'app://callpop/popup.html'), 'the popup window');
    const main = await until(() => wins().find((w) => w.webContents.url === 'app://callpop/index.html'), 'the main window');
    expect(main.visible).toBe(true);
    await until(() => h.handlers.size >= 31, 'IPC handlers');

    const invoke = (w: FakeWin, channel: string, args: unknown, url = w.webContents.url) =>
      Promise.resolve(h.handlers.get(channel)!({ sender: { id: w.webContents.id }, senderFrame: { url } }, args));
    await invoke(popup, 'app:rendererReady', { view: 'popup' });
    await invoke(main, 'app:rendererReady', { view: 'main' });
    await expect(invoke(main, 'settings:get', {}, 'https://evil.example/')).rejects.toThrow('refused');

    // The core reports where it listens; main relays it as AppStatus to the pages.
    const st = await until(() => {
      const last = main.webContents.sent.filter(([c]) => c === 'push:status').at(-1)?.[1] as { service: { state: string; url: string } } | undefined;
      return last?.service.state === 'listening' ? last.service : null;
    }, 'a listening status push');
    expect(st.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/webhook/${secret}$`));

    const id = '261124101500_42-0'; // 3CX leg id; the call's id drops the leg suffix
    const res = await fetch(st.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Event: 'ringing', Callerid: '+12125550123', User: '117', Usertype: 'ext', Did: '', Id: id }) });
    expect(res.status).toBe(200);
    const pushed = await until(() => popup.webContents.sent.find(([c, p]) => c === 'push:callUpdate' && (p as { record: { number: string } }).record.number === '+12125550123'), 'the call in the popup');
    expect(pushed[1]).toMatchObject({ change: 'ringing', record: { number: '+12125550123', status: 'ringing', extension: '117' } });
    const callId = (pushed[1] as { record: { id: string } }).record.id;
    expect(popup.visible).toBe(true);
    expect(main.webContents.sent.some(([c]) => c === 'push:callUpdate')).toBe(true);

    // A core request from a page goes through the real core.
    const active = (await invoke(main, 'calls:active', {})) as { id: string }[];
    expect(active.map((c) => c.id)).toContain(callId);

    // Dismissing the only card hides the popup.
    await invoke(popup, 'popup:dismiss', { callId });
    expect(popup.visible).toBe(false);

    // A port change from Settings is stored, sent to the core, which rebinds; the new URL is pushed.
    const port = await new Promise<number>((res) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => res(p));
      });
    });
    const upd = (await invoke(main, 'settings:update', { listenPort: port })) as { ok: boolean };
    expect(upd.ok).toBe(true);
    expect(h.store.listenPort).toBe(port);
    expect(main.webContents.sent.some(([c, p]) => c === 'push:settings' && (p as { settings: { listenPort: number } }).settings.listenPort === port)).toBe(true);
    const moved = await until(() => {
      const last = main.webContents.sent.filter(([c]) => c === 'push:status').at(-1)?.[1] as { service: { state: string; port?: number; url: string } } | undefined;
      return last?.service.state === 'listening' && last.service.port === port ? last.service : null;
    }, 'the status push with the new port');
    expect(moved.url).toBe(`http://127.0.0.1:${port}/webhook/${secret}`);
    const again = await fetch(moved.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Event: 'ringing', Callerid: '+12125550199', User: '117', Usertype: 'ext', Did: '', Id: '261124101600_43-0' }) });
    expect(again.status).toBe(200);
    await until(() => popup.webContents.sent.some(([c, p]) => c === 'push:callUpdate' && (p as { record: { number: string } }).record.number === '+12125550199'), 'the second call');
    expect(popup.visible).toBe(true);

    // The global shortcut (default) is registered; pressing it focuses the popup, which is told to
    // focus its newest card; Esc there (popup:returnFocus) makes it unfocusable again.
    expect([...h.shortcuts.keys()]).toEqual(['CommandOrControl+Alt+P']);
    popup.webContents.sent.length = 0;
    h.shortcuts.get('CommandOrControl+Alt+P')!();
    expect(popup.webContents.sent).toContainEqual(['push:focusCard', {}]);
    await invoke(popup, 'popup:returnFocus', {});
    // A shortcut the OS refuses is reported in the status (Settings shows it); the old one is released.
    h.refusedShortcuts.add('Alt+Shift+K');
    expect(((await invoke(main, 'settings:update', { popup: { shortcut: 'Alt+Shift+K' } })) as { ok: boolean }).ok).toBe(true);
    expect(h.shortcuts.size).toBe(0);
    const refused = await until(() => {
      const last = main.webContents.sent.filter(([c]) => c === 'push:status').at(-1)?.[1] as { shortcutError?: string | null } | undefined;
      return last?.shortcutError ?? null;
    }, 'the shortcut error in the status');
    expect(refused).toMatch(/refused the shortcut Alt\+Shift\+K/);
    await invoke(main, 'settings:update', { popup: { shortcut: 'CommandOrControl+Alt+P' } });
    expect([...h.shortcuts.keys()]).toEqual(['CommandOrControl+Alt+P']);

    // The popup page reports its height: the window grows upward from its bottom corner. Only the
    // popup's own report counts.
    await invoke(popup, 'popup:resize', { height: 300 });
    expect(popup.bounds).toEqual({ x: 1600 - 380 - 12, y: 900 - 300 - 12, width: 380, height: 300 });
    await invoke(main, 'popup:resize', { height: 900 });
    expect(popup.bounds?.height).toBe(300);

    // The popup page reloads: main sends it the live card again and keeps the window shown.
    popup.webContents.sent.length = 0;
    await invoke(popup, 'app:rendererReady', { view: 'popup' });
    await until(() => popup.webContents.sent.some(([c, p]) => c === 'push:callUpdate' && (p as { record: { number: string } }).record.number === '+12125550199'), 'the live card re-sent');
    expect(popup.webContents.sent.some(([c, p]) => c === 'push:callUpdate' && (p as { record: { id: string } }).record.id === callId)).toBe(false);
    expect(popup.visible).toBe(true);

    // No secure storage in this fake: the credentials cannot be saved, and Settings is told so.
    expect(await invoke(main, 'settings:getRecordingCredentials', {})).toEqual({ username: '', hasPassword: false, available: false });
    expect(await invoke(main, 'settings:setRecordingCredentials', { username: 'u', password: 'p' })).toMatchObject({ ok: false });

    // Quit: the core is shut down (flushed) before the app exits.
    const e = { preventDefault: vi.fn() };
    for (const l of h.appEvents.get('before-quit') ?? []) l(e);
    expect(e.preventDefault).toHaveBeenCalled();
    await until(() => h.exitCode !== null, 'app.exit');
    expect(h.exitCode).toBe(0);
    await expect(fetch(moved.url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});
