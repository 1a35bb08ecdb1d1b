// A stand-in for the `electron` module, for the startup smoke test (test/smoke/startup.test.ts): the
// BUILT out/main/index.js runs under plain Node with this in Electron's place. It answers like Electron
// where the app reads an answer (paths, displays, ready, single-instance lock), forks the core as a real
// child process (utilityProcess.fork), loads the BUILT preload for a page, and reports what the app does
// to the test over the Node IPC channel. Modules the app does not use answer any call with undefined.
'use strict';
const { EventEmitter } = require('node:events');
const { fork } = require('node:child_process');
const { existsSync, readFileSync, mkdirSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = process.env.CALLPOP_SMOKE_ROOT || resolve(__dirname, '../../..');
const home = process.env.CALLPOP_SMOKE_HOME;
if (!home) throw new Error('stand-in electron: CALLPOP_SMOKE_HOME is not set');

// Electron sets these on `process`; libraries (electron-updater) read them at import.
process.resourcesPath = join(home, 'resources');
process.versions.electron = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')).version;
process.type = 'browser';

const report = (event) => {
  if (process.send) process.send({ smoke: true, ...event });
};
const safe = (v) => {
  try {
    return JSON.parse(JSON.stringify(v ?? null));
  } catch {
    return String(v);
  }
};

/** Any property is a function that records its call and returns undefined (chainable enough for options). */
function recorder(name) {
  return new Proxy(function () {}, {
    get(_t, prop) {
      if (prop === 'then') return undefined; // not a thenable
      if (typeof prop === 'symbol') return undefined;
      return (...args) => {
        report({ type: 'call', what: `${name}.${String(prop)}`, args: safe(args.filter((a) => typeof a !== 'function')) });
        return undefined;
      };
    },
  });
}

// --- app -------------------------------------------------------------------------------------------
const paths = {};
const pathFor = (name) => {
  if (!paths[name]) {
    paths[name] = join(home, name);
    mkdirSync(paths[name], { recursive: true });
  }
  return paths[name];
};
class App extends EventEmitter {
  constructor() {
    super();
    this.isPackaged = false;
    this.commandLine = recorder('app.commandLine');
    this.dock = recorder('app.dock');
    this.readyPromise = new Promise((r) => setImmediate(() => r()));
    this.readyPromise.then(() => this.emit('ready'));
  }
  whenReady() {
    return this.readyPromise;
  }
  isReady() {
    return true;
  }
  requestSingleInstanceLock() {
    report({ type: 'singleInstanceLock' });
    return true;
  }
  getPath(name) {
    return pathFor(name);
  }
  setPath(name, p) {
    paths[name] = p;
  }
  getAppPath() {
    return root;
  }
  getVersion() {
    return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  }
  getName() {
    return 'Callpop';
  }
  getLocale() {
    return 'en-US';
  }
  quit() {
    report({ type: 'quit' });
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => void (prevented = true) });
    if (!prevented) this.exit(0);
  }
  exit(code = 0) {
    report({ type: 'exit', code });
    for (const c of children) c.kill();
    setImmediate(() => process.exit(code));
  }
}
for (const m of ['enableSandbox', 'setAppUserModelId', 'setLoginItemSettings', 'setBadgeCount', 'focus', 'hide', 'show', 'setAboutPanelOptions', 'setName']) {
  App.prototype[m] = function (...args) {
    report({ type: 'call', what: `app.${m}`, args: safe(args) });
    return true;
  };
}
const app = new App();

// --- IPC ---------------------------------------------------------------------------------------------
const handlers = new Map();
const mainListeners = new EventEmitter();
const ipcMain = {
  handle(channel, fn) {
    handlers.set(channel, fn);
  },
  handleOnce(channel, fn) {
    handlers.set(channel, fn);
  },
  removeHandler(channel) {
    handlers.delete(channel);
  },
  on(channel, fn) {
    mainListeners.on(channel, fn);
    return ipcMain;
  },
  once(channel, fn) {
    mainListeners.once(channel, fn);
    return ipcMain;
  },
  removeListener(channel, fn) {
    mainListeners.removeListener(channel, fn);
    return ipcMain;
  },
};

