// The window wiring with `electron` mocked at the module boundary (never the real binary).
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const created: FakeWindow[] = [];

class FakeContents extends EventEmitter {
  static nextId = 1;
  id = FakeContents.nextId++;
  openHandler: ((d: { url: string }) => { action: string }) | null = null;
  sent: [string, unknown][] = [];
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }) {
    this.openHandler = h;
  }
  send(channel: string, payload: unknown) {
    this.sent.push([channel, payload]);
  }
  isDestroyed() {
    return false;
  }
}

class FakeWindow extends EventEmitter {
  webContents = new FakeContents();
  loaded: string | null = null;
  visible = false;
  focused = false;
  bounds: unknown = null;
  alwaysOnTop: unknown[] = [];
  allWorkspaces: unknown[] = [];
  focusable: boolean;
  blurred = 0;
  constructor(readonly options: Record<string, unknown>) {
    super();
    this.focusable = options.focusable !== false;
    created.push(this);
  }
  loadURL(url: string) {
    this.loaded = url;
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
    this.focused = true;
  }
  showInactive() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {
    this.focused = true;
  }
  restore() {}
  setBounds(b: unknown) {
    this.bounds = b;
  }
  setAlwaysOnTop(...a: unknown[]) {
    this.alwaysOnTop = a;
  }
  setVisibleOnAllWorkspaces(...a: unknown[]) {
    this.allWorkspaces = a;
  }
  setFocusable(f: boolean) {
    this.focusable = f;
  }
  blur() {
    this.blurred++;
    this.focused = false;
  }
  static getAllWindows() {
    return created;
  }
  static getFocusedWindow() {
    return created.find((w) => w.focused) ?? null;
  }
}

interface FakeDisplay {
  id: number;
  label: string;
  bounds: { x: number; y: number; width: number; height: number };
  workArea: { x: number; y: number; width: number; height: number };
  size: { width: number; height: number };
}
const display = (id: number, label: string, x: number, width: number, height: number): FakeDisplay => ({
  id,
  label,
  bounds: { x, y: 0, width, height },
  workArea: { x, y: 0, width, height },
  size: { width, height },
});
const primaryDisplay = display(1, 'Built-in', 0, 1600, 900);
/** The monitors and the pointer as the tests set them (primary first). */
const screenState = { displays: [primaryDisplay] as FakeDisplay[], cursor: { x: 10, y: 10 }, removed: [] as (() => void)[] };
const appHide = vi.fn();

vi.mock('electron', () => ({
  BrowserWindow: FakeWindow,
  app: { hide: () => appHide() },
  screen: {
    getPrimaryDisplay: () => screenState.displays[0],
    getAllDisplays: () => screenState.displays,
    getCursorScreenPoint: () => screenState.cursor,
    on: (event: string, fn: () => void) => event === 'display-removed' && screenState.removed.push(fn),
  },
}));

const { choosePopupDisplay, popupTopLevel, WindowManager } = await import('../../main/app/windows');
const { WindowPushQueue } = await import('../../main/app/window-push-queue');
const { denyAllPermissions } = await import('../../main/app/security');
const { defaultSettings } = await import('../../shared/settings');
const { silentLogger } = await import('../../shared/diagnostics-log');

const preload = join('/app', 'out', 'preload', 'index.cjs');

function manager(position: 'bottom-right' | 'top-right' | 'bottom-left' | 'top-left' = 'bottom-right', displayChoice = 'primary') {
  const hub = new WindowPushQueue();
  const opened: string[] = [];
  const settings = () => {
    const s = defaultSettings();
    return { ...s, popup: { ...s.popup, position, display: displayChoice } };
  };
  const wm = new WindowManager({ preload, pushes: hub, openExternal: (u) => opened.push(u), settings, logger: silentLogger });
  return { wm, hub, opened };
}

