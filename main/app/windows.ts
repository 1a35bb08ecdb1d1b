// The two windows: the main window (hidden to the tray on close) and the popup (frameless, on top,
// never focused, in a screen corner). Both are hardened the same way and registered with the window
// push queue, which queues pushes until the page says it is ready.
import { app, BrowserWindow, screen } from 'electron';
import type { Display, Point, WebContents } from 'electron';
import type { CallView, DisplayInfo, NavigateTarget } from '../../shared/ipc/contract';
import type { CallChange } from '../../shared/call-record';
import type { Settings } from '../../shared/settings';
import type { Logger } from '../../shared/diagnostics-log';
import { APP_ORIGIN } from './ipc';
import type { WindowPushQueue } from './window-push-queue';
import { hardenWebContents } from './security';
import type { HardenableContents } from './security';
import { mainWindowOptions, POPUP_HEIGHT, POPUP_WIDTH, popupBounds, popupWindowOptions } from './window-options';

export interface WindowManagerOptions {
  preload: string;
  /** Window icon (Linux/Windows); macOS uses the bundle icon. */
  icon?: string;
  pushes: WindowPushQueue;
  openExternal: (url: string) => void;
  settings: () => Settings;
  logger: Logger;
  /** Where the pages come from: app://callpop, or the dev server under `electron-vite dev`. */
  pageBase?: string;
}


type TopLevel = 'screen-saver' | 'pop-up-menu' | 'floating';

/**
 * The always-on-top level that keeps the popup above full-screen windows. macOS: only 'screen-saver'
 * sits above a full-screen app's space (with visibleOnFullScreen). Windows: 'pop-up-menu' and up are
 * topmost above the taskbar, which a full-screen window covers. Linux: window managers take only
 * "above" (_NET_WM_STATE_ABOVE) and ignore the level, so the default 'floating'.
 */
export function popupTopLevel(platform: NodeJS.Platform): TopLevel {
  return platform === 'darwin' ? 'screen-saver' : platform === 'win32' ? 'pop-up-menu' : 'floating';
}

/** The name Settings shows and stores for a display (Linux often reports no label). */
export function displayName(d: Pick<Display, 'label' | 'bounds'>): string {
  return d.label?.trim() || `${d.bounds.width}×${d.bounds.height} at ${d.bounds.x},${d.bounds.y}`;
}

const contains = (d: Display, p: Point) => p.x >= d.bounds.x && p.x < d.bounds.x + d.bounds.width && p.y >= d.bounds.y && p.y < d.bounds.y + d.bounds.height;

/**
 * The display the popup goes on: "primary", "pointer" (the one under the mouse pointer), or a display
 * by name. A named display that is not connected any more, or a pointer outside every display, falls
 * back to the primary one.
 */
export function choosePopupDisplay(choice: string, displays: readonly Display[], primary: Display, pointer: () => Point): Display {
  if (choice === 'primary') return primary;
  if (choice === 'pointer') {
    const p = pointer();
    return displays.find((d) => contains(d, p)) ?? primary;
  }
  return displays.find((d) => displayName(d) === choice) ?? primary;
}

