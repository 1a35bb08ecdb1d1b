// The user's settings in electron-store: <userData>/settings.json, settings at the top level (the
// CLI's main/core/config/settings-file.ts reads the same file). Only what the user changed is stored, so
// the machine policy's defaults still apply to everything else. Values are re-validated field by
// field on read (shared/policy.ts sanitizeOverrides), so a hand-edited file cannot break the app.
import Store from 'electron-store';
import { sanitizeOverrides } from '../../shared/policy';
import type { SettingsOverrides } from '../../shared/policy';
import type { UserOverridesStore } from './settings-service';

export const SETTINGS_STORE_NAME = 'settings';

type Raw = Record<string, unknown>;
/** electron-store keeps its migration bookkeeping under "__internal__"; it is not a setting. */
const INTERNAL_KEY = '__internal__';
const userPart = (raw: Raw): Raw => {
  const { [INTERNAL_KEY]: _internal, ...rest } = raw;
  return rest;
};

/** The store as migrations see it (electron-store's Conf instance). */
interface MigrationStore {
  store: Raw;
  delete(key: string): void;
}

/** Keyed by app version; electron-store runs the ones newer than the file's recorded version. */
export const settingsMigrations: Record<string, (store: MigrationStore) => void> = {
  // The first stored layout: sparse overrides at the top level. Drop keys no version knows.
  '0.1.0': (s) => {
    const { overrides } = sanitizeOverrides(userPart(s.store));
    for (const key of Object.keys(userPart(s.store))) if (!(key in overrides)) s.delete(key);
  },
};

export function createSettingsStore(options: { cwd?: string } = {}): UserOverridesStore {
  const store = new Store<Raw>({
    name: SETTINGS_STORE_NAME,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    clearInvalidConfig: true,
    migrations: settingsMigrations,
  });
  return {
    read: () => userPart(store.store),
    write: (overrides: SettingsOverrides) => {
      // Replace the whole object: a key the user reset must disappear, not linger.
      store.store = structuredClone(overrides) as Raw;
    },
  };
}