describe('windows', () => {
  beforeEach(() => {
    created.length = 0;
    screenState.displays = [primaryDisplay];
    screenState.cursor = { x: 10, y: 10 };
    appHide.mockClear();
  });

  it('every window is sandboxed and isolated, without node, with our preload, on app://callpop', () => {
    const { wm } = manager();
    wm.createMain();
    wm.createPopup();
    expect(created).toHaveLength(2);
    for (const w of created) {
      expect(w.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true, webviewTag: false, preload });
      expect(w.loaded).toMatch(/^app:\/\/callpop\/(index|popup)\.html$/);
    }
  });

  it('the popup is frameless, on top, out of the taskbar and never focusable', () => {
    const { wm } = manager();
    const popup = wm.createPopup() as unknown as FakeWindow;
    expect(popup.options).toMatchObject({ frame: false, alwaysOnTop: true, skipTaskbar: true, focusable: false, show: false });
    expect(popup.alwaysOnTop[0]).toBe(true);
    wm.showPopup();
    expect(popup.visible).toBe(true);
    expect(popup.focused).toBe(false);
    expect(popup.bounds).toEqual({ x: 1600 - 380 - 12, y: 900 - 540 - 12, width: 380, height: 540 });
  });

  it('the popup resizes to its reported height and a bottom corner grows upward', () => {
    const { wm } = manager('bottom-right');
    const popup = wm.createPopup() as unknown as FakeWindow;
    wm.showPopup();
    wm.resizePopup(180);
    expect(popup.bounds).toEqual({ x: 1600 - 380 - 12, y: 900 - 180 - 12, width: 380, height: 180 });
    wm.resizePopup(700);
    expect(popup.bounds).toEqual({ x: 1600 - 380 - 12, y: 900 - 700 - 12, width: 380, height: 700 });
    // Taller than the work area: capped, still inside it (the page scrolls).
    wm.resizePopup(1200);
    expect(popup.bounds).toEqual({ x: 1600 - 380 - 12, y: 0, width: 380, height: 900 });
    // Hidden then shown again: the last reported height is kept.
    popup.hide();
    wm.resizePopup(250);
    wm.showPopup();
    expect(popup.bounds).toEqual({ x: 1600 - 380 - 12, y: 900 - 250 - 12, width: 380, height: 250 });
  });

  it('a top corner keeps its top edge when the popup grows', () => {
    const { wm } = manager('top-left');
    const popup = wm.createPopup() as unknown as FakeWindow;
    wm.resizePopup(200);
    expect(popup.bounds).toEqual({ x: 12, y: 12, width: 380, height: 200 });
    wm.resizePopup(600);
    expect(popup.bounds).toEqual({ x: 12, y: 12, width: 380, height: 600 });
  });

  it('closing the main window hides it unless quitting', () => {
    const { wm } = manager();
    const win = wm.createMain() as unknown as FakeWindow;
    win.show();
    const e = { preventDefault: vi.fn() };
    win.emit('close', e);
    expect(e.preventDefault).toHaveBeenCalled();
    expect(win.visible).toBe(false);
    wm.quitting = true;
    const e2 = { preventDefault: vi.fn() };
    win.emit('close', e2);
    expect(e2.preventDefault).not.toHaveBeenCalled();
  });

  it('denies window.open and navigation; safe http(s) links go to the browser', () => {
    const { wm, opened } = manager();
    const win = wm.createMain() as unknown as FakeWindow;
    const wc = win.webContents;
    expect(wc.openHandler!({ url: 'https://crm.example.com/x' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(wc.openHandler!({ url: 'https://user:pw@evil.example/' })).toEqual({ action: 'deny' });
    for (const ev of ['will-navigate', 'will-redirect'] as const) {
      const e = { preventDefault: vi.fn(), url: 'https://elsewhere.example/' };
      wc.emit(ev, e, 'https://elsewhere.example/');
      expect(e.preventDefault).toHaveBeenCalled();
    }
    const nav = { preventDefault: vi.fn(), url: 'app://callpop/other.html' };
    wc.emit('will-navigate', nav, 'app://callpop/other.html');
    expect(nav.preventDefault).toHaveBeenCalled();
    expect(opened).toEqual(['https://crm.example.com/x', 'https://elsewhere.example/']);
  });

  it('hardening twice (app-wide hook + window manager) opens an external link once', async () => {
    const { hardenWebContents } = await import('../../main/app/security');
    const { wm, opened } = manager();
    const wc = (wm.createMain() as unknown as FakeWindow).webContents;
    hardenWebContents(wc as never, (u) => opened.push(u));
    wc.emit('will-navigate', { preventDefault() {}, url: 'https://a.example/' }, 'https://a.example/');
    expect(opened).toEqual(['https://a.example/']);
  });

  it('knows its own webContents and queues pushes until the page is ready, again after a reload', () => {
    const { wm, hub } = manager();
    const win = wm.createMain() as unknown as FakeWindow;
    const id = win.webContents.id;
    expect(wm.isOwn(id)).toBe(true);
    expect(wm.isOwn(9999)).toBe(false);
    wm.showMain({ view: 'log', callId: 'c1' });
    expect(win.webContents.sent).toEqual([]);
    hub.ready(id);
    expect(win.webContents.sent).toEqual([['push:navigate', { view: 'log', callId: 'c1' }]]);
    win.webContents.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false });
    hub.push('push:logChanged', { missedUnseen: 1 });
    expect(win.webContents.sent).toHaveLength(1);
    hub.ready(id);
    expect(win.webContents.sent).toHaveLength(2);
    win.emit('closed');
    expect(wm.isOwn(id)).toBe(false);
  });
});

