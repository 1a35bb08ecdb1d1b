import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({ Tray: class {}, Menu: {}, nativeImage: {} }));

const { trayLook } = await import('../../main/app/tray');
const { CallNotifier } = await import('../../main/app/notifications');
const { CredentialStore, RecordingCredentialsService } = await import('../../main/app/credentials');
const { defaultSettings } = await import('../../shared/settings');
import type { AppStatus, CallView } from '../../shared/ipc/contract';

const status = (over: Partial<AppStatus> = {}): AppStatus => ({ service: { state: 'listening', port: 8765, url: 'u' }, popupsPaused: false, missedUnseen: 0, policyError: null, ...over });

describe('tray look', () => {
  it('says what state the app is in', () => {
    expect(trayLook(status())).toEqual({ variant: 'listening', tooltip: 'Callpop — listening on port 8765' });
    expect(trayLook(status({ popupsPaused: true }))).toEqual({ variant: 'paused', tooltip: 'Callpop — listening on port 8765\npopups paused' });
    expect(trayLook(status({ missedUnseen: 3 }))).toEqual({ variant: 'missed', tooltip: 'Callpop — listening on port 8765\n3 missed' });
    expect(trayLook(status({ service: { state: 'error', message: 'Port 8765 is in use.' } })).variant).toBe('error');
    expect(trayLook(status({ service: { state: 'restarting', attempt: 2, message: 'x' } })).tooltip).toContain('restarting (attempt 2)');
    expect(trayLook(status({ policyError: 'bad key' })).tooltip).toContain('Policy file ignored: bad key');
    expect(trayLook(status({ policyError: 'x'.repeat(300) })).tooltip.length).toBeLessThanOrEqual(127);
  });

  it('shows the service notice under the listening line', () => {
    const notice = 'Set your extension in Settings to see your calls';
    expect(trayLook(status({ service: { state: 'listening', port: 8765, url: 'u', notice } }))).toEqual({
      variant: 'listening',
      tooltip: `Callpop — listening on port 8765\n${notice}`,
    });
  });
});

describe('notifications', () => {
  const rec = { id: 'c1', direction: 'incoming', number: '+442079460958', queue: '820', did: null, contactName: 'Ann', status: 'ringing', result: null } as CallView;
  // What the tracker sends with the change "missed": the call ended, nobody took it.
  const missedRec = { ...rec, status: 'ended', result: 'missed' } as CallView;
  const make = (n: { ringing: boolean; missed: boolean }, supported = true) => {
    const created: { title: string; body: string; handlers: Record<string, () => void>; shown: boolean }[] = [];
    const opened: unknown[] = [];
    const notifier = new CallNotifier({
      isSupported: () => supported,
      create: (o) => {
        const item = { ...o, handlers: {} as Record<string, () => void>, shown: false };
        created.push(item);
        return { on: (e: string, l: () => void) => (item.handlers[e] = l), show: () => (item.shown = true) };
      },
      settings: () => ({ ...defaultSettings(), notifications: n }),
      openCall: (t) => opened.push(t),
    });
    return { notifier, created, opened };
  };

  it('notifies missed calls and opens the call on click', () => {
    const { notifier, created, opened } = make({ ringing: false, missed: true });
    notifier.onCallUpdate('ringing', rec);
    notifier.onCallUpdate('missed', missedRec);
    expect(created.map((c) => c.title)).toEqual(['Missed call']);
    expect(created[0]!.body).toBe('Ann (+44 20 7946 0958) via queue 820');
    created[0]!.handlers.click!();
    expect(opened).toEqual([{ view: 'log', callId: 'c1' }]);
  });

  it('notifies ringing only when enabled, and nothing when unsupported', () => {
    const a = make({ ringing: true, missed: false });
    a.notifier.onCallUpdate('ringing', rec);
    expect(a.created.map((c) => c.title)).toEqual(['Incoming call']);
    const b = make({ ringing: true, missed: true }, false);
    b.notifier.onCallUpdate('missed', missedRec);
    expect(b.created).toEqual([]);
  });
});

