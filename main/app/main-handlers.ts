// Answers for the "main" IPC channels (the ones that need the desktop: dialogs, shell, clipboard,
// windows, settings). Everything outside comes in through MainDeps, so tests can drive it.
import { readFile, stat } from 'node:fs/promises';
import { extname, basename } from 'node:path';
import { buildCallBackUrl, buildCrmUrl } from '../../shared/crm-url';
import type { ActionResult, AppStatus, CallView, CoreChannel, DisplayInfo, ExportResult, ImportResult, LogPage, LogQuery, NavigateTarget, View } from '../../shared/ipc/contract';
import type { Logger } from '../../shared/diagnostics-log';
import { toE164 } from '../../shared/phone';
import type { SettingsService } from './settings-service';
import type { MainHandlers } from './ipc';
import type { DownloadedFiles } from './downloads';
import type { HubPasswordService, RecordingCredentialsService } from './credentials';
import { callFromOwnPhone } from './call-from-own-phone';
import { exportLog } from './export-log';
import { mediaUrl } from './protocols';

export const MAX_IMPORT_BYTES = 20_000_000;

export interface MainDeps {
  settings: SettingsService;
  status: () => AppStatus;
  rendererReady: (webContentsId: number, view: View) => void;
  dismissPopup: (callId: string) => void;
  /** The popup page's content height; only the popup window's own report is acted on. */
  resizePopup: (webContentsId: number, height: number) => void;
  credentials: RecordingCredentialsService;
  hubPassword: HubPasswordService;
  setPopupsPaused: (paused: boolean) => void;
  /** Esc in the popup the global shortcut focused: the focus goes back where it was. */
  returnPopupFocus: () => void;
  displays: () => DisplayInfo[];
  openMain: (target: NavigateTarget) => void;
  openLogsFolder: () => Promise<void>;
  core: (channel: CoreChannel, args: unknown) => Promise<unknown>;
  openExternal: (url: string) => Promise<void>;
  showItemInFolder: (path: string) => void;
  writeClipboard: (text: string) => void;
  saveDialog: (options: { title: string; defaultPath: string; filters: { name: string; extensions: string[] }[] }) => Promise<string | null>;
  openDialog: (options: { title: string; filters: { name: string; extensions: string[] }[] }) => Promise<string | null>;
  downloads: DownloadedFiles;
  logger: Logger;
  today?: () => string;
}

const fail = (error: string): ActionResult => ({ ok: false, error });
const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'unknown error';

export function createMainHandlers(d: MainDeps): MainHandlers {
  const open = async (url: string): Promise<ActionResult> => {
    try {
      await d.openExternal(url);
      return { ok: true };
    } catch (e) {
      return fail(`Could not open the link: ${message(e)}`);
    }
  };

  return {
    'app:rendererReady': ({ view }, caller) => d.rendererReady(caller.webContentsId, view),
    'app:getStatus': () => d.status(),
    'app:openLogsFolder': () => d.openLogsFolder(),
    'window:openMain': (target) => d.openMain(target),
    'settings:get': () => d.settings.view(),
    'settings:update': (patch) => d.settings.update(patch),
    'settings:regenerateSecret': () => d.settings.regenerateSecret(),
    'settings:getRecordingCredentials': () => d.credentials.view(),
    'settings:setRecordingCredentials': (args) => d.credentials.set(args),
    'settings:getHubPassword': () => d.hubPassword.view(),
    'settings:setHubPassword': (args) => d.hubPassword.set(args),
    'popup:dismiss': ({ callId }) => d.dismissPopup(callId),
    'popup:resize': ({ height }, caller) => d.resizePopup(caller.webContentsId, height),
    'popups:setPaused': ({ paused }) => d.setPopupsPaused(paused),
    'popup:returnFocus': () => d.returnPopupFocus(),
    'popup:displays': () => d.displays(),
    'clipboard:writeText': ({ text }) => d.writeClipboard(text),

    'call:openCrm': async ({ callId }) => {
      const call = (await d.core('calls:get', { callId })) as CallView | null;
      if (!call) return fail('That call is no longer in the log.');
      const s = d.settings.settings;
      const r = buildCrmUrl(s.crmUrlTemplate, { number: call.number, e164: toE164(call.number, s.defaultCountry) ?? '', extension: call.extension, callId: call.id });
      return r.ok ? open(r.url) : fail(r.error);
    },

    'call:callBack': async ({ number }) => {
      // From the agent's own phone when the source can dial for it (a hub on 3CX Call Control, or with
      // the WebAPI add-on's key): the PBX rings the agent's phone, then the number. Else tel: as before.
      const own = await callFromOwnPhone(d.core, number);
      if (own) return own;
      const s = d.settings.settings;
      const r = buildCallBackUrl(s.clickToCallTemplate, { number, e164: toE164(number, s.defaultCountry) ?? '', extension: s.extension, callId: '' });
      return r.ok ? open(r.url) : fail(r.error);
    },

    'recording:showInFolder': async ({ path }) => {
      if (!(await d.downloads.isDownloaded(path))) return fail('Only recordings Callpop downloaded can be shown.');
      try {
        await stat(path);
      } catch {
        return fail('The file is no longer there (moved or deleted).');
      }
      d.showItemInFolder(path);
      return { ok: true };
    },

    'recording:mediaUrl': async ({ downloadId }) => {
      const path = await d.downloads.pathOf(downloadId);
      if (!path) return { error: 'That recording has not been downloaded.' };
      return { url: mediaUrl(downloadId) };
    },

    'log:export': async ({ format, filter }): Promise<ExportResult> => {
      const day = (d.today ?? (() => new Date().toISOString().slice(0, 10)))();
      const file = await d.saveDialog({
        title: 'Export calls',
        defaultPath: `callpop-calls-${day}.${format}`,
        filters: format === 'csv' ? [{ name: 'CSV', extensions: ['csv'] }] : [{ name: 'JSON', extensions: ['json'] }],
      });
      if (!file) return { ok: false, canceled: true };
      try {
        const count = await exportLog({ path: file, format, filter, query: (q: LogQuery) => d.core('log:query', q) as Promise<LogPage> });
        d.logger.info(`export: ${count} calls written as ${format}`);
        return { ok: true, path: file, count };
      } catch (e) {
        d.logger.error(`export failed: ${message(e)}`);
        return { ok: false, canceled: false, error: `Export failed: ${message(e)}` };
      }
    },

    'contacts:import': async (): Promise<ImportResult> => {
      const file = await d.openDialog({ title: 'Import contacts', filters: [{ name: 'Contacts (CSV, vCard)', extensions: ['csv', 'vcf'] }] });
      if (!file) return { ok: false, canceled: true };
      const ext = extname(file).toLowerCase();
      if (ext !== '.csv' && ext !== '.vcf') return { ok: false, canceled: false, error: 'Choose a .csv or .vcf file.' };
      try {
        const st = await stat(file);
        if (st.size > MAX_IMPORT_BYTES) return { ok: false, canceled: false, error: 'The file is larger than 20 MB.' };
        const text = await readFile(file, 'utf8');
        return (await d.core('contacts:importText', { text, fileName: basename(file) })) as ImportResult;
      } catch (e) {
        return { ok: false, canceled: false, error: `Import failed: ${message(e)}` };
      }
    },
  };
}
