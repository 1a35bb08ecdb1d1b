// The core backend: answers every "core" IPC channel over one WebhookReceiver, the contacts and the
// downloads, and pushes call updates (with the contact name), log changes and download progress.
// Runs in the desktop app's utility process (utility-process.ts) and in the browser-test bridge.
import { readFileSync } from 'node:fs';
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import type { CallView, CoreChannel, InvokeArgs, InvokeResult } from '../../../shared/ipc/contract';
import { lineNameMap } from '../../../shared/line-names';
import { silentLogger } from '../../../shared/diagnostics-log';
import { webhookUrl, type Settings } from '../../../shared/settings';
import { createDownloadManager } from '../download/manager';
import { openContactsStore } from '../contacts/store';
import { foldText, openNotesStore, type NotesStore } from '../call-log/notes';
import { settlesNumber, unseenMissedFrom } from '../call-log/settle-missed';
import { callLogDir } from '../config/paths';
import type { CoreBackend, CoreBackendOptions } from './core-backend';
import { withWebhookSecret } from '../listener/secret';
import { CallSource, type CallSourceOptions } from './call-source';
import { callControlKeyHandlers, callControlStartOptions, type CallControlTuning } from './call-control-key';
import { sendTestCall, testCallFlow, type TestCallPacing } from '../listener/test-call';
import { isTestCallId, testCallStamp } from '../../../shared/test-call-id';
import { numberMatchKey } from '../../../shared/phone';
import { findSeedFlow, flowSteps } from '../../../shared/webhook/seed-flows';

export interface BackendExtras {
  /** Test-call pacing (tests use a fast one). */
  testCallPacing?: TestCallPacing;
  /** Service timer period (tests). */
  tickMs?: number;
  /** HubClient tuning (tests: short reconnect and sync delays). */
  hub?: CallSourceOptions['hub'];
  /** Call Control client tuning (tests: short reconnect delays). */
  callControl?: CallControlTuning;
}

type Handlers = { [C in CoreChannel]: (args: InvokeArgs<C>) => Promise<InvokeResult<C>> | InvokeResult<C> };

/** Where our own listener is reachable from this PC (the test call posts there). */
function loopbackUrl(settings: Settings, port: number, scheme: 'http' | 'https'): string {
  const h = settings.listenHost;
  const host = h === '0.0.0.0' || h === '' ? '127.0.0.1' : h === '::' ? '::1' : h;
  return webhookUrl(host, port, settings.webhookSecret, scheme);
}

