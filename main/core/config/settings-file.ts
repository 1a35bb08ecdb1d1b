// Settings for `callpop serve` and friends: the same <dataDir>/settings.json the desktop app's
// electron-store writes (name "settings", settings at top level, electron-store's own bookkeeping
// under "__internal__", which we keep as found).
import { mkdirSync, readFileSync, renameSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSettings, settingsSchema, type Settings, type SettingsStore } from '../../../shared/settings';
import { silentLogger, type Logger } from '../../../shared/diagnostics-log';

export const settingsFileName = 'settings.json';
const internalKey = '__internal__';

export interface SettingsFile extends SettingsStore {
  readonly path: string;
}

function readJson(path: string, logger: Logger): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn(`Cannot read ${path}: ${(e as Error).message}; using default settings.`);
    return null;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  logger.warn(`${path} is not a JSON object; using default settings.`);
  return null;
}

/**
 * Validate what was read. A file that fails as a whole keeps every key that is valid on its own,
 * so one bad value (say a hand-edited port) does not throw away the extension and the secret.
 */
export function settingsFromJson(raw: Record<string, unknown>, logger: Logger = silentLogger): Settings {
  const { [internalKey]: _internal, ...rest } = raw;
  const whole = settingsSchema.safeParse(rest);
  if (whole.success) return whole.data;
  let kept: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(rest)) {
    if (!(key in settingsSchema.shape)) continue; // unknown keys: ignored (zod strips them too)
    const attempt = { ...kept, [key]: value };
    if (settingsSchema.safeParse(attempt).success) kept = attempt;
    else dropped.push(key);
  }
  logger.warn(`Invalid settings ignored (defaults used instead): ${dropped.join(', ') || 'file'}.`);
  return settingsSchema.parse(kept);
}

export function openSettingsFile(dataDir: string, options: { logger?: Logger } = {}): SettingsFile {
  const logger = options.logger ?? silentLogger;
  const path = join(dataDir, settingsFileName);
  return {
    path,
    get(): Settings {
      const raw = readJson(path, logger);
      return raw ? settingsFromJson(raw, logger) : defaultSettings();
    },
    set(settings: Settings): void {
      const valid = settingsSchema.parse(settings);
      const existing = readJson(path, silentLogger);
      // The app stores only what the user changed (so a machine policy's defaults still apply to the
      // rest): write the keys already in the file and those that differ from the defaults.
      const defaults = defaultSettings();
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(valid)) {
        const changed = JSON.stringify(value) !== JSON.stringify(defaults[key as keyof Settings]);
        if (changed || (existing && key in existing)) out[key] = value;
      }
      if (existing && internalKey in existing) out[internalKey] = existing[internalKey];
      mkdirSync(dataDir, { recursive: true });
      // Write a temp file and rename over the old one: a crash leaves the old or the new file, never half of one.
      const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
      try {
        writeFileSync(tmp, `${JSON.stringify(out, null, '\t')}\n`, { mode: 0o600, flush: true });
        renameSync(tmp, path);
      } catch (e) {
        try {
          unlinkSync(tmp);
        } catch {
          /* nothing to clean */
        }
        throw e;
      }
    },
  };
}
