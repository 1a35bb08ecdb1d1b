// The packaged app offers no DevTools or reload from its menu: none on Windows/Linux, a macOS menu
// built from standard roles without View. Development runs keep Electron's default menu.
import { describe, expect, it, vi } from 'vitest';
import type { MenuTemplate } from '../../main/app/menu';

vi.mock('electron', () => ({}));
const { applyAppMenu } = await import('../../main/app/menu');
type MenuItemConstructorOptions = MenuTemplate[number];

function fakeMenu() {
  const set: (MenuItemConstructorOptions[] | null)[] = [];
  return { set, api: { buildFromTemplate: (t: MenuItemConstructorOptions[]) => t, setApplicationMenu: (m: MenuItemConstructorOptions[] | null) => void set.push(m) } };
}

const roles = (items: MenuItemConstructorOptions[]): string[] =>
  items.flatMap((i) => [...(i.role ? [i.role] : []), ...(Array.isArray(i.submenu) ? roles(i.submenu as MenuItemConstructorOptions[]) : [])]);

describe('application menu', () => {
  it('packaged macOS: app, Edit and Window menus, nothing that reloads or opens DevTools', () => {
    const { set, api } = fakeMenu();
    applyAppMenu(api, { isPackaged: true, platform: 'darwin' });
    expect(set).toHaveLength(1);
    const r = roles(set[0]!);
    expect(r).toEqual(['appMenu', 'editMenu', 'windowMenu']);
    for (const bad of ['toggleDevTools', 'reload', 'forceReload', 'viewMenu']) expect(r).not.toContain(bad);
  });

  it('packaged Windows and Linux: no menu at all', () => {
    for (const platform of ['win32', 'linux'] as const) {
      const { set, api } = fakeMenu();
      applyAppMenu(api, { isPackaged: true, platform });
      expect(set).toEqual([null]);
    }
  });

  it('development runs keep the default menu (with DevTools)', () => {
    const { set, api } = fakeMenu();
    applyAppMenu(api, { isPackaged: false, platform: 'darwin' });
    expect(set).toEqual([]);
  });
});
