// The window wiring with `electron` mocked at the module boundary (never the real binary).
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

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
  constructor(readonly options: Record<string, unknown>) {
    super();
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
  setVisibleOnAllWorkspaces() {}
  static getAllWindows() {
    return created;
  }
}

vi.mock('electron', () => ({
  BrowserWindow: FakeWindow,
  screen: { getPrimaryDisplay: () => ({ workArea: { x: 0, y: 0, width: 1600, height: 900 } }) },
}));

const { WindowManager } = await import('../../main/app/windows');
const { PushHub } = await import('../../main/app/push-hub');
const { denyAllPermissions } = await import('../../main/app/security');
const { defaultSettings } = await import('../../shared/settings');
const { silentLogger } = await import('../../shared/log');

const preload = join('/app', 'out', 'preload', 'index.cjs');

function manager(position: 'bottom-right' | 'top-right' | 'bottom-left' | 'top-left' = 'bottom-right') {
  const hub = new PushHub();
  const opened: string[] = [];
  const settings = () => {
    const s = defaultSettings();
    return { ...s, popup: { ...s.popup, position } };
  };
  const wm = new WindowManager({ preload, hub, openExternal: (u) => opened.push(u), settings, logger: silentLogger });
  return { wm, hub, opened };
}

describe('windows', () => {
  beforeEach(() => {
    created.length = 0;
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
