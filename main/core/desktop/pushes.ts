// What the core backend pushes to the app without being asked: every call change (as the UI shows it),
// the log's unseen-missed count once changes are durable, the source's status, the live calls again
// when the hub's colleague names change, the hub's shared callbacks; and what a change sets off here
// (a recording's automatic download, missed calls settled by calling the number back).
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import { settlesNumber, unseenMissedFrom } from '../call-log/settle-missed';
import type { CoreContext } from './handlers/context';
import { callbacksView } from './handlers/callbacks';

export function wirePushes(ctx: CoreContext): void {
  const { source, downloads, logger, push, view, logChanged, settle } = ctx;
  const autoDownload = (record: CallRecord): void => {
    for (const url of record.recordings) {
      const r = downloads.start({ call: record, url });
      if ('error' in r) logger.warn(`Automatic recording download refused: ${r.error}`);
    }
  };

  source.onUpdates((updates: CallUpdate[]) => {
    for (const u of updates) {
      push('push:callUpdate', { change: u.change, record: view(u.record), ...(u.backfill ? { backfill: true } : {}) });
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
  source.onStatus(() => push('push:status', { service: source.status(), popupsPaused: false, missedUnseen: source.store.missedUnseen(), policyError: null }));
  // New colleague names from the hub: the live calls are shown again with them (the log view asks anew).
  source.onDirectory(() => {
    for (const call of source.openCalls()) push('push:callUpdate', { change: 'updated', record: view(call) });
  });
  // The hub's shared callbacks (hub mode): pushed whenever the hub republishes this extension's list.
  source.onCallbacks(() => push('push:callbacks', callbacksView(source)));
}
