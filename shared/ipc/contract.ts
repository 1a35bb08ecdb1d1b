// The IPC contract between the renderer and the app: every request channel with its argument and
// result types, and every event pushed to the renderer. Types only (no zod), so the preload
// bundle stays small; the argument schemas that main checks are in ./schemas.ts.
//
// Requests use invoke/handle; pushes use send/on. `owner` says who answers a request: "core"
// requests are forwarded by main to the core service (utility process, or the e2e bridge),
// "main" ones are answered by Electron main itself.
import type { CallRecord, CallUpdate } from '../call-record';
import type { LogFilter } from '../call-log';
import type { FieldErrors, Settings, SettingsPatch } from '../settings';
import type { CallbackAction, CallbackItem } from '../team-protocol';
import type { ServiceState } from '../source-state';
import type { DownloadProgress } from '../download-progress';

/** The hub's shared callbacks as the desktop shows them: what this extension sees, and who it is. */
export interface CallbacksView {
  items: CallbackItem[];
  /** This desktop's extension (an item claimed by it is "yours"); null outside hub mode. */
  extension: string | null;
}

/** A call as the UI shows it: the record plus what Callpop knows about the number. */
export type CallView = CallRecord & {
  contactName: string | null;
  /** The contact's company (contacts file). */
  contactCompany?: string | null | undefined;
  /** The queue's and DID's names from Settings ("820 = Sales"). */
  queueName?: string | null | undefined;
  didName?: string | null | undefined;
  /** Names of the colleagues' extensions in the record (answeredBy, transferredTo/From): nameOfExtension. */
  extensionNames?: Record<string, string> | undefined;
  /** The agent's note on this call (kept by the call log beside the record, not in it). */
  note?: string | null | undefined;
  /** A log row standing for several missed calls from this number that day (log:query groupMissed): this is the newest. */
  missedGroup?: { count: number; unseen: number; ids: string[] } | undefined;
};

// The call source's state is the core's own (its feeds report it); the UI reads it through here.
export type { ServiceState, HubState, PbxState } from '../source-state';
export { isHubState, isPbxState } from '../source-state';

/** What Settings may know of the hub password: never the password itself. */
export interface HubPasswordView {
  hasPassword: boolean;
  /** False where the OS offers no secure storage (safeStorage): no password can be saved. */
  available: boolean;
}

export interface AppStatus {
  service: ServiceState;
  popupsPaused: boolean;
  missedUnseen: number;
  /** Set while a machine policy file is present but invalid (it is then ignored). */
  policyError: string | null;
  /** Set while the global shortcut (settings.popup.shortcut) could not be registered (e.g. taken by another app). */
  shortcutError?: string | null | undefined;
  /** Hub mode: shared callbacks nobody has claimed yet (tray and badge). */
  callbacksOpen?: number | undefined;
}

export interface SettingsView {
  settings: Settings;
  /** Locked by the machine policy: key ("popup.enabled" or "listenPort") → reason shown to the user. */
  locked: Record<string, string>;
  /** The webhook URL for each address of this PC the PBX might use. First = best guess. */
  webhookUrls: string[];
}

export type SettingsUpdateResult = { ok: true; view: SettingsView } | { ok: false; errors: FieldErrors };

/** The call log's query filter (a domain type: shared/call-log.ts). */
export type { LogFilter } from '../call-log';

export interface LogQuery extends LogFilter {
  offset: number;
  limit: number;
  /** The log view's rows: missed calls from one number on one day are one row (CallView.missedGroup). */
  groupMissed?: boolean | undefined;
}

export interface LogPage {
  /** Rows (with groupMissed, a group of missed calls is one). */
  total: number;
  offset: number;
  records: CallView[];
  /** Calls the rows stand for (with groupMissed; else the same as total). */
  calls?: number | undefined;
}

export interface NumberHistory {
  number: string;
  count: number;
  missed: number;
  /** The latest earlier call with this number (not the current one). */
  last: CallView | null;
  /** The latest three earlier calls, newest first. */
  recent?: CallView[] | undefined;
  /** The newest note on an earlier call with this number (shown on the next pop). */
  lastNote?: { text: string; at: string; callId: string } | null | undefined;
}

// A recording download's progress is the download manager's own (main/core/download/); the UI reads it here.
export type { DownloadProgress, DownloadState } from '../download-progress';

export type ExportFormat = 'csv' | 'json';
export type ExportResult = { ok: true; path: string; count: number } | { ok: false; canceled: true } | { ok: false; canceled: false; error: string };
export type ImportResult = { ok: true; imported: number; total: number } | { ok: false; canceled: true } | { ok: false; canceled: false; error: string };
export type ActionResult = { ok: true } | { ok: false; error: string };
/** An action on one of the agent's calls (the hub protocol's `callActions`). */
export type CallActionName = 'call' | 'hangup' | 'transfer' | 'answer';

