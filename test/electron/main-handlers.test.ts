import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HubPasswordService, RecordingCredentialsService } from '../../main/app/credentials';
import type { CredentialsPersistence } from '../../main/app/credentials';
import { DownloadedFiles } from '../../main/app/downloads';
import { createMainHandlers } from '../../main/app/main-handlers';
import type { MainDeps } from '../../main/app/main-handlers';
import { SettingsService } from '../../main/app/settings-service';
import { callRecordColumns } from '../../shared/call-record';
import { csvColumns } from '../../shared/call-csv';
import type { CallView, DownloadProgress, LogPage, LogQuery } from '../../shared/ipc/contract';
import { silentLogger } from '../../shared/diagnostics-log';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-handlers-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const call = (i: number, over: Partial<CallView> = {}): CallView =>
  ({
    id: `c${i}`, direction: 'incoming', number: '+905551239988', extension: '117', queue: null, did: null,
    startedAt: '2026-11-24T10:00:00.000Z', durationSec: 30, transferType: null, transferredTo: null, transferredFrom: null,
    answeredBy: null, recordings: [], seen: true, status: 'ended', result: 'answered', answeredAt: '2026-11-24T10:00:05.000Z',
    endedAt: '2026-11-24T10:00:35.000Z', contactName: null, ...over,
  }) as CallView;

function setup(over: Partial<MainDeps> = {}, settingsPatch: Record<string, unknown> = {}) {
  let stored: unknown = settingsPatch;
  const settings = new SettingsService({
    store: { read: () => stored, write: (o) => (stored = o) },
    loginName: 'agent',
    generateSecret: () => 'x'.repeat(24),
    networkInterfaces: () => ({}),
    logger: silentLogger,
  });
  const downloaded: DownloadProgress[] = [];
  const calls = Array.from({ length: 2500 }, (_, i) => call(i));
  calls[1] = call(1, { number: '=HYPERLINK("http://evil")', contactName: 'Eve' });
  const queries: LogQuery[] = [];
  const core = vi.fn(async (channel: string, args: unknown): Promise<unknown> => {
    if (channel === 'calls:get') return calls.find((c) => c.id === (args as { callId: string }).callId) ?? null;
    if (channel === 'recording:list') return downloaded;
    if (channel === 'log:query') {
      const q = args as LogQuery;
      queries.push(q);
      return { total: calls.length, offset: q.offset, records: calls.slice(q.offset, q.offset + q.limit) } satisfies LogPage;
    }
    if (channel === 'contacts:importText') return { ok: true, imported: 1, total: 1 };
    throw new Error(`unexpected ${channel}`);
  });
  const opened: string[] = [];
  const shown: string[] = [];
  const deps: MainDeps = {
    settings,
    status: () => ({ service: { state: 'starting' }, popupsPaused: false, missedUnseen: 0, policyError: null }),
    rendererReady: vi.fn(),
    dismissPopup: vi.fn(),
    resizePopup: vi.fn(),
    credentials: new RecordingCredentialsService(memoryCredentials(), vi.fn()),
    hubPassword: new HubPasswordService({ available: () => true, load: async () => null, save: async () => {} }, vi.fn()),
    setPopupsPaused: vi.fn(),
    returnPopupFocus: vi.fn(),
    displays: vi.fn(() => []),
    openMain: vi.fn(),
    openLogsFolder: vi.fn(async () => {}),
    core: core as MainDeps['core'],
    openExternal: async (u) => void opened.push(u),
    showItemInFolder: (p) => void shown.push(p),
    writeClipboard: vi.fn(),
    saveDialog: async () => join(dir, 'calls.csv'),
    openDialog: async () => null,
    downloads: new DownloadedFiles(async () => downloaded),
    logger: silentLogger,
    ...over,
  };
  return { h: createMainHandlers(deps), deps, core, opened, shown, downloaded, queries, calls };
}

const ctx = { webContentsId: 1 };

