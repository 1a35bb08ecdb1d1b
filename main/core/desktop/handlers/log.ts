// The "log:" channels: the call log's pages (with search by contact name, note and line name), marking
// missed calls seen, deleting calls, and a call's note.
import type { CallRecord } from '../../../../shared/call-record';
import { unseenMissedFrom } from '../../call-log/settle-missed';
import type { CoreContext, HandlersOf } from './context';

export function logHandlers(ctx: CoreContext): HandlersOf<'log'> {
  const { source, contacts, notes, logger, view, findCall, idsForText, logChanged, settle } = ctx;
  return {
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
      if (updated) ctx.push('push:callUpdate', { change: 'updated', record: view(updated) });
      logChanged();
      return { ok: true };
    },
  };
}