/** Basic credentials for recording URLs as Settings sees them: the password is never read back. */
export interface RecordingCredentialsView {
  username: string;
  hasPassword: boolean;
  /** False where the OS offers no real encryption (safeStorage): nothing can be saved then. */
  available: boolean;
}
/** Save (`password` absent = keep the saved one) or forget the credentials. */
export type SetRecordingCredentials = { username: string; password?: string | undefined } | { clear: true };

/** The 3CX Call Control API key as Settings sees it: whether there is one, never the key itself. */
export interface CallControlSecretView {
  /** The agent saved a key (kept by the core in its data folder, 0600). */
  saved: boolean;
  /** The key is read from this file instead (settings.callControlSecretFile, e.g. set by IT); null = none. */
  file: string | null;
}

/** Popup content height in CSS pixels, reported by the popup page. */
export const POPUP_MIN_HEIGHT = 60;
export const POPUP_MAX_HEIGHT = 1200;

export type View = 'main' | 'popup';
/** A monitor the popup can be shown on (Settings → Popup → Display). */
export interface DisplayInfo {
  label: string;
  primary: boolean;
  width: number;
  height: number;
}
/** `search`: the log opens with this in its search box (a caller's calls). */
export type NavigateTarget = { view: 'calls' | 'log' | 'settings'; callId?: string | undefined; search?: string | undefined };

interface Req<A, R, O extends 'core' | 'main'> {
  args: A;
  result: R;
  owner: O;
}
type Empty = Record<string, never>;

export interface InvokeMap {
  'app:rendererReady': Req<{ view: View }, void, 'main'>;
  'app:getStatus': Req<Empty, AppStatus, 'main'>;
  'app:openLogsFolder': Req<Empty, void, 'main'>;
  'window:openMain': Req<NavigateTarget, void, 'main'>;
  'settings:get': Req<Empty, SettingsView, 'main'>;
  'settings:update': Req<SettingsPatch, SettingsUpdateResult, 'main'>;
  'settings:regenerateSecret': Req<Empty, SettingsView, 'main'>;
  'settings:getRecordingCredentials': Req<Empty, RecordingCredentialsView, 'main'>;
  'settings:setRecordingCredentials': Req<SetRecordingCredentials, ActionResult, 'main'>;
  'settings:getHubPassword': Req<Empty, HubPasswordView, 'main'>;
  /** Saved encrypted by main and handed to the core; never sent back to a renderer. */
  'settings:setHubPassword': Req<{ password: string } | { clear: true }, ActionResult, 'main'>;
  'popup:dismiss': Req<{ callId: string }, void, 'main'>;
  /** The popup page's content height: main resizes the window, anchored to its corner. */
  'popup:resize': Req<{ height: number }, void, 'main'>;
  'popups:setPaused': Req<{ paused: boolean }, void, 'main'>;
  /** Esc in the popup after the global shortcut focused it: give the focus back to where it was. */
  'popup:returnFocus': Req<Empty, void, 'main'>;
  /** The monitors the popup can be placed on. */
  'popup:displays': Req<Empty, DisplayInfo[], 'main'>;
  'call:openCrm': Req<{ callId: string }, ActionResult, 'main'>;
  'call:callBack': Req<{ number: string }, ActionResult, 'main'>;
  'clipboard:writeText': Req<{ text: string }, void, 'main'>;
  'recording:showInFolder': Req<{ path: string }, ActionResult, 'main'>;
  /** A URL the renderer's <audio> can play the downloaded file from (custom protocol in the app). */
  'recording:mediaUrl': Req<{ downloadId: string }, { url: string } | { error: string }, 'main'>;
  'log:export': Req<{ format: ExportFormat; filter: LogFilter }, ExportResult, 'main'>;
  'contacts:import': Req<Empty, ImportResult, 'main'>;