describe('credentials (safeStorage)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callpop-cred-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  // A reversible stand-in for the OS keychain: what matters is that the file never holds clear text.
  const fakeSafe = (available = true, backend = 'gnome_libsecret') => ({
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptStringAsync: async (s: string) => Buffer.from(s, 'utf8').map((b) => b ^ 0x5a) as Buffer,
    decryptStringAsync: async (b: Buffer) => ({ result: Buffer.from(b.map((x) => x ^ 0x5a)).toString('utf8'), shouldReEncrypt: false }),
  });

  it('stores encrypted, loads back, clears', async () => {
    const file = join(dir, 'credentials.bin');
    const store = new CredentialStore(file, fakeSafe());
    expect(await store.load()).toBeNull();
    await store.save({ username: 'rec', password: 'pa55word' });
    expect((await readFile(file)).toString('utf8')).not.toContain('pa55word');
    expect(await store.load()).toEqual({ username: 'rec', password: 'pa55word' });
    await store.save(null);
    await expect(stat(file)).rejects.toThrow();
  });

  it('refuses to save without real OS encryption', async () => {
    const store = new CredentialStore(join(dir, 'c.bin'), fakeSafe(true, 'basic_text'));
    await expect(store.save({ username: 'a', password: 'b' })).rejects.toThrow('no secure storage');
  });
});

describe('recording credentials service (what Settings saves)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callpop-cred-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const safe = (backend = 'gnome_libsecret') => ({
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => backend,
    encryptStringAsync: async (s: string) => Buffer.from(s, 'utf8').map((b) => b ^ 0x5a) as Buffer,
    decryptStringAsync: async (b: Buffer) => ({ result: Buffer.from(b.map((x) => x ^ 0x5a)).toString('utf8'), shouldReEncrypt: false }),
  });

  it('saves, keeps the password when none is given, never returns it, clears; the core hears each change', async () => {
    const file = join(dir, 'credentials.bin');
    const sent: unknown[] = [];
    const svc = new RecordingCredentialsService(new CredentialStore(file, safe()), (c) => sent.push(c));
    expect(await svc.load()).toBeNull();
    expect(svc.view()).toEqual({ username: '', hasPassword: false, available: true });
    expect(await svc.set({ username: 'rec', password: 's3cret' })).toEqual({ ok: true });
    expect(svc.view()).toEqual({ username: 'rec', hasPassword: true, available: true });
    expect(JSON.stringify(svc.view())).not.toContain('s3cret');
    expect(await svc.set({ username: 'rec2' })).toEqual({ ok: true });
    expect(sent).toEqual([
      { username: 'rec', password: 's3cret' },
      { username: 'rec2', password: 's3cret' },
    ]);
    // A restart reads the same pair back from the encrypted file.
    const again = new RecordingCredentialsService(new CredentialStore(file, safe()), () => {});
    await again.load();
    expect(again.value).toEqual({ username: 'rec2', password: 's3cret' });
    expect(await svc.set({ clear: true })).toEqual({ ok: true });
    expect(sent.at(-1)).toBeNull();
    await expect(stat(file)).rejects.toThrow();
  });

  it('without secure storage: unavailable, a save fails with the reason and changes nothing', async () => {
    const sent: unknown[] = [];
    const svc = new RecordingCredentialsService(new CredentialStore(join(dir, 'c.bin'), safe('basic_text')), (c) => sent.push(c));
    expect(svc.view().available).toBe(false);
    const r = await svc.set({ username: 'a', password: 'b' });
    expect(r).toEqual({ ok: false, error: expect.stringContaining('no secure storage') });
    expect(svc.value).toBeNull();
    expect(sent).toEqual([]);
  });

  it('an unreadable file is reported and leaves no credentials', async () => {
    const bad = { ...safe(), decryptStringAsync: async () => ({ result: '{not json', shouldReEncrypt: false }) };
    const file = join(dir, 'credentials.bin');
    await new CredentialStore(file, safe()).save({ username: 'a', password: 'b' });
    const svc = new RecordingCredentialsService(new CredentialStore(file, bad), () => {});
    expect(await svc.load()).toMatch(/^cannot read the saved recording credentials: /);
    expect(svc.value).toBeNull();
  });
});