describe('popup above full-screen windows, on the chosen display', () => {
  const left = display(2, 'DELL U2720Q', -2560, 2560, 1440);
  const right = display(3, '', 1600, 1920, 1080);
  const setPlatform = (p: NodeJS.Platform) => Object.defineProperty(process, 'platform', { value: p, configurable: true });
  const realPlatform = process.platform;

  beforeEach(() => {
    created.length = 0;
    screenState.displays = [primaryDisplay, left, right];
    screenState.cursor = { x: 10, y: 10 };
    appHide.mockClear();
  });
  afterEach(() => setPlatform(realPlatform));

  it('uses the level that sits above full-screen windows on each platform', () => {
    expect(popupTopLevel('darwin')).toBe('screen-saver');
    expect(popupTopLevel('win32')).toBe('pop-up-menu');
    expect(popupTopLevel('linux')).toBe('floating');
    for (const platform of ['darwin', 'win32', 'linux'] as const) {
      setPlatform(platform);
      created.length = 0;
      const { wm } = manager();
      const popup = wm.createPopup() as unknown as FakeWindow;
      expect(popup.alwaysOnTop).toEqual([true, popupTopLevel(platform)]);
      expect(popup.allWorkspaces).toEqual([true, { visibleOnFullScreen: true }]);
      // Asserted again on every show (some window managers drop "above" while hidden).
      popup.alwaysOnTop = [];
      wm.showPopup();
      expect(popup.alwaysOnTop).toEqual([true, popupTopLevel(platform)]);
    }
  });

  it('chooses primary, the display under the pointer, or a display by name; a missing one falls back to primary', () => {
    const all = screenState.displays as never[];
    const at = (x: number, y: number) => () => ({ x, y });
    expect(choosePopupDisplay('primary', all, primaryDisplay as never, at(-100, 10))).toBe(primaryDisplay);
    expect(choosePopupDisplay('pointer', all, primaryDisplay as never, at(-100, 10))).toBe(left);
    expect(choosePopupDisplay('pointer', all, primaryDisplay as never, at(2000, 500))).toBe(right);
    expect(choosePopupDisplay('pointer', all, primaryDisplay as never, at(99999, 0))).toBe(primaryDisplay);
    expect(choosePopupDisplay('DELL U2720Q', all, primaryDisplay as never, at(0, 0))).toBe(left);
    // No label (Linux): named by size and place.
    expect(choosePopupDisplay('1920×1080 at 1600,0', all, primaryDisplay as never, at(0, 0))).toBe(right);
    expect(choosePopupDisplay('Unplugged TV', all, primaryDisplay as never, at(0, 0))).toBe(primaryDisplay);
  });

  it('shows the popup in the corner of the display under the pointer, and stays there while it shows', () => {
    const { wm } = manager('bottom-right', 'pointer');
    const popup = wm.createPopup() as unknown as FakeWindow;
    screenState.cursor = { x: 1700, y: 100 };
    wm.showPopup();
    expect(popup.bounds).toEqual({ x: 1600 + 1920 - 380 - 12, y: 1080 - 540 - 12, width: 380, height: 540 });
    // The pointer moves on; a second card or a resize does not make the popup jump.
    screenState.cursor = { x: -100, y: 100 };
    wm.showPopup();
    wm.resizePopup(200);
    expect(popup.bounds).toEqual({ x: 1600 + 1920 - 380 - 12, y: 1080 - 200 - 12, width: 380, height: 200 });
    // Hidden, then a new call: chosen again, where the pointer is now.
    popup.hide();
    wm.showPopup();
    expect(popup.bounds).toEqual({ x: -2560 + 2560 - 380 - 12, y: 1440 - 200 - 12, width: 380, height: 200 });
  });

  it('a named display that is unplugged while the popup shows: the popup moves to the primary one', () => {
    const { wm } = manager('top-left', 'DELL U2720Q');
    const popup = wm.createPopup() as unknown as FakeWindow;
    wm.showPopup();
    expect(popup.bounds).toMatchObject({ x: -2560 + 12, y: 12 });
    screenState.displays = [primaryDisplay, right];
    for (const fn of screenState.removed) fn();
    expect(popup.bounds).toMatchObject({ x: 12, y: 12 });
  });

  it('the shortcut focuses the popup and pushes focusCard; Esc gives the focus back to our window, or away (blur / app.hide)', () => {
    const { wm, hub } = manager();
    const main = wm.createMain() as unknown as FakeWindow;
    const popup = wm.createPopup() as unknown as FakeWindow;
    hub.ready(popup.webContents.id);
    expect(wm.focusPopup()).toBe(false); // hidden: no cards
    wm.showPopup();
    expect(popup.focused).toBe(false);

    // From our main window: Esc focuses it again.
    main.focus();
    expect(wm.focusPopup()).toBe(true);
    main.focused = false;
    expect(popup.focusable).toBe(true);
    expect(popup.focused).toBe(true);
    expect(popup.webContents.sent).toContainEqual(['push:focusCard', {}]);
    wm.returnPopupFocus();
    expect(main.focused).toBe(true);
    expect(popup.focusable).toBe(false);
    main.focused = false;
    popup.focused = false;

    // From another app (Windows, Linux): the popup gives the focus up.
    setPlatform('win32');
    wm.focusPopup();
    wm.returnPopupFocus();
    expect(popup.blurred).toBe(1);
    expect(popup.focusable).toBe(false);
    expect(appHide).not.toHaveBeenCalled();

    // macOS: the app hides (the previous app gets the focus back) and the popup shows again without focus.
    setPlatform('darwin');
    popup.focused = false;
    wm.focusPopup();
    popup.visible = true;
    wm.returnPopupFocus();
    expect(appHide).toHaveBeenCalledTimes(1);
    expect(popup.visible).toBe(true);
    expect(popup.focusable).toBe(false);
  });

  it('a click elsewhere (blur) makes the popup unfocusable again', () => {
    const { wm } = manager();
    const popup = wm.createPopup() as unknown as FakeWindow;
    wm.showPopup();
    wm.focusPopup();
    expect(popup.focusable).toBe(true);
    popup.emit('blur');
    expect(popup.focusable).toBe(false);
  });

  it('lists the displays for Settings', () => {
    const { wm } = manager();
    expect(wm.displays()).toEqual([
      { label: 'Built-in', primary: true, width: 1600, height: 900 },
      { label: 'DELL U2720Q', primary: false, width: 2560, height: 1440 },
      { label: '1920×1080 at 1600,0', primary: false, width: 1920, height: 1080 },
    ]);
  });
});

describe('session permissions', () => {
  it('denies every permission request and check', () => {
    let request: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | null = null;
    let check: ((wc: unknown, p: string) => boolean) | null = null;
    denyAllPermissions({ setPermissionRequestHandler: (h) => (request = h), setPermissionCheckHandler: (h) => (check = h) });
    for (const p of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal']) {
      const cb = vi.fn();
      request!(null, p, cb);
      expect(cb).toHaveBeenCalledWith(false);
      expect(check!(null, p)).toBe(false);
    }
  });
});
