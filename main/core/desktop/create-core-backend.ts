// The core backend: answers every "core" IPC channel over one WebhookReceiver, the contacts and the
// downloads, and pushes call updates (with the contact name), log changes and download progress.
// Runs in the desktop app's utility process (utility-process.ts) and in the browser-test bridge.
// This file opens the stores and builds the context; the pushes are ./pushes.ts, and the channels are
// answered by one table per domain in ./handlers/ (calls, log, recordings, contacts, callbacks, test).
import type { CallRecord } from '../../../shared/call-record';
import type { CoreChannel, InvokeArgs, InvokeResult } from '../../../shared/ipc/contract';
import { silentLogger } from '../../../shared/diagnostics-log';
import type { Settings } from '../../../shared/settings';
import { createDownloadManager } from '../download/manager';
import { openContactsStore } from '../contacts/store';
import { openNotesStore, type NotesStore } from '../call-log/notes';
import { callLogDir } from '../config/paths';
import type { CoreBackend, CoreBackendOptions } from './core-backend';
import { withWebhookSecret } from '../listener/secret';
import { CallSource, type CallSourceOptions } from './call-source';
import { callControlKeyHandlers, callControlStartOptions, type CallControlTuning } from './call-control-key';
import type { TestCallPacing } from '../listener/test-call';
import type { CoreContext, Handlers } from './handlers/context';
import { createCallViews } from './handlers/call-views';
import { callHandlers } from './handlers/calls';
import { logHandlers } from './handlers/log';
import { recordingHandlers } from './handlers/recordings';
import { contactHandlers } from './handlers/contacts';
import { callbackHandlers } from './handlers/callbacks';
import { wirePushes } from './pushes';
import { testCallHandlers } from './handlers/test-call';

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

  const { view, idsForText } = createCallViews(source, contacts, notes, logger);
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
  const ctx: CoreContext = { source, contacts, notes, downloads, logger, push: opts.push, testCallPacing: opts.testCallPacing, view, idsForText, findCall, logChanged, settle };

  wirePushes(ctx);
  const status = () => source.status();

  // One table per domain (./handlers/): a channel with none is a compile error here.
  const handlers: Handlers = {
    ...callbackHandlers(ctx),
    ...callHandlers(ctx),
    ...logHandlers(ctx),
    ...recordingHandlers(ctx),
    ...contactHandlers(ctx),
    ...testCallHandlers(ctx),
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