  'calls:active': Req<Empty, CallView[], 'core'>;
  'calls:get': Req<{ callId: string }, CallView | null, 'core'>;
  /** End a call the PBX never ended (a ghost still "Talking"), as the tracker's silence timeout would. */
  'calls:clear': Req<{ callId: string }, ActionResult, 'core'>;
  /** Which actions the source can carry out on this extension's calls (issue 18): shown only then. */
  'calls:actions': Req<Empty, CallActionName[], 'core'>;
  /** Colleagues to transfer to, by name: extension → name (the hub's directory); {} without one. */
  'calls:colleagues': Req<Empty, Record<string, string>, 'core'>;
  /** Dial from the agent's phone, hang up, transfer or answer one of its calls, through the source (the hub). */
  'calls:act': Req<{ action: CallActionName; callId?: string | undefined; destination?: string | undefined }, ActionResult, 'core'>;
  'calls:history': Req<{ number: string; excludeCallId?: string | undefined }, NumberHistory, 'core'>;
  'log:query': Req<LogQuery, LogPage, 'core'>;
  /** `number`: also every unseen missed call from that number (any format); neither: all unseen calls. */
  'log:markSeen': Req<{ ids?: string[] | undefined; number?: string | undefined }, { missedUnseen: number }, 'core'>;
  'log:delete': Req<{ ids: string[] }, { deleted: number }, 'core'>;
  /** The agent's note on a call ("" removes it). */
  'log:setNote': Req<{ callId: string; text: string }, ActionResult, 'core'>;
  'recording:download': Req<{ callId: string; url: string }, { downloadId: string } | { error: string }, 'core'>;
  'recording:cancel': Req<{ downloadId: string }, void, 'core'>;
  'recording:list': Req<Empty, DownloadProgress[], 'core'>;
  'contacts:importText': Req<{ text: string; fileName: string }, ImportResult, 'core'>;
  'contacts:clear': Req<Empty, void, 'core'>;
  'contacts:summary': Req<Empty, { count: number }, 'core'>;
  /** "Add contact" on an unknown number: saved in the contacts file. */
  'contacts:add': Req<{ name: string; number: string; company?: string | undefined }, ActionResult, 'core'>;
  'test:sendTestCall': Req<Empty, ActionResult, 'core'>;
  /** The hub's shared callbacks this extension sees (hub mode; empty otherwise). */
  'callbacks:list': Req<Empty, CallbacksView, 'core'>;
  'callbacks:act': Req<{ id: string; action: CallbackAction; note?: string | undefined }, ActionResult, 'core'>;
  'settings:getCallControlSecret': Req<Empty, CallControlSecretView, 'core'>;
  /** Written by the core into its own 0600 file (never a setting); the Call Control feed restarts with it. */
  'settings:setCallControlSecret': Req<{ secret: string } | { clear: true }, ActionResult, 'core'>;
}

export type InvokeChannel = keyof InvokeMap;
export type InvokeArgs<C extends InvokeChannel> = InvokeMap[C]['args'];
export type InvokeResult<C extends InvokeChannel> = InvokeMap[C]['result'];
export type CoreChannel = { [C in InvokeChannel]: InvokeMap[C]['owner'] extends 'core' ? C : never }[InvokeChannel];
export type MainChannel = Exclude<InvokeChannel, CoreChannel>;

export interface PushMap {
  /** `backfill`: caught up after a hub (re)connect, not live (missed ones are summed up in one notification). */
  'push:callUpdate': CallUpdate<CallView>;
  'push:status': AppStatus;
  'push:settings': SettingsView;
  'push:download': DownloadProgress;
  'push:logChanged': { missedUnseen: number };
  'push:navigate': NavigateTarget;
  /** The global shortcut was pressed: the popup focuses its newest card. */
  'push:focusCard': Record<string, never>;
  'push:callbacks': CallbacksView;
}
export type PushChannel = keyof PushMap;

/** The same list at run time (main registers handlers from it; tests check it is complete). */
export const invokeOwners = {
  'app:rendererReady': 'main',
  'app:getStatus': 'main',
  'app:openLogsFolder': 'main',
  'window:openMain': 'main',
  'settings:get': 'main',
  'settings:update': 'main',
  'settings:regenerateSecret': 'main',
  'settings:getRecordingCredentials': 'main',
  'settings:setRecordingCredentials': 'main',
  'settings:getHubPassword': 'main',
  'settings:setHubPassword': 'main',
  'popup:dismiss': 'main',
  'popup:resize': 'main',
  'popups:setPaused': 'main',
  'popup:returnFocus': 'main',
  'popup:displays': 'main',
  'call:openCrm': 'main',
  'call:callBack': 'main',
  'clipboard:writeText': 'main',
  'recording:showInFolder': 'main',
  'recording:mediaUrl': 'main',
  'log:export': 'main',
  'contacts:import': 'main',
  'calls:active': 'core',
  'calls:get': 'core',
  'calls:clear': 'core',
  'calls:actions': 'core',
  'calls:colleagues': 'core',
  'calls:act': 'core',
  'calls:history': 'core',
  'log:query': 'core',
  'log:markSeen': 'core',
  'log:delete': 'core',
  'log:setNote': 'core',
  'recording:download': 'core',
  'recording:cancel': 'core',
  'recording:list': 'core',
  'contacts:importText': 'core',
  'contacts:clear': 'core',
  'contacts:summary': 'core',
  'contacts:add': 'core',
  'test:sendTestCall': 'core',
  'callbacks:list': 'core',
  'callbacks:act': 'core',
  'settings:getCallControlSecret': 'core',
  'settings:setCallControlSecret': 'core',
} as const satisfies { [C in InvokeChannel]: InvokeMap[C]['owner'] };

export const pushChannels = [
  'push:callUpdate',
  'push:status',
  'push:settings',
  'push:download',
  'push:logChanged',
  'push:navigate',
  'push:focusCard',
  'push:callbacks',
] as const satisfies readonly PushChannel[];

/** How the API reaches main: ipcRenderer in the preload, a WebSocket in the browser-test bridge. */
export interface IpcTransport {
  invoke(channel: string, args: unknown): Promise<unknown>;
  /** Subscribe; the listener gets the payload only. Returns an unsubscribe. */
  on(channel: string, listener: (payload: unknown) => void): () => void;
}
