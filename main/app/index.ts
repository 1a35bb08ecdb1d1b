// Electron main: wires the core service (utilityProcess), settings and policy, windows, tray,
// notifications, IPC and the custom protocols. Everything slow (network, disk, parsing webhooks)
// runs in the core process; main relays.
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, clipboard, dialog, globalShortcut, ipcMain, Menu, Notification, powerMonitor, protocol, safeStorage, session, shell, utilityProcess } from 'electron';
import { APP_ID } from '../../shared/app-id';
import { isHubState, isPbxState } from '../../shared/ipc/contract';
import type { AppStatus, CallView, LogPage, PushChannel, PushMap } from '../../shared/ipc/contract';
import type { Logger } from '../../shared/diagnostics-log';
import { createFileLogger } from '../core/diagnostics-log-file';
import { startupPaths } from '../core/config/local-overrides';
import { loadPolicySync, watchPolicy } from '../core/config/policy-file';
import { generateWebhookSecret } from '../core/listener/secret';
import { CallNotifier } from './notifications';
import { CredentialStore, CREDENTIALS_FILE, HUB_PASSWORD_FILE, HubPasswordService, HubPasswordStore, RecordingCredentialsService } from './credentials';
import { DownloadedFiles } from './downloads';
import { registerIpc } from './ipc';
import { createMainHandlers } from './main-handlers';
import { applyAppMenu } from './menu';
import { PopupController } from './popup-controller';
import { watchPowerEvents } from './power-events';
import { createAppProtocolHandler, createMediaProtocolHandler, MEDIA_SCHEME, privilegedSchemes } from './protocols';
import { MAIN_WINDOW_ONLY, WindowPushQueue } from './window-push-queue';
import { denyAllPermissions, hardenWebContents, safeExternalUrl } from './security';
import type { HardenableContents } from './security';
import { SettingsService } from './settings-service';
import { createSettingsStore } from './settings-store';
import { GlobalShortcut } from './shortcut';
import { Supervisor } from './supervisor';
import type { ServiceChild } from './supervisor';
import { TrayController } from './tray';
import { startUpdateChecks } from './updates';
import { WindowManager } from './windows';

const here = dirname(fileURLToPath(import.meta.url));
const paths = {
  preload: join(here, '../preload/index.cjs'),
  renderer: join(here, '../renderer'),
  serviceHost: join(here, 'service-host.js'),
};
/** `electron-vite dev`: pages from the renderer dev server (never in a packaged app). */
const devServer = !app.isPackaged && process.env.ELECTRON_RENDERER_URL ? new URL(process.env.ELECTRON_RENDERER_URL).origin : null;
/** Started at login: stay in the tray. */
const startHidden = process.argv.includes('--hidden');

// --config / CALLPOP_CONFIG / CALLPOP_USER_DATA_DIR (another policy file, another data folder; the
// single-instance lock follows it): always in development and tests, in a packaged app only when the
// machine policy allows them, since they would undo its locks.
const startup = startupPaths({ isPackaged: app.isPackaged, platform: process.platform, env: process.env, argv: process.argv });
if (startup.userDataDir) app.setPath('userData', startup.userDataDir);
app.enableSandbox();
app.setAppUserModelId(APP_ID);
protocol.registerSchemesAsPrivileged(privilegedSchemes);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.whenReady().then(start, (e: unknown) => {
    console.error(`Callpop failed to start: ${String(e)}`);
    app.exit(1);
  });
}