export async function createCoreBackend(opts: CoreBackendOptions & BackendExtras): Promise<CoreBackend> {
  const logger = opts.logger ?? silentLogger;
  const { settings: initial, generated } = withWebhookSecret(opts.settings);
  // The app generates and persists the secret before init; one made here lasts only this session.
  if (generated) logger.warn('No webhook secret in settings: using a temporary one for this session.');

  // The listener or a hub client (settings.source), over the data folder's one call log.
  const source = await CallSource.start({ dataDir: opts.dataDir, settings: initial, hubPassword: opts.hubPassword ?? null, logger, now: opts.now, tickMs: opts.tickMs, hub: opts.hub, kindExtra: callControlStartOptions(opts.dataDir, opts.callControl) });
  let contacts: Awaited<ReturnType<typeof openContactsStore>>;
  try {
    contacts = await openContactsStore(opts.dataDir, { logger, defaultCountry: initial.defaultCountry });
  } catch (e) {
    await source.close();
    throw e;
  }
  const downloads = createDownloadManager({
    settings: () => source.settings,
    defaultDownloadDir: opts.defaultDownloadDir,
    credentials: opts.recordingCredentials ? () => opts.recordingCredentials?.() ?? null : undefined,
    onProgress: (p) => opts.push('push:download', p),
    logger,
  });

  let notes: NotesStore;
  try {
    notes = await openNotesStore(callLogDir(opts.dataDir), { logger, defaultCountry: initial.defaultCountry, now: opts.now });
  } catch (e) {
    await source.close();
    throw e;
  }

  /**
   * The one lookup of a colleague's name by extension the UI gets names from: the hub's directory (in
   * hub mode: "Anna" for 117), else the contacts; every view and the popup follow.
   */
  const nameOfExtension = (ext: string): string | null => {
    if (!/^\d{1,10}$/.test(ext)) return null;
    const fromHub = Object.hasOwn(source.directory(), ext) ? source.directory()[ext] : undefined;
    if (fromHub) return fromHub;
    try {
      return contacts.lookup(ext);
    } catch {
      return null;
    }
  };
  let lineNames = { source: initial.lineNames, map: lineNameMap(initial.lineNames) };
  const lineMap = (): Map<string, string> => {
    if (lineNames.source !== source.settings.lineNames) lineNames = { source: source.settings.lineNames, map: lineNameMap(source.settings.lineNames) };
    return lineNames.map;
  };
  const nameOfLine = (id: string | null): string | null => (id === null ? null : (lineMap().get(id) ?? null));

  /** The log's search by words: calls whose note has them, and calls through a queue or DID so named. */
  const idsForText = (text: string): Set<string> => {
    const q = foldText(text.trim());
    const lines = [...lineMap()].filter(([, name]) => foldText(name).includes(q)).map(([id]) => id);
    const ids = notes.idsMatching(text);
    for (const id of source.store.idsOnLines(lines)) ids.add(id);
    return ids;
  };

  const view = (record: CallRecord): CallView => {
    let contact: { name: string; company: string | null } | null = null;
    try {
      contact = record.number ? contacts.lookupContact(record.number) : null;
    } catch (e) {
      logger.warn(`Contact lookup failed: ${(e as Error).message}`);
    }
    const extensionNames: Record<string, string> = {};
    for (const ext of [record.answeredBy, record.transferredTo, record.transferredFrom]) {
      const name = ext ? nameOfExtension(ext) : null;
      if (ext && name) extensionNames[ext] = name;
    }
    return {
      ...record,
      // No contact: the PBX's own name for the caller (Call Control), so the pop still says who it is.
      contactName: contact?.name ?? record.callerName ?? null,
      contactCompany: contact?.company ?? null,
      queueName: nameOfLine(record.queue),
      didName: nameOfLine(record.did),
      extensionNames,
      note: notes.get(record.id),
    };
  };
  const findCall = (callId: string): CallRecord | null => source.openCalls().find((c) => c.id === callId) ?? source.store.get(callId) ?? null;
  const logChanged = (): void => opts.push('push:logChanged', { missedUnseen: source.store.missedUnseen() });
  /** Marks calls seen and pushes each as updated: the popup closes settled missed cards (settle-missed.ts). */
  const settle = async (records: readonly CallRecord[]): Promise<void> => {
    const unseen = records.filter((r) => !r.seen);
    if (unseen.length === 0) return;
    await source.store.markSeen(unseen.map((r) => r.id));
    for (const r of unseen) {
      const now = source.store.get(r.id);
      if (now) opts.push('push:callUpdate', { change: 'updated', record: view(now) });
    }
    logChanged();
  };

  const autoDownload = (record: CallRecord): void => {
    for (const url of record.recordings) {
      const r = downloads.start({ call: record, url });
      if ('error' in r) logger.warn(`Automatic recording download refused: ${r.error}`);
    }
  };

  source.onUpdates((updates: CallUpdate[]) => {
    for (const u of updates) {
      opts.push('push:callUpdate', { change: u.change, record: view(u.record), ...(u.backfill ? { backfill: true } : {}) });
      if (u.change === 'recording' && source.settings.autoDownloadRecordings) autoDownload(u.record);
      // The agent called the number or talked with it: its missed calls are dealt with.
      if ((u.change === 'dialing' || u.change === 'answered') && settlesNumber(u.record)) {
        settle(unseenMissedFrom(source.store, u.record.number, source.settings.defaultCountry)).catch((e: unknown) => logger.warn(`Cannot mark missed calls seen: ${(e as Error).message}`));
      }
    }
  });
  // The badge counts what the log holds: recount once the changes are written.
  source.onDurable(() => logChanged());
  // State changes and the time of the last accepted webhook (main merges `service` into its AppStatus).
  source.onStatus(() => opts.push('push:status', { service: status(), popupsPaused: false, missedUnseen: source.store.missedUnseen(), policyError: null }));
  const status = () => source.status();
  // New colleague names from the hub: the live calls are shown again with them (the log view asks anew).
  source.onDirectory(() => {
    for (const call of source.openCalls()) opts.push('push:callUpdate', { change: 'updated', record: view(call) });
  });

  // Test calls stay in the log (marked by their id, shown as TEST) but are nobody's history. They all
  // come from the seed flow's caller, so only that number's history is counted again without them.
  const seed = findSeedFlow(testCallFlow);
  const testCaller = seed ? String(flowSteps(seed)[0]?.fields?.Callerid ?? '') : '';
  const historyOf = (number: string, excludeId: string | undefined) => {
    // Earlier calls only: those that started before the call shown (all logged ones for a new call).
    const shown = excludeId ? findCall(excludeId) : null;
    const beforeMs = shown ? Date.parse(shown.startedAt) : Infinity;
    const h = source.store.history(number, excludeId, 3, beforeMs);
    const country = source.settings.defaultCountry;
    const key = numberMatchKey(number, country);
    if (h.count === 0 || key === '' || key !== numberMatchKey(testCaller, country)) return h;
    const calls = [...source.store.iterate({ text: number })].filter((r) => r.id !== excludeId && Date.parse(r.startedAt) < beforeMs && !isTestCallId(r.id) && numberMatchKey(r.number, country) === key);
    const missed = calls.filter((r) => r.status === 'ended' && r.result === 'missed' && r.direction === 'incoming').length;
    return { ...h, count: calls.length, missed, last: calls[0] ?? null, recent: calls.slice(0, 3) };
  };

  // The hub's shared callbacks (hub mode): pushed whenever the hub republishes this extension's list.
  const callbacksView = () => ({ items: source.callbacks()?.list() ?? [], extension: source.callbacks() ? source.settings.extension : null });
  source.onCallbacks(() => opts.push('push:callbacks', callbacksView()));

  const handlers: Handlers = {
    'callbacks:list': () => callbacksView(),
    'callbacks:act': async ({ id, action, note }) => {
      const callbacks = source.callbacks();
      return callbacks ? callbacks.act(id, action, note) : { ok: false, error: 'Shared callbacks need the Callpop hub (Settings → Connection).' };
    },
    'calls:active': () => source.openCalls().map(view),
    'calls:get': ({ callId }) => {
      const call = findCall(callId);
      return call ? view(call) : null;
    },
    'calls:clear': async ({ callId }) =>
      (await source.clearCall(callId)) ? { ok: true } : { ok: false, error: 'That call is not active any more.' },
    'calls:actions': () => [...source.callActions()],
    'calls:colleagues': () => ({ ...source.directory() }),
    'calls:act': async ({ action, callId, destination }) => {
      const r = await source.act(action, { ...(callId !== undefined && { callId }), ...(destination !== undefined && { destination }) });
      return r.ok ? { ok: true } : { ok: false, error: r.error ?? 'The action failed.' };
    },
    'calls:history': ({ number, excludeCallId }) => {
      const h = historyOf(number, excludeCallId);
      const lastNote = notes.lastFor(number, excludeCallId);
      return {
        number,
        count: h.count,
        missed: h.missed,
        last: h.last ? view(h.last) : null,
        recent: h.recent.map(view),
        lastNote: lastNote ? { text: lastNote.text, at: lastNote.at, callId: lastNote.callId } : null,
      };
    },
    'log:query': ({ offset, limit, groupMissed, ...filter }) => {
      const page = source.store.query(filter, { offset, limit }, { numbersForText: (text) => contacts.numbersMatchingName(text), idsForText, groupMissed });
      const records = page.records.map((r, i) => {
        const group = page.groups?.[i];
        return group ? { ...view(r), missedGroup: group } : view(r);
      });
      return { total: page.total, offset, records, ...(page.calls !== undefined ? { calls: page.calls } : {}) };
    },
    'log:markSeen': async ({ ids, number }) => {
      // By number: every unseen missed call from it (Call back settles them all); none given: all of them.
      const byId = (ids ?? []).map((id) => source.store.get(id)).filter((r): r is CallRecord => r !== undefined);
      const byNumber = number !== undefined ? unseenMissedFrom(source.store, number, source.settings.defaultCountry) : [];
      await settle(ids === undefined && number === undefined ? [...source.store.iterate({ unseenOnly: true })] : [...byId, ...byNumber]);
      logChanged();
      return { missedUnseen: source.store.missedUnseen() };
    },
    'log:delete': async ({ ids }) => {
      const deleted = await source.store.delete(ids);
      await notes.delete(ids).catch((e: unknown) => logger.warn((e as Error).message));
      logChanged();
      return { deleted };
    },
    'log:setNote': async ({ callId, text }) => {
      const call = findCall(callId);
      if (!call) return { ok: false, error: 'There is no such call in your log.' };
      try {
        await notes.set(callId, call.number, text);
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
      const updated = findCall(callId);
      if (updated) opts.push('push:callUpdate', { change: 'updated', record: view(updated) });
      logChanged();
      return { ok: true };
    },
    'recording:download': ({ callId, url }) => {
      const call = findCall(callId);
      if (!call) return { error: 'There is no such call in your log.' };
      return downloads.start({ call, url });
    },
    'recording:cancel': ({ downloadId }) => downloads.cancel(downloadId),
    'recording:list': () => downloads.list(),
    'contacts:importText': async ({ text, fileName }) => {
      try {
        const r = await contacts.import(text, fileName);
        return { ok: true, imported: r.imported, total: r.total };
      } catch (e) {
        return { ok: false, canceled: false, error: (e as Error).message };
      }
    },
    'contacts:clear': () => contacts.clear(),
    'contacts:summary': () => ({ count: contacts.size }),
    'contacts:add': async ({ name, number, company }) => {
      try {
        await contacts.add(name, number, company);
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
      logChanged();
      return { ok: true };
    },
    'test:sendTestCall': () => {
      const state = source.status();
      if (state.state !== 'listening') {
        const error = source.settings.source === 'hub' ? 'A test call needs "This PC receives the webhooks"; with a hub, call your extension instead.' : 'Callpop is not listening for webhooks; fix the connection settings first.';
        return { ok: false, error };
      }
      // Over HTTPS the test call trusts exactly the listener's own certificate (it reaches it by a loopback address).
      const https = state.url.startsWith('https:');
      let trustedCertPem: string | undefined;
      if (https) {
        try {
          trustedCertPem = readFileSync(source.settings.tlsCertFile, 'utf8');
        } catch (e) {
          return { ok: false, error: `Cannot read the listener's certificate for the test call: ${(e as Error).message}` };
        }
      }
      const url = loopbackUrl(source.settings, state.port, https ? 'https' : 'http');
      return sendTestCall({ url, extension: source.settings.extension, pacing: opts.testCallPacing, logger, stamp: testCallStamp(), trustedCertPem });
    },
    ...callControlKeyHandlers(opts.dataDir, source, logger),
  };

  let closed = false;
  return {
    async handle<C extends CoreChannel>(channel: C, args: InvokeArgs<C>): Promise<InvokeResult<C>> {
      if (closed) throw new Error('The core service is shutting down.');
      const handler = handlers[channel] as ((a: InvokeArgs<C>) => Promise<InvokeResult<C>> | InvokeResult<C>) | undefined;
      if (!handler) throw new Error(`Unknown core channel ${String(channel)}`);
      return handler(args);
    },
    async updateSettings(settings: Settings, hubPassword?: string | null): Promise<void> {
      if (settings.defaultCountry !== source.settings.defaultCountry) {
        contacts.setDefaultCountry(settings.defaultCountry);
        notes.setDefaultCountry(settings.defaultCountry);
      }
      await source.update(settings.webhookSecret ? settings : { ...settings, webhookSecret: source.settings.webhookSecret }, hubPassword);
    },
    status,
    reconnectNow: (reason) => source.reconnectNow(reason),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await downloads.close();
      await source.close();
    },
  };
}