export class WindowManager {
  private mainWin: BrowserWindow | null = null;
  private popupWin: BrowserWindow | null = null;
  private readonly own = new Set<number>();
  /** The popup page's last reported content height (it sizes the window to its cards). */
  private popupHeight = POPUP_HEIGHT;
  /** The display the popup was placed on when it appeared: it stays there while it shows cards. */
  private popupDisplayId: number | null = null;
  /** The window that had the focus when the shortcut focused the popup (null: another app). */
  private focusBefore: BrowserWindow | null = null;
  private watchingDisplays = false;
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
    if (target) this.o.pushes.pushTo(win.webContents.id, 'push:navigate', target);
  }

  createPopup(): BrowserWindow {
    if (this.popupWin && !this.popupWin.isDestroyed()) return this.popupWin;
    const win = new BrowserWindow(popupWindowOptions(this.o.preload));
    this.keepOnTop(win);
    this.secure(win);
    // Focusable only between the global shortcut and Esc (or a click elsewhere).
    win.on('blur', () => win.setFocusable(false));
    if (!this.watchingDisplays) {
      this.watchingDisplays = true;
      // Its display was unplugged: move the popup to the chosen (or primary) display now.
      screen.on('display-removed', () => {
        if (this.popupWin && !this.popupWin.isDestroyed() && this.popupWin.isVisible()) this.popupWin.setBounds(this.popupPlace());
      });
    }
    // The popup is never closed by the user (it has no frame); if it is, recreate on next call.
    win.on('closed', () => (this.popupWin = null));
    void win.loadURL(`${this.o.pageBase ?? APP_ORIGIN}/popup.html`).catch((e: unknown) => this.o.logger.error(`window: popup page failed to load: ${String(e)}`));
    this.popupWin = win;
    return win;
  }

  /** Show the popup in its corner of the chosen display's work area, without taking focus. */
  showPopup(): void {
    const win = this.createPopup();
    // The display is chosen when the popup appears ("pointer": where the agent is now), not per card.
    if (!win.isVisible()) this.popupDisplayId = null;
    win.setBounds(this.popupPlace());
    if (!win.isVisible()) win.showInactive();
    // Some window managers drop "above" while a window is hidden: assert it on every show. (Not the
    // workspaces call: on macOS it briefly turns the app into a UI element, the Dock icon flickers.)
    win.setAlwaysOnTop(true, popupTopLevel(process.platform));
  }

  private keepOnTop(win: BrowserWindow): void {
    win.setAlwaysOnTop(true, popupTopLevel(process.platform));
    win.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
  }

  /**
   * The global shortcut: focus the popup (its page then focuses the newest card). False when it shows
   * no cards. Remembers which of our windows had the focus, for returnPopupFocus().
   */
  focusPopup(): boolean {
    const win = this.popupWin;
    if (!win || win.isDestroyed() || !win.isVisible()) return false;
    const before = BrowserWindow.getFocusedWindow();
    this.focusBefore = before && before !== win ? before : null;
    win.setFocusable(true);
    win.show();
    win.focus();
    this.o.pushes.pushTo(win.webContents.id, 'push:focusCard', {});
    return true;
  }

  /**
   * Esc in the focused popup: the focus goes back where it was. Our main window gets it back directly;
   * another app's window gets it by the popup giving it up (blur on Windows and Linux; on macOS the
   * app hides, which re-activates the previous app, and the popup is shown again without focus).
   */
  returnPopupFocus(): void {
    const win = this.popupWin;
    if (!win || win.isDestroyed()) return;
    const before = this.focusBefore;
    this.focusBefore = null;
    win.setFocusable(false);
    if (before && !before.isDestroyed()) {
      before.focus();
      return;
    }
    if (process.platform === 'darwin') {
      const visible = win.isVisible();
      app.hide();
      if (visible) win.showInactive();
    } else win.blur();
  }

  /** The monitors, for Settings → Popup → Display. */
  displays(): DisplayInfo[] {
    const primary = screen.getPrimaryDisplay();
    return screen.getAllDisplays().map((d) => ({ label: displayName(d), primary: d.id === primary.id, width: d.size.width, height: d.size.height }));
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
    const displays = screen.getAllDisplays();
    // Still connected: stay on it; else (first show, or it was unplugged) choose again.
    let display = displays.find((d) => d.id === this.popupDisplayId);
    if (!display) {
      const { popup } = this.o.settings();
      display = choosePopupDisplay(popup.display, displays, screen.getPrimaryDisplay(), () => screen.getCursorScreenPoint());
      this.popupDisplayId = display.id;
    }
    return popupBounds(display.workArea, this.o.settings().popup.position, { width: POPUP_WIDTH, height: this.popupHeight });
  }

  hidePopup(): void {
    if (this.popupWin && !this.popupWin.isDestroyed()) this.popupWin.hide();
  }

  sendToPopup(update: { change: CallChange; record: CallView }): void {
    const id = this.popupId ?? this.createPopup().webContents.id;
    this.o.pushes.pushTo(id, 'push:callUpdate', update);
  }

  destroyAll(): void {
    this.quitting = true;
    for (const w of BrowserWindow.getAllWindows()) w.destroy();
  }

  private secure(win: BrowserWindow): void {
    const wc: WebContents = win.webContents;
    const id = wc.id;
    this.own.add(id);
    this.o.pushes.add(wc);
    hardenWebContents(wc as unknown as HardenableContents, (url) => this.o.openExternal(url));
    // A reload: queue again until the new page calls rendererReady.
    wc.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) this.o.pushes.unready(id);
    });
    wc.on('render-process-gone', (_e, d) => this.o.logger.error(`window: renderer gone (${d.reason})`));
    win.on('closed', () => {
      this.own.delete(id);
      this.o.pushes.remove(id);
    });
  }
}
