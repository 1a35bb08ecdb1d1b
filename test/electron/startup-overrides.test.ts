// main/app/index.ts in a PACKAGED app (electron mocked): CALLPOP_USER_DATA_DIR must not move the data
// folder (the machine policy on this box sets no allowLocalOverrides). The single-instance lock is
// refused so the module stops right after its top-level set-up.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';

const h = vi.hoisted(() => ({ setPath: [] as [string, string][], quit: 0 }));
vi.mock('electron-store', () => ({ default: class {} }));
vi.mock('electron-updater', () => ({ default: { autoUpdater: {} } }));
vi.mock('electron', () => ({
  app: {
    isPackaged: true,
    setPath: (n: string, p: string) => h.setPath.push([n, p]),
    enableSandbox: () => {},
    setAppUserModelId: () => {},
    requestSingleInstanceLock: () => false,
    quit: () => h.quit++,
    whenReady: () => new Promise(() => {}),
  },
  protocol: { registerSchemesAsPrivileged: () => {} },
}));

const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
});

describe.skipIf(existsSync('/etc/callpop/policy.json'))('packaged app start-up', () => {
  it('ignores CALLPOP_USER_DATA_DIR and CALLPOP_CONFIG', async () => {
    process.env.CALLPOP_USER_DATA_DIR = '/tmp/desktop-hardening-elsewhere';
    process.env.CALLPOP_CONFIG = '/tmp/desktop-hardening-empty-policy.json';
    await import('../../main/app/index');
    expect(h.setPath).toEqual([]);
    expect(h.quit).toBe(1);
  });
});