async function start(): Promise<void> {
  const userData = app.getPath('userData');
  const logDir = app.getPath('logs');
  const fileLogger = createFileLogger({ dir: logDir, fileName: 'callpop.log' });
  const logger: Logger = fileLogger;
  logger.info(`Callpop ${app.getVersion()} starting (Electron ${process.versions.electron}, ${process.platform})`);

  // Settings: built-in defaults < policy defaults < user < policy locks.
  const policyFile = startup.policyFile;
  if (startup.ignored.length > 0) logger.warn(`${startup.ignored.join(', ')} ignored: a packaged app honours them only when the machine policy sets "allowLocalOverrides": true`);
  let loginName = '';
  try {
    loginName = os.userInfo().username;
  } catch {
    /* no passwd entry: no login mapping */
  }
  // Set once the supervisor exists: the port the core's listener bound (listenPort 0 = any).
  let boundPort: () => number | null = () => null;
  const settings = new SettingsService({
    store: createSettingsStore(),
    loginName,
    generateSecret: generateWebhookSecret,
    networkInterfaces: () => os.networkInterfaces(),
    logger,
    policy: loadPolicySync(policyFile),
    boundPort: () => boundPort(),
  });
  settings.ensureSecret();
  fileLogger.setDebug(settings.settings.debugLogging);
  const stopPolicyWatch = watchPolicy(policyFile, (r) => settings.setPolicy(r));

  // Saved from Settings → Recordings; every change goes to the running core with the settings.
  const credentials = new RecordingCredentialsService(new CredentialStore(join(userData, CREDENTIALS_FILE), safeStorage), (recordingCredentials) => {
    supervisor.sendSettings({ settings: settings.settings, recordingCredentials });
    logger.info(recordingCredentials ? 'credentials: recording credentials saved' : 'credentials: recording credentials cleared');
  });
  const credentialsProblem = await credentials.load();
  if (credentialsProblem) logger.warn(`credentials: ${credentialsProblem}`);
  // Settings → Connection → Callpop hub: the password goes to the core in memory only (never logged).
  const hubPassword = new HubPasswordService(new HubPasswordStore(join(userData, HUB_PASSWORD_FILE), safeStorage), (password) => {
    supervisor.sendSettings({ settings: settings.settings, hubPassword: password });
    logger.info(password ? 'credentials: hub password saved' : 'credentials: hub password cleared');
  });
  const hubPasswordProblem = await hubPassword.load();
  if (hubPasswordProblem) logger.warn(`credentials: ${hubPasswordProblem}`);

  const pushes = new WindowPushQueue();
  const openExternal = (url: string) => {
    const href = safeExternalUrl(url); // the normalised href, never the raw string that was checked
    if (href) void shell.openExternal(href).catch((e: unknown) => logger.warn(`shell: cannot open link: ${String(e)}`));
  };
  const windows = new WindowManager({ preload: paths.preload, icon: join(app.getAppPath(), 'assets', 'icon.png'), pushes, openExternal, settings: () => settings.settings, logger, ...(devServer ? { pageBase: devServer } : {}) });

  let missedUnseen = 0;
  /** Hub mode: shared callbacks nobody has claimed (push:callbacks); added to the badge. */
  let callbacksOpen = 0;
  let tray: TrayController | null = null;
  let quitting = false;

  const supervisor: Supervisor = new Supervisor({
    fork: () => utilityProcess.fork(paths.serviceHost, [], { serviceName: 'Callpop core', stdio: 'inherit' }) as unknown as ServiceChild,
    init: () => ({ type: 'init', settings: settings.settings, dataDir: userData, downloadDir: app.getPath('downloads'), recordingCredentials: credentials.value, hubPassword: hubPassword.value }),
    onPush: ({ channel, payload }) => route(channel, payload),
    onState: (s) => {
      if (s.state === 'listening') {
        void refreshMissed();
        // The URLs in Settings show the bound port (listenPort 0).
        pushes.push('push:settings', settings.view());
      }
      // On a hub the core never listens: the badge is counted once its log is open (any hub state).
      if (isHubState(s) || isPbxState(s)) void refreshMissed();
      if (s.state === 'restarting') logger.warn(`core: ${s.message}`);
      pushStatus();
    },
    log: (level, message) => logger[level](message),
  });
  boundPort = () => (supervisor.state.state === 'listening' ? supervisor.state.port : null);

  const popups = new PopupController({
    settings: () => settings.settings,
    window: { show: () => windows.showPopup(), hide: () => windows.hidePopup(), send: (u) => windows.sendToPopup(u) },
  });
  const notifier = new CallNotifier({
    isSupported: () => Notification.isSupported(),
    create: (o) => new Notification(o),
    settings: () => settings.settings,
    openCall: (target) => windows.showMain(target),
  });
  const downloads = new DownloadedFiles(async () => (await supervisor.invoke('recording:list', {})) as PushMap['push:download'][]);

  // The global shortcut focuses the popup's newest card; with no card it opens the Calls view.
  const shortcut = new GlobalShortcut(globalShortcut, () => {
    if (!windows.focusPopup()) windows.showMain({ view: 'calls' });
  });
  const applyShortcut = () => {
    const problem = shortcut.apply(settings.settings.popup.shortcut);
    if (problem) logger.warn(`shortcut: ${problem}`);
  };
  applyShortcut();

  const status = (): AppStatus => ({
    service: supervisor.state,
    popupsPaused: popups.paused,
    missedUnseen,
    callbacksOpen,
    policyError: settings.policyError,
    shortcutError: shortcut.error,
  });
  function pushStatus(): void {
    const s = status();
    pushes.push('push:status', s);
    tray?.update(s);
  }
  function setMissed(n: number): void {
    if (n === missedUnseen) return;
    missedUnseen = n;
    app.setBadgeCount(n + callbacksOpen); // macOS dock, Linux Unity; no-op elsewhere (the tray shows it)
    pushStatus();
  }
  async function refreshMissed(): Promise<void> {
    try {
      const page = (await supervisor.invoke('log:query', { result: 'missed', unseenOnly: true, offset: 0, limit: 1 })) as LogPage;
      setMissed(page.total);
    } catch {
      /* shown once the core pushes push:logChanged */
    }
  }
  const popupId = () => windows.popupId;
  function route<P extends PushChannel>(channel: P, payload: PushMap[P]): void {
    switch (channel) {
      case 'push:callUpdate': {
        const u = payload as PushMap['push:callUpdate'];
        // The popup only receives the calls it shows (the popup controller sends them).
        pushes.push('push:callUpdate', u, (id) => id !== popupId());
        popups.onCallUpdate(u);
        notifier.onCallUpdate(u.change, u.record, u.backfill === true);
        return;
      }
      case 'push:download':
        downloads.note(payload as PushMap['push:download']);
        break;
      case 'push:logChanged':
        setMissed((payload as PushMap['push:logChanged']).missedUnseen);
        break;
      case 'push:callbacks': {
        const open = (payload as PushMap['push:callbacks']).items.filter((i) => i.state === 'open').length;
        if (open !== callbacksOpen) {
          callbacksOpen = open;
          app.setBadgeCount(missedUnseen + callbacksOpen);
          pushStatus();
        }
        break;
      }
    }
    pushes.push(channel, payload, MAIN_WINDOW_ONLY.has(channel) ? (id) => id !== popupId() : undefined);
  }

  const applyLoginItem = () => {
    if (process.platform === 'linux') return; // not supported by Electron; packages use autostart files
    try {
      app.setLoginItemSettings({ openAtLogin: settings.settings.startAtLogin, args: ['--hidden'] });
    } catch (e) {
      logger.warn(`login item: ${String(e)}`);
    }
  };
  applyLoginItem();
  settings.onChange((view, previous) => {
    pushes.push('push:settings', view);
    supervisor.sendSettings({ settings: view.settings });
    fileLogger.setDebug(view.settings.debugLogging);
    if (previous.startAtLogin !== view.settings.startAtLogin) applyLoginItem();
    popups.settingsChanged();
    if (previous.popup.shortcut !== view.settings.popup.shortcut) applyShortcut();
    pushStatus();
  });

  // Pages come only from app://callpop (the built renderer), recordings only from callpop-media.
  protocol.handle('app', createAppProtocolHandler(paths.renderer));
  protocol.handle(MEDIA_SCHEME, createMediaProtocolHandler((id) => downloads.pathOf(id)));
  denyAllPermissions(session.defaultSession);
  app.on('web-contents-created', (_e, wc) => hardenWebContents(wc as unknown as HardenableContents, openExternal));

  const focused = () => windows.createMain();
  registerIpc({
    ipcMain: ipcMain as never,
    isOwnWebContents: (id) => windows.isOwn(id),
    core: (channel, args) => supervisor.invoke(channel, args),
    logger,
    devOrigin: devServer,
    main: createMainHandlers({
      settings,
      status,
      rendererReady: (id, view) => {
        pushes.ready(id);
        // A (re)loaded popup page: main's open cards again, and the core's live calls after a restart.
        if (view === 'popup' && id === windows.popupId) {
          popups.restore(() => supervisor.invoke('calls:active', {}) as Promise<CallView[]>).catch((e: unknown) => logger.warn(`popup: cannot restore the live calls: ${String(e)}`));
        }
      },
      dismissPopup: (callId) => popups.dismiss(callId),
      returnPopupFocus: () => windows.returnPopupFocus(),
      displays: () => windows.displays(),
      resizePopup: (id, height) => {
        if (id === windows.popupId) windows.resizePopup(height);
      },
      credentials,
      hubPassword,
      setPopupsPaused: (paused) => {
        popups.setPaused(paused);
        pushStatus();
      },
      openMain: (target) => windows.showMain(target),
      openLogsFolder: async () => {
        const err = await shell.openPath(logDir);
        if (err) logger.warn(`cannot open the logs folder: ${err}`);
      },
      core: (channel, args) => supervisor.invoke(channel, args),
      openExternal: (url) => shell.openExternal(url),
      showItemInFolder: (p) => shell.showItemInFolder(p),
      writeClipboard: (text) => clipboard.writeText(text),
      saveDialog: async (o) => {
        const r = await dialog.showSaveDialog(focused(), o);
        return r.canceled || !r.filePath ? null : r.filePath;
      },
      openDialog: async (o) => {
        const r = await dialog.showOpenDialog(focused(), { ...o, properties: ['openFile'] });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      downloads,
      logger,
    }),
  });

  // A packaged app: no reload or DevTools (no menu on Windows/Linux, macOS a menu without them).
  applyAppMenu(Menu, { isPackaged: app.isPackaged, platform: process.platform });

  supervisor.start();
  windows.createPopup(); // loaded ahead, hidden: a call pops without waiting for a page load
  windows.createMain();
  if (!startHidden) windows.showMain();

  tray = new TrayController(join(app.getAppPath(), 'assets', 'tray'), {
    open: () => windows.showMain(),
    setPaused: (paused) => {
      popups.setPaused(paused);
      pushStatus();
    },
    settings: () => windows.showMain({ view: 'settings' }),
    openLogs: () => void shell.openPath(logDir),
    quit: () => app.quit(),
  });
  pushStatus();

  const stopUpdates = startUpdateChecks({ settings: () => settings.settings, isPackaged: app.isPackaged, logger });
  // Resume, unlock and network changes: the core reconnects to the hub at once (no-op for the listener).
  const stopPowerEvents = watchPowerEvents({ powerMonitor, interfaces: () => os.networkInterfaces(), reconnect: (reason) => supervisor.reconnect(reason) });

  app.on('second-instance', () => windows.showMain());
  app.on('activate', () => windows.showMain());
  // Closing windows keeps Callpop in the tray; only Quit ends it.
  app.on('window-all-closed', () => {});
  app.on('before-quit', (e) => {
    windows.quitting = true;
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    logger.info('quitting: flushing the core service');
    stopUpdates();
    stopPowerEvents();
    stopPolicyWatch();
    shortcut.release();
    void supervisor.stop(3000).finally(() => {
      tray?.destroy();
      logger.info('bye');
      fileLogger.close();
      windows.destroyAll();
      app.exit(0);
    });
  });
}
