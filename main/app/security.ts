// Hardening every window and the session: no new windows, no navigation away from the app, no
// permissions, external links only as validated http(s) URLs opened in the user's browser.
import type { BrowserWindowConstructorOptions } from 'electron';

/** The webPreferences every Callpop window gets. */
export function secureWebPreferences(preloadPath: string): NonNullable<BrowserWindowConstructorOptions['webPreferences']> {
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    // No middle-click "auxclick" events: a middle click on a link must not open anything.
    disableBlinkFeatures: 'Auxclick',
  };
}

/**
 * The normalised href of a link the app may hand to the OS browser (http(s), a host, no embedded
 * credentials), or null. Open this href, never the raw string: the WHATWG parser repairs inputs
 * like `https:\\evil\x` that an OS URL handler may read differently from what was checked.
 */
export function safeExternalUrl(url: string): string | null {
  try {
    const u = new URL(url);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '' && u.username === '' && u.password === '' ? u.href : null;
  } catch {
    return null;
  }
}

export const isSafeExternalUrl = (url: string): boolean => safeExternalUrl(url) !== null;

/** The parts of Electron's WebContents the hardening touches. */
export interface HardenableContents {
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  on(event: 'will-navigate' | 'will-redirect' | 'will-attach-webview', listener: (event: { preventDefault(): void }, ...rest: never[]) => void): unknown;
}

/**
 * Deny window.open and every navigation; http(s) targets open in the default browser instead.
 * The app's pages never navigate (hash routing inside React), so nothing legitimate is lost.
 */
const hardened = new WeakSet<object>();

export function hardenWebContents(wc: HardenableContents, openExternal: (url: string) => void): void {
  // Applied from both app 'web-contents-created' and the window manager: once is enough (and a
  // second set of listeners would open every external link twice).
  if (hardened.has(wc)) return;
  hardened.add(wc);
  const maybeOpen = (url: string) => {
    const href = safeExternalUrl(url);
    if (href) openExternal(href);
  };
  wc.setWindowOpenHandler(({ url }) => {
    maybeOpen(url);
    return { action: 'deny' };
  });
  wc.on('will-navigate', (event, ...rest) => {
    event.preventDefault();
    const details = rest[0] as unknown;
    const url = typeof details === 'string' ? details : (event as unknown as { url?: string }).url;
    if (url) maybeOpen(url);
  });
  wc.on('will-redirect', (event) => event.preventDefault());
  wc.on('will-attach-webview', (event) => event.preventDefault());
}

export interface HardenableSession {
  setPermissionRequestHandler(handler: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (wc: unknown, permission: string) => boolean): void;
}

/** No camera, microphone, notifications-from-page, geolocation, clipboard-read, … for any page. */
export function denyAllPermissions(session: HardenableSession): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
