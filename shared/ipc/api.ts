// window.callpop: the named methods the preload exposes (and the e2e bridge provides).
// Built from a transport so the real preload and the browser-test bridge cannot drift apart.
import type { InvokeArgs, InvokeChannel, InvokeResult, IpcTransport, PushChannel, PushMap } from './contract';

export function createCallpopApi(t: IpcTransport) {
  const call = <C extends InvokeChannel>(channel: C, args: InvokeArgs<C>) => t.invoke(channel, args) as Promise<InvokeResult<C>>;
  const on =
    <P extends PushChannel>(channel: P) =>
    (listener: (payload: PushMap[P]) => void): (() => void) =>
      t.on(channel, listener as (p: unknown) => void);
  return {
    rendererReady: (view: InvokeArgs<'app:rendererReady'>['view']) => call('app:rendererReady', { view }),
    getStatus: () => call('app:getStatus', {}),
    openLogsFolder: () => call('app:openLogsFolder', {}),
    openMain: (target: InvokeArgs<'window:openMain'>) => call('window:openMain', target),
    getSettings: () => call('settings:get', {}),
    updateSettings: (patch: InvokeArgs<'settings:update'>) => call('settings:update', patch),
    regenerateSecret: () => call('settings:regenerateSecret', {}),
    getRecordingCredentials: () => call('settings:getRecordingCredentials', {}),
    setRecordingCredentials: (args: InvokeArgs<'settings:setRecordingCredentials'>) => call('settings:setRecordingCredentials', args),
    getHubPassword: () => call('settings:getHubPassword', {}),
    setHubPassword: (args: InvokeArgs<'settings:setHubPassword'>) => call('settings:setHubPassword', args),
    getCallControlSecret: () => call('settings:getCallControlSecret', {}),
    setCallControlSecret: (args: InvokeArgs<'settings:setCallControlSecret'>) => call('settings:setCallControlSecret', args),
    dismissPopup: (callId: string) => call('popup:dismiss', { callId }),
    resizePopup: (height: number) => call('popup:resize', { height }),
    setPopupsPaused: (paused: boolean) => call('popups:setPaused', { paused }),
    returnPopupFocus: () => call('popup:returnFocus', {}),
    listDisplays: () => call('popup:displays', {}),
    openInCrm: (callId: string) => call('call:openCrm', { callId }),
    callBack: (number: string) => call('call:callBack', { number }),
    copyText: (text: string) => call('clipboard:writeText', { text }),
    showInFolder: (path: string) => call('recording:showInFolder', { path }),
    recordingMediaUrl: (downloadId: string) => call('recording:mediaUrl', { downloadId }),
    exportLog: (args: InvokeArgs<'log:export'>) => call('log:export', args),
    importContacts: () => call('contacts:import', {}),
    importContactsText: (text: string, fileName: string) => call('contacts:importText', { text, fileName }),
    clearContacts: () => call('contacts:clear', {}),
    contactsSummary: () => call('contacts:summary', {}),
    activeCalls: () => call('calls:active', {}),
    getCall: (callId: string) => call('calls:get', { callId }),
    clearCall: (callId: string) => call('calls:clear', { callId }),
    callActions: () => call('calls:actions', {}),
    colleagues: () => call('calls:colleagues', {}),
    actOnCall: (args: InvokeArgs<'calls:act'>) => call('calls:act', args),
    numberHistory: (args: InvokeArgs<'calls:history'>) => call('calls:history', args),
    queryLog: (query: InvokeArgs<'log:query'>) => call('log:query', query),
    markSeen: (ids?: string[], number?: string) => call('log:markSeen', { ids, number }),
    deleteCalls: (ids: string[]) => call('log:delete', { ids }),
    setNote: (callId: string, text: string) => call('log:setNote', { callId, text }),
    addContact: (args: InvokeArgs<'contacts:add'>) => call('contacts:add', args),
    downloadRecording: (callId: string, url: string) => call('recording:download', { callId, url }),
    cancelDownload: (downloadId: string) => call('recording:cancel', { downloadId }),
    listDownloads: () => call('recording:list', {}),
    sendTestCall: () => call('test:sendTestCall', {}),
    listCallbacks: () => call('callbacks:list', {}),
    actOnCallback: (args: InvokeArgs<'callbacks:act'>) => call('callbacks:act', args),

    onCallUpdate: on('push:callUpdate'),
    onStatus: on('push:status'),
    onSettings: on('push:settings'),
    onDownload: on('push:download'),
    onLogChanged: on('push:logChanged'),
    onNavigate: on('push:navigate'),
    onFocusCard: on('push:focusCard'),
    onCallbacks: on('push:callbacks'),
  };
}

export type CallpopApi = ReturnType<typeof createCallpopApi>;
