// The application menu. A packaged app offers no reload or DevTools: Windows and Linux get no menu
// at all; macOS needs one (its copy/paste/quit shortcuts live there), so it gets the app, Edit and
// Window menus without a View menu. Development runs keep Electron's default menu (DevTools).
import type { MenuItemConstructorOptions } from 'electron';

export type MenuTemplate = MenuItemConstructorOptions[];

/** The macOS menu of a packaged app: standard roles, nothing that opens DevTools or reloads. */
export function productionMacMenu(): MenuTemplate {
  return [{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }];
}

/** The part of Electron's Menu this needs (a fake in tests). */
export interface MenuApi<M> {
  buildFromTemplate(template: MenuItemConstructorOptions[]): M;
  setApplicationMenu(menu: M | null): void;
}

/** Replace the default menu in a packaged app; leave it in development. */
export function applyAppMenu<M>(menu: MenuApi<M>, opts: { isPackaged: boolean; platform: NodeJS.Platform }): void {
  if (!opts.isPackaged) return;
  menu.setApplicationMenu(opts.platform === 'darwin' ? menu.buildFromTemplate(productionMacMenu()) : null);
}