function memoryCredentials(available = true): CredentialsPersistence & { saved: unknown[] } {
  const saved: unknown[] = [];
  return {
    saved,
    available: () => available,
    load: async () => null,
    save: async (c) => {
      if (c && !available) throw new Error('This system offers no secure storage for passwords; the credentials were not saved.');
      saved.push(c);
    },
  };
}

describe('main channel handlers', () => {
  it('opens the CRM with encoded values, only http(s)', async () => {
    const { h, opened } = setup({}, { crmUrlTemplate: 'https://crm.example.com/?q={number}&id={callId}', defaultCountry: 'TR' });
    await expect(h['call:openCrm']({ callId: 'c5' }, ctx)).resolves.toEqual({ ok: true });
    expect(opened).toEqual(['https://crm.example.com/?q=%2B905551239988&id=c5']);
    await expect(h['call:openCrm']({ callId: 'missing' }, ctx)).resolves.toEqual({ ok: false, error: 'That call is no longer in the log.' });
  });

  it('refuses to open the CRM without a template', async () => {
    const { h, opened } = setup();
    const r = await h['call:openCrm']({ callId: 'c5' }, ctx);
    expect(r.ok).toBe(false);
    expect(opened).toEqual([]);
  });

  it('calls back through tel: by default', async () => {
    const { h, opened } = setup();
    await h['call:callBack']({ number: '0555 123 99 88' }, ctx);
    expect(opened).toEqual(['tel:05551239988']);
  });

  it('shows in folder only files the core downloaded', async () => {
    const { h, shown, downloaded } = setup();
    const file = join(dir, 'rec.mp3');
    await writeFile(file, 'x');
    expect(await h['recording:showInFolder']({ path: file }, ctx)).toEqual({ ok: false, error: 'Only recordings Callpop downloaded can be shown.' });
    expect(await h['recording:showInFolder']({ path: '/etc/passwd' }, ctx)).toMatchObject({ ok: false });
    downloaded.push({ downloadId: 'd1', callId: 'c1', url: 'https://pbx/x.mp3', state: 'done', receivedBytes: 1, totalBytes: 1, path: file, error: null });
    expect(await h['recording:showInFolder']({ path: file }, ctx)).toEqual({ ok: true });
    expect(shown).toEqual([file]);
    expect(await h['recording:mediaUrl']({ downloadId: 'd1' }, ctx)).toEqual({ url: 'callpop-media://recording/d1' });
    expect(await h['recording:mediaUrl']({ downloadId: 'd2' }, ctx)).toEqual({ error: 'That recording has not been downloaded.' });
  });

  it('exports every page of the filtered log as CSV with the call-record columns', async () => {
    const { h, queries, calls } = setup();
    const r = await h['log:export']({ format: 'csv', filter: { direction: 'incoming' } }, ctx);
    expect(r).toEqual({ ok: true, path: join(dir, 'calls.csv'), count: 2500 });
    expect(queries.map((q) => q.offset)).toEqual([0, 1000, 2000]);
    expect(queries.every((q) => q.direction === 'incoming')).toBe(true);
    const parsed = Papa.parse<string[]>(await readFile(join(dir, 'calls.csv'), 'utf8'), { skipEmptyLines: true });
    expect(parsed.data[0]).toEqual([...csvColumns, 'note']);
    expect(parsed.data).toHaveLength(2501);
    expect(parsed.data[1]![callRecordColumns.indexOf('id')]).toBe('c0');
    // A leading + is a formula lead for spreadsheets: quoted like any other (shared/call-csv.ts, OWASP).
    expect(parsed.data[1]![callRecordColumns.indexOf('number')]).toBe("'+905551239988");
    // formula injection neutralised
    expect(parsed.data[2]![callRecordColumns.indexOf('number')]).toBe(`'${calls[1]!.number}`);
  });

  it('exports JSON and reports a cancelled dialog', async () => {
    const { h } = setup({ saveDialog: async () => join(dir, 'calls.json') });
    const r = await h['log:export']({ format: 'json', filter: {} }, ctx);
    expect(r).toMatchObject({ ok: true, count: 2500 });
    const data = JSON.parse(await readFile(join(dir, 'calls.json'), 'utf8')) as CallView[];
    expect(data).toHaveLength(2500);
    expect(data[1]!.contactName).toBe('Eve');
    const c = setup({ saveDialog: async () => null });
    expect(await c.h['log:export']({ format: 'csv', filter: {} }, ctx)).toEqual({ ok: false, canceled: true });
  });

  it('a failed export leaves no file behind', async () => {
    const target = join(dir, 'fail.csv');
    const { h } = setup({
      saveDialog: async () => target,
      core: (async () => {
        throw new Error('The core service is restarting; try again in a moment.');
      }) as MainDeps['core'],
    });
    const r = await h['log:export']({ format: 'csv', filter: {} }, ctx);
    expect(r).toEqual({ ok: false, canceled: false, error: 'Export failed: The core service is restarting; try again in a moment.' });
    await expect(readFile(target)).rejects.toThrow();
    await expect(readFile(`${target}.${process.pid}.part`)).rejects.toThrow();
  });

  it('imports a contacts file through the core', async () => {
    const file = join(dir, 'people.vcf');
    await writeFile(file, 'BEGIN:VCARD\nFN:Ann\nTEL:+905551239988\nEND:VCARD\n');
    const { h, core } = setup({ openDialog: async () => file });
    expect(await h['contacts:import']({}, ctx)).toEqual({ ok: true, imported: 1, total: 1 });
    expect(core).toHaveBeenCalledWith('contacts:importText', { text: expect.stringContaining('FN:Ann'), fileName: 'people.vcf' });
  });

  it('recording credentials: saved without reading the password back, kept when omitted, cleared; the core hears each', async () => {
    const store = memoryCredentials();
    const toCore: unknown[] = [];
    const { h } = setup({ credentials: new RecordingCredentialsService(store, (c) => toCore.push(c)) });
    expect(await h['settings:getRecordingCredentials']({}, ctx)).toEqual({ username: '', hasPassword: false, available: true });
    expect(await h['settings:setRecordingCredentials']({ username: 'rec', password: 'pw' }, ctx)).toEqual({ ok: true });
    expect(await h['settings:getRecordingCredentials']({}, ctx)).toEqual({ username: 'rec', hasPassword: true, available: true });
    expect(await h['settings:setRecordingCredentials']({ username: 'rec-2' }, ctx)).toEqual({ ok: true });
    expect(await h['settings:setRecordingCredentials']({ clear: true }, ctx)).toEqual({ ok: true });
    expect(await h['settings:getRecordingCredentials']({}, ctx)).toEqual({ username: '', hasPassword: false, available: true });
    expect(toCore).toEqual([{ username: 'rec', password: 'pw' }, { username: 'rec-2', password: 'pw' }, null]);
    expect(store.saved).toEqual(toCore);
  });

  it('recording credentials: without secure storage the save fails with the reason', async () => {
    const toCore: unknown[] = [];
    const { h } = setup({ credentials: new RecordingCredentialsService(memoryCredentials(false), (c) => toCore.push(c)) });
    expect((await h['settings:getRecordingCredentials']({}, ctx)).available).toBe(false);
    expect(await h['settings:setRecordingCredentials']({ username: 'a', password: 'b' }, ctx)).toEqual({ ok: false, error: expect.stringContaining('no secure storage') });
    expect(toCore).toEqual([]);
  });

  it('popup:resize passes the caller and height to main', async () => {
    const { h, deps } = setup();
    await h['popup:resize']({ height: 240 }, { webContentsId: 7 });
    expect(deps.resizePopup).toHaveBeenCalledWith(7, 240);
  });
});
