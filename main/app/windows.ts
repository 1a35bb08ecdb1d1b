// The two windows: the main window (hidden to the tray on close) and the popup (frameless, on top,
// never focused, in a screen corner). Both are hardened the same way and registered with the push
// hub, which queues pushes until the page says it is ready.
import { BrowserWindow, screen } from 'electron';
import type { WebContents } from 'electron';
import type { CallView, NavigateTarget } from '../../shared/ipc/contract';
import type { CallChange } from '../../shared/call-record';
import type { Settings } from '../../shared/settings';
import type { Logger } from '../../shared/log';
import { APP_ORIGIN } from './ipc';
import type { PushHub } from './push-hub';
import { hardenWebContents } from './security';
import type { HardenableContents } from './security';
import { mainWindowOptions, POPUP_HEIGHT, POPUP_WIDTH, popupBounds, popupWindowOptions } from './window-options';

export interface WindowManagerOptions {
  preload: string;
  /** Window icon (Linux/Windows); macOS uses the bundle icon. */
  icon?: string;
  hub: PushHub;
  openExternal: (url: string) => void;
  settings: () => Settings;
  logger: Logger;
  /** Where the pages come from: app://callpop, or the dev server under `electron-vite dev`. */
  pageBase?: string;
}


export class WindowManager {
  private mainWin: BrowserWindow | null = null;
  private popupWin: BrowserWindow | null = null;
  private readonly own = new Set<number>();
  /** The popup page's last reported content height (it sizes the window to its cards). */
  private popupHeight = POPUP_HEIGHT;
  /** Set when the user really quits: closing the main window then closes it instead of hiding. */
  quitting = false;

  constructor(private readonly o: WindowManagerOptions) {}

  isOwn(webContentsId: number): boolean {
    return this.own.has(webContentsId);
  }

  get popupId(): number | null {
    return this.popupWin && !this.popupWin.isDestroyed() ? this.popupWin.webContents.id : null;
  }

  createMain(): BrowserWindow {
    if (this.mainWin && !this.mainWin.isDestroyed()) return this.mainWin;
    const win = new BrowserWindow(mainWindowOptions(this.o.preload, this.o.icon));
    this.secure(win);
    win.on('close', (e) => {
      if (this.quitting) return;
      e.preventDefault();
      win.hide();
    });
    win.on('closed', () => (this.mainWin = null));
    void win.loadURL(`${this.o.pageBase ?? APP_ORIGIN}/index.html`).catch((e: unknown) => this.o.logger.error(`window: main page failed to load: ${String(e)}`));
    this.mainWin = win;
    return win;
  }

  showMain(target?: NavigateTarget): void {
    const win = this.createMain();
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
    if (target) this.o.hub.pushTo(win.webContents.id, 'push:navigate', target);
  }

  createPopup(): BrowserWindow {
    if (this.popupWin && !this.popupWin.isDestroyed()) return this.popupWin;
    const win = new BrowserWindow(popupWindowOptions(this.o.preload));
    win.setAlwaysOnTop(true, process.platform === 'darwin' ? 'screen-saver' : 'pop-up-menu');
    if (process.platform === 'darwin') win.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
    this.secure(win);
    // The popup is never closed by the user (it has no frame); if it is, recreate on next call.
    win.on('closed', () => (this.popupWin = null));
    void win.loadURL(`${this.o.pageBase ?? APP_ORIGIN}/popup.html`).catch((e: unknown) => this.o.logger.error(`window: popup page failed to load: ${String(e)}`));
    this.popupWin = win;
    return win;
  }

  /** Show the popup in its corner of the primary display's work area, without taking focus. */
  showPopup(): void {
    const win = this.createPopup();
    win.setBounds(this.popupPlace());
    if (!win.isVisible()) win.showInactive();
  }

  /**
   * The popup page's content height changed: resize the window, keeping its corner where it is
   * (a bottom corner grows upward). Capped by the work area; the page scrolls beyond that.
   */
  resizePopup(height: number): void {
    this.popupHeight = height;
    if (this.popupWin && !this.popupWin.isDestroyed()) this.popupWin.setBounds(this.popupPlace());
  }

  private popupPlace() {
    return popupBounds(screen.getPrimaryDisplay().workArea, this.o.settings().popup.position, { width: POPUP_WIDTH, height: this.popupHeight });
  }

  hidePopup(): void {
    if (this.popupWin && !this.popupWin.isDestroyed()) this.popupWin.hide();
  }

  sendToPopup(update: { change: CallChange; record: CallView }): void {
    const id = this.popupId ?? this.createPopup().webContents.id;
    this.o.hub.pushTo(id, 'push:callUpdate', update);
  }

  destroyAll(): void {
    this.quitting = true;
    for (const w of BrowserWindow.getAllWindows()) w.destroy();
  }

  private secure(win: BrowserWindow): void {
    const wc: WebContents = win.webContents;
    const id = wc.id;
    this.own.add(id);
    this.o.hub.add(wc);
    hardenWebContents(wc as unknown as HardenableContents, (url) => this.o.openExternal(url));
    // A reload: queue again until the new page calls rendererReady.
    wc.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) this.o.hub.unready(id);
    });
    wc.on('render-process-gone', (_e, d) => this.o.logger.error(`window: renderer gone (${d.reason})`));
    win.on('closed', () => {
      this.own.delete(id);
      this.o.hub.remove(id);
    });
  }
}