// --- windows -----------------------------------------------------------------------------------------
let nextId = 1;
const windows = [];
class WebContents extends EventEmitter {
  constructor(win) {
    super();
    this.id = nextId++;
    this.win = win;
    this.url = '';
    this.session = session.defaultSession;
    this.pushed = [];
  }
  send(channel, payload) {
    this.pushed.push(channel);
    if (this.page) this.page.deliver(channel, payload);
    if (channel === 'push:status') report({ type: 'status', window: this.id, payload: safe(payload) });
  }
  setWindowOpenHandler(fn) {
    this.windowOpenHandler = fn;
  }
  getURL() {
    return this.url;
  }
  isDestroyed() {
    return this.win.destroyed;
  }
  isLoading() {
    return false;
  }
  focus() {}
  openDevTools() {}
  setZoomFactor() {}
  setVisualZoomLevelLimits() {
    return Promise.resolve();
  }
}
class BrowserWindow extends EventEmitter {
  constructor(options = {}) {
    super();
    this.options = options;
    this.destroyed = false;
    this.visible = false;
    this.bounds = { x: 0, y: 0, width: options.width ?? 800, height: options.height ?? 600 };
    this.webContents = new WebContents(this);
    windows.push(this);
    const preload = options.webPreferences?.preload ?? null;
    report({
      type: 'window',
      id: this.webContents.id,
      preload,
      preloadExists: preload ? existsSync(preload) : false,
      webPreferences: safe(options.webPreferences),
    });
    app.emit('web-contents-created', {}, this.webContents);
  }
  static getAllWindows() {
    return windows.filter((w) => !w.destroyed);
  }
  static fromWebContents(wc) {
    return windows.find((w) => w.webContents === wc) ?? null;
  }
  async loadURL(url) {
    this.webContents.url = url;
    report({ type: 'load', id: this.webContents.id, url });
    setImmediate(() => {
      this.webContents.emit('did-finish-load');
      this.emit('ready-to-show');
    });
  }
  async loadFile(file) {
    return this.loadURL(`file://${file}`);
  }
  show() {
    this.visible = true;
    this.emit('show');
  }
  showInactive() {
    this.show();
  }
  hide() {
    this.visible = false;
    this.emit('hide');
  }
  isVisible() {
    return this.visible;
  }
  isDestroyed() {
    return this.destroyed;
  }
  isMinimized() {
    return false;
  }
  isFocused() {
    return false;
  }
  close() {
    const e = { defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    this.emit('close', e);
    if (!e.defaultPrevented) this.destroy();
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('closed');
  }
  getBounds() {
    return { ...this.bounds };
  }
  setBounds(b) {
    this.bounds = { ...this.bounds, ...b };
  }
  getContentBounds() {
    return this.getBounds();
  }
  setContentBounds(b) {
    this.setBounds(b);
  }
  getSize() {
    return [this.bounds.width, this.bounds.height];
  }
  setSize(width, height) {
    this.setBounds({ width, height });
  }
  getPosition() {
    return [this.bounds.x, this.bounds.y];
  }
  setPosition(x, y) {
    this.setBounds({ x, y });
  }
}
for (const m of ['focus', 'blur', 'restore', 'minimize', 'maximize', 'setAlwaysOnTop', 'setVisibleOnAllWorkspaces', 'setSkipTaskbar', 'setMenuBarVisibility', 'setAutoHideMenuBar', 'setIcon', 'setTitle', 'moveTop', 'setFocusable', 'setMinimumSize', 'setOpacity', 'flashFrame', 'setFullScreenable', 'setIgnoreMouseEvents']) {
  BrowserWindow.prototype[m] = function (...args) {
    report({ type: 'call', what: `BrowserWindow.${m}`, args: safe(args) });
  };
}

// --- a page: the BUILT preload with its IPC wired to ipcMain ------------------------------------------
class Page {
  constructor(wc) {
    this.wc = wc;
    this.listeners = new EventEmitter();
    let api = null;
    const ipcRenderer = {
      invoke: async (channel, args) => {
        const h = handlers.get(channel);
        if (!h) throw new Error(`No handler registered for '${channel}'`);
        return h({ sender: wc, senderFrame: { url: wc.url } }, args);
      },
      on: (channel, fn) => this.listeners.on(channel, fn),
      removeListener: (channel, fn) => this.listeners.removeListener(channel, fn),
      send: (channel, ...args) => mainListeners.emit(channel, { sender: wc }, ...args),
    };
    const electron = { contextBridge: { exposeInMainWorld: (name, value) => void (api = { name, value }) }, ipcRenderer };
    const preload = wc.win.options.webPreferences.preload;
    const src = readFileSync(preload, 'utf8');
    const mod = { exports: {} };
    // Runs the built preload as Electron's sandboxed loader would: a function of require/module/exports.
    // From Electron 45 a sandboxed preload has no Buffer, setImmediate or clearImmediate (nor the events,
    // timers and url shims): they are undefined here too, so a bundle that needs them fails this test.
    new Function('require', 'module', 'exports', 'Buffer', 'setImmediate', 'clearImmediate', 'global', src)(
      (id) => {
        if (id === 'electron') return electron;
        throw new Error(`the sandboxed preload may not require '${id}'`);
      },
      mod,
      mod.exports,
      undefined,
      undefined,
      undefined,
      undefined,
    );
    if (!api) throw new Error('the preload exposed nothing');
    this.exposed = api;
  }
  deliver(channel, payload) {
    this.listeners.emit(channel, {}, payload);
  }
}

// --- the core: a real child process with a parentPort -------------------------------------------------
const children = new Set();
const utilityProcess = {
  fork(modulePath, args = [], options = {}) {
    report({ type: 'fork', modulePath, exists: existsSync(modulePath), serviceName: options.serviceName ?? null });
    const child = fork(modulePath, args, {
      execArgv: ['--require', join(__dirname, 'parent-port.cjs')],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    children.add(child);
    const proc = new EventEmitter();
    proc.pid = child.pid;
    proc.postMessage = (m) => {
      if (child.connected) child.send(m);
    };
    proc.kill = () => child.kill();
    child.on('message', (m) => proc.emit('message', m));
    child.on('spawn', () => {
      report({ type: 'forked', pid: child.pid });
      proc.emit('spawn');
    });
    child.on('exit', (code) => {
      children.delete(child);
      report({ type: 'coreExit', pid: child.pid, code });
      proc.emit('exit', code ?? 0);
    });
    return proc;
  },
};
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

// --- the rest ----------------------------------------------------------------------------------------
const session = {
  defaultSession: new Proxy(
    { webRequest: recorder('session.webRequest'), protocol: recorder('session.protocol'), on: () => undefined },
    { get: (t, p) => (p in t ? t[p] : recorder('session.defaultSession')[p]) },
  ),
};
const protocolHandlers = new Map();
const protocol = {
  registerSchemesAsPrivileged: (schemes) => report({ type: 'call', what: 'protocol.registerSchemesAsPrivileged', args: safe(schemes) }),
  handle: (scheme, fn) => void protocolHandlers.set(scheme, fn),
  unhandle: (scheme) => void protocolHandlers.delete(scheme),
  isProtocolHandled: (scheme) => protocolHandlers.has(scheme),
};
const display = { id: 1, label: 'Stand-in', bounds: { x: 0, y: 0, width: 1920, height: 1080 }, workArea: { x: 0, y: 0, width: 1920, height: 1040 }, workAreaSize: { width: 1920, height: 1040 }, size: { width: 1920, height: 1080 }, scaleFactor: 1, rotation: 0, internal: true };
const screen = Object.assign(new EventEmitter(), {
  getPrimaryDisplay: () => display,
  getAllDisplays: () => [display],
  getCursorScreenPoint: () => ({ x: 10, y: 10 }),
  getDisplayNearestPoint: () => display,
  getDisplayMatching: () => display,
});
const image = { isEmpty: () => false, resize: () => image, getSize: () => ({ width: 16, height: 16 }), setTemplateImage: () => undefined, toPNG: () => Buffer.alloc(0), toDataURL: () => 'data:image/png;base64,' };
const nativeImage = { createFromPath: () => image, createFromDataURL: () => image, createFromBuffer: () => image, createEmpty: () => image };
class Tray extends EventEmitter {
  constructor(img) {
    super();
    report({ type: 'tray' });
    this.img = img;
  }
}
for (const m of ['setToolTip', 'setImage', 'setContextMenu', 'setTitle', 'destroy', 'popUpContextMenu', 'displayBalloon']) Tray.prototype[m] = function () {};
class Notification extends EventEmitter {
  static isSupported() {
    return false;
  }
  constructor(o) {
    super();
    this.o = o;
  }
  show() {
    report({ type: 'notification', title: this.o?.title ?? '' });
  }
  close() {}
}
const Menu = {
  buildFromTemplate: (t) => ({ items: t, popup: () => undefined, closePopup: () => undefined }),
  setApplicationMenu: (m) => report({ type: 'call', what: 'Menu.setApplicationMenu', args: [m === null ? null : 'menu'] }),
  getApplicationMenu: () => null,
};
const globalShortcut = {
  registered: new Set(),
  register(accel) {
    this.registered.add(accel);
    report({ type: 'call', what: 'globalShortcut.register', args: [accel] });
    return true;
  },
  unregister(accel) {
    this.registered.delete(accel);
  },
  unregisterAll() {
    this.registered.clear();
  },
  isRegistered(accel) {
    return this.registered.has(accel);
  },
};
const safeStorage = { isEncryptionAvailable: () => false, encryptString: () => { throw new Error('no secure storage in the stand-in'); }, decryptString: () => { throw new Error('no secure storage in the stand-in'); }, getSelectedStorageBackend: () => 'basic_text' };
const nativeTheme = Object.assign(new EventEmitter(), { shouldUseDarkColors: false, themeSource: 'system' });
const powerMonitor = Object.assign(new EventEmitter(), { getSystemIdleTime: () => 0, getSystemIdleState: () => 'active' });

const electron = {
  app,
  BrowserWindow,
  ipcMain,
  utilityProcess,
  session,
  protocol,
  screen,
  nativeImage,
  Tray,
  Notification,
  Menu,
  MenuItem: class MenuItem {
    constructor(o) {
      Object.assign(this, o);
    }
  },
  globalShortcut,
  safeStorage,
  nativeTheme,
  powerMonitor,
  shell: recorder('shell'),
  clipboard: recorder('clipboard'),
  dialog: recorder('dialog'),
  autoUpdater: Object.assign(new EventEmitter(), { setFeedURL: () => undefined, checkForUpdates: () => undefined, quitAndInstall: () => undefined }),
  net: recorder('net'),
  webContents: { getAllWebContents: () => windows.map((w) => w.webContents), fromId: (id) => windows.find((w) => w.webContents.id === id)?.webContents ?? null },
  crashReporter: recorder('crashReporter'),
  powerSaveBlocker: recorder('powerSaveBlocker'),
  systemPreferences: recorder('systemPreferences'),
  desktopCapturer: recorder('desktopCapturer'),
  contentTracing: recorder('contentTracing'),
  netLog: recorder('netLog'),
  pushNotifications: recorder('pushNotifications'),
  inAppPurchase: recorder('inAppPurchase'),
  MessageChannelMain: class {},
  BaseWindow: BrowserWindow,
  WebContentsView: class {},
  View: class {},
  ShareMenu: class {},
  TouchBar: class {},
  ImageView: class {},
  webFrameMain: recorder('webFrameMain'),
  contextBridge: recorder('contextBridge'),
  ipcRenderer: recorder('ipcRenderer'),
  webFrame: recorder('webFrame'),
  parentPort: undefined,
};

// --- what the test asks for, over the IPC channel ----------------------------------------------------
const pages = new Map();
process.on('message', async (msg) => {
  if (!msg || !msg.smokeCommand) return;
  try {
    if (msg.smokeCommand === 'fetchPage') {
      const handler = protocolHandlers.get(new URL(msg.url).protocol.replace(':', ''));
      if (!handler) throw new Error(`no protocol handler for ${msg.url}`);
      const res = await handler(new Request(msg.url));
      const body = await res.text();
      report({ type: 'reply', id: msg.id, value: { status: res.status, contentType: res.headers.get('content-type'), body: body.slice(0, 4096) } });
    } else if (msg.smokeCommand === 'callApi') {
      const win = windows.find((w) => w.webContents.id === msg.window);
      if (!win) throw new Error(`no window ${msg.window}`);
      let page = pages.get(win.webContents.id);
      if (!page) {
        page = new Page(win.webContents);
        win.webContents.page = page;
        pages.set(win.webContents.id, page);
      }
      const value = await page.exposed.value[msg.method](...(msg.args ?? []));
      report({ type: 'reply', id: msg.id, value: safe({ exposedAs: page.exposed.name, result: value }) });
    } else if (msg.smokeCommand === 'quit') {
      app.quit();
      report({ type: 'reply', id: msg.id, value: null });
    }
  } catch (e) {
    report({ type: 'reply', id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});

module.exports = electron;
