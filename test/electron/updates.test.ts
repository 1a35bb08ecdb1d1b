// The update checks with electron-updater mocked at the module boundary: https feeds only, and on
// Windows no check at all unless the build names a code-signing publisher, with a signature check
// that refuses an empty publisher list. app-update.yml is a real file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const fake = vi.hoisted(() => ({
  autoUpdater: {} as Record<string, unknown> & { feeds: unknown[]; checks: number; verified: [string[], string][] },
}));
vi.mock('electron-updater', () => ({ default: fake }));

const { publisherNames, startUpdateChecks, strictSignatureCheck } = await import('../../main/app/updates');
const { defaultSettings } = await import('../../shared/settings');

let dir = '';
let stop: (() => void) | null = null;
const lines: string[] = [];
const logger = { debug: () => {}, info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };

beforeEach(() => {
  vi.useFakeTimers();
  dir = mkdtempSync(join(tmpdir(), 'callpop-updates-'));
  lines.length = 0;
  const u = { feeds: [] as unknown[], checks: 0, verified: [] as [string[], string][] } as typeof fake.autoUpdater;
  u.setFeedURL = (o: unknown) => void u.feeds.push(o);
  u.checkForUpdatesAndNotify = () => {
    u.checks++;
    return Promise.resolve(null);
  };
  // electron-updater's own Authenticode check (NsisUpdater), as a spy.
  u.verifyUpdateCodeSignature = (names: string[], path: string) => {
    u.verified.push([names, path]);
    return Promise.resolve(null);
  };
  fake.autoUpdater = u;
});
afterEach(() => {
  stop?.();
  stop = null;
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

function run(url: string, platform: NodeJS.Platform, yaml: string | null, isPackaged = true) {
  const path = join(dir, 'app-update.yml');
  if (yaml !== null) writeFileSync(path, yaml);
  stop = startUpdateChecks({ settings: () => ({ ...defaultSettings(), updates: { enabled: true, url } }), isPackaged, logger, platform, updateConfigPath: path });
  vi.advanceTimersByTime(30_000);
}

const signed = 'provider: generic\nurl: https://updates.invalid/callpop/\npublisherName:\n  - Contoso Ltd\n  - "Contoso, Inc."\nupdaterCacheDirName: callpop-updater\n';
const unsigned = 'provider: generic\nurl: https://updates.invalid/callpop/\nupdaterCacheDirName: callpop-updater\n';

describe('update checks', () => {
  it('refuses a plain http feed (even if it got past the settings schema)', () => {
    run('http://updates.example.com/callpop/', 'linux', null);
    expect(fake.autoUpdater.feeds).toEqual([]);
    expect(fake.autoUpdater.checks).toBe(0);
    expect(lines).toContain('error updates: not checking: the update URL must be https:, not http:');
  });

  it('checks an https feed on Linux, and says that nothing is signature-checked there', () => {
    run('https://updates.example.com/callpop/', 'linux', null);
    expect(fake.autoUpdater.feeds).toEqual([{ provider: 'generic', url: 'https://updates.example.com/callpop/' }]);
    expect(fake.autoUpdater.checks).toBe(1);
    expect(fake.autoUpdater.disableWebInstaller).toBe(true);
    expect(lines.some((l) => l.startsWith('warn updates: Linux packages carry no signature'))).toBe(true);
  });

  it('Windows, unsigned build (no publisherName): never checks, so nothing is installed unverified', () => {
    run('https://updates.example.com/callpop/', 'win32', unsigned);
    vi.advanceTimersByTime(6 * 60 * 60 * 1000);
    expect(fake.autoUpdater.checks).toBe(0);
    expect(fake.autoUpdater.feeds).toEqual([]);
    expect(lines.filter((l) => l.includes('names no code-signing publisher'))).toHaveLength(1);
  });

  it('Windows, no app-update.yml at all: the same', () => {
    run('https://updates.example.com/callpop/', 'win32', null);
    expect(fake.autoUpdater.checks).toBe(0);
  });

  it('Windows, signed build: checks, and the signature check refuses an empty publisher list', async () => {
    run('https://updates.example.com/callpop/', 'win32', signed);
    expect(fake.autoUpdater.checks).toBe(1);
    const verify = fake.autoUpdater.verifyUpdateCodeSignature as (n: string[], p: string) => Promise<string | null>;
    expect(await verify([], 'C:\\tmp\\setup.exe')).toMatch(/no code-signing publisher/);
    expect(await verify([' '], 'C:\\tmp\\setup.exe')).toMatch(/no code-signing publisher/);
    expect(fake.autoUpdater.verified).toEqual([]);
    expect(await verify(['Contoso Ltd'], 'C:\\tmp\\setup.exe')).toBeNull();
    expect(fake.autoUpdater.verified).toEqual([[['Contoso Ltd'], 'C:\\tmp\\setup.exe']]);
    // A second check does not wrap the check again.
    vi.advanceTimersByTime(6 * 60 * 60 * 1000);
    expect(fake.autoUpdater.checks).toBe(2);
    expect(await verify([], 'x')).toMatch(/no code-signing publisher/);
    expect(fake.autoUpdater.verified).toHaveLength(1);
  });

  it('does nothing unpackaged', () => {
    run('https://updates.example.com/callpop/', 'win32', signed, false);
    expect(fake.autoUpdater.checks).toBe(0);
  });
});

describe('publisherNames (app-update.yml as electron-builder writes it)', () => {
  it('reads a list, a single value, or nothing', () => {
    expect(publisherNames(signed)).toEqual(['Contoso Ltd', 'Contoso, Inc.']);
    expect(publisherNames("provider: generic\npublisherName: 'Contoso Ltd'\n")).toEqual(['Contoso Ltd']);
    expect(publisherNames(unsigned)).toEqual([]);
    expect(publisherNames('publisherName: null\n')).toEqual([]);
    expect(publisherNames(null)).toEqual([]);
  });

  it('strictSignatureCheck passes real names through', async () => {
    const seen: string[][] = [];
    const check = strictSignatureCheck(async (n) => (seen.push(n), 'bad signature'));
    expect(await check(['A'], 'f')).toBe('bad signature');
    expect(seen).toEqual([['A']]);
  });
});
