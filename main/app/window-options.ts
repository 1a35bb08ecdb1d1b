// Window options and popup placement, kept free of Electron values so tests can read them.
import type { BrowserWindowConstructorOptions, Rectangle } from 'electron';
import type { Settings } from '../../shared/settings';
import { secureWebPreferences } from './security';

export const POPUP_WIDTH = 380;
/** Fits three stacked cards; the renderer may later report its real height. */
export const POPUP_HEIGHT = 540;
const POPUP_MARGIN = 12;

export function mainWindowOptions(preloadPath: string, icon?: string): BrowserWindowConstructorOptions {
  return {
    ...(icon ? { icon } : {}),
    width: 1000,
    height: 700,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Callpop',
    backgroundColor: '#1f2430',
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(preloadPath),
  };
}

/** Small, frameless, always on top, never in the taskbar, never focused. */
export function popupWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: POPUP_WIDTH,
    height: POPUP_HEIGHT,
    show: false,
    frame: false,
    transparent: true,
    resizable: false,
    movable: false,
    minimizable: false,
    maximizable: false,
    fullscreenable: false,
    skipTaskbar: true,
    alwaysOnTop: true,
    focusable: false,
    hasShadow: false,
    title: 'Callpop — incoming call',
    webPreferences: secureWebPreferences(preloadPath),
  };
}

/** The popup's bounds in the chosen corner of the display work area (the taskbar/tray side). */
export function popupBounds(workArea: Rectangle, position: Settings['popup']['position'], size = { width: POPUP_WIDTH, height: POPUP_HEIGHT }): Rectangle {
  const width = Math.min(size.width, workArea.width);
  const height = Math.min(size.height, workArea.height);
  const left = workArea.x + POPUP_MARGIN;
  const right = workArea.x + workArea.width - width - POPUP_MARGIN;
  const top = workArea.y + POPUP_MARGIN;
  const bottom = workArea.y + workArea.height - height - POPUP_MARGIN;
  const x = position.endsWith('left') ? left : right;
  const y = position.startsWith('top') ? top : bottom;
  return { x: Math.max(workArea.x, x), y: Math.max(workArea.y, y), width, height };
}

/**
 * Internal-extension heuristic for "external callers only": 3CX extensions are short (2–6 digits
 * in practice); a number with at most 6 digits and nothing but digits is taken as an extension,
 * anything longer (or with a + or other characters) as an outside caller.
 */
export function isInternalNumber(number: string): boolean {
  return /^\d{1,6}$/.test(number.trim());
}
