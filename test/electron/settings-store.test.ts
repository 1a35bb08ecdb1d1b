// createSettingsStore over the real `conf` (what electron-store 11 extends); only electron-store's
// Electron glue (default cwd and app version) is replaced, since it imports `electron`.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron-store', async () => {
  const { default: Conf } = await import('conf');
  return {
    default: class extends Conf<Record<string, unknown>> {
      constructor({ name, ...rest }: { name: string; cwd: string } & Record<string, unknown>) {
        super({ ...rest, configName: name, projectName: 'callpop-test', projectVersion: '0.1.0' } as never);
      }
    },
  };
});

const { createSettingsStore } = await import('../../main/app/settings-store');
const { settingsFromJson } = await import('../../main/core/config/settings-file');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-store-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('electron-store settings', () => {
  it('keeps sparse overrides at the top level of <userData>/settings.json, readable by the CLI', async () => {
    const store = createSettingsStore({ cwd: dir });
    expect(store.read()).toEqual({});
    store.write({ extension: '117', popup: { position: 'top-left' } });
    const raw = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as Record<string, unknown>;
    expect(raw).toMatchObject({ extension: '117', popup: { position: 'top-left' } });
    expect(raw.__internal__).toEqual({ migrations: { version: '0.1.0' } });
    expect(store.read()).toEqual({ extension: '117', popup: { position: 'top-left' } });
    // the CLI's reader sees the same settings (defaults for the rest)
    const cli = settingsFromJson(raw);
    expect(cli.extension).toBe('117');
    expect(cli.popup.position).toBe('top-left');
    expect(cli.listenPort).toBe(8765);
    // a key the user reset disappears
    store.write({ extension: '117' });
    expect(store.read()).toEqual({ extension: '117' });
  });

  it('the first migration drops keys no version knows and keeps valid ones', async () => {
    await writeFile(join(dir, 'settings.json'), JSON.stringify({ extension: '204', bogus: 1, listenPort: 9100 }));
    const store = createSettingsStore({ cwd: dir });
    expect(store.read()).toEqual({ extension: '204', listenPort: 9100 });
  });

  it('starts clean from a corrupt file', async () => {
    await writeFile(join(dir, 'settings.json'), '{ not json');
    const store = createSettingsStore({ cwd: dir });
    expect(store.read()).toEqual({});
  });
});
