// A call record as the UI shows it, and the log's search by words, both over the names the UI gets:
// colleagues by extension (the hub's directory, else the contacts), queues and DIDs by line id
// (settings.lineNames), contacts by number, and the call's note. Used by every handler table that
// returns calls (./context.ts) and by the pushes of ../create-core-backend.ts.
import type { CallRecord } from '../../../../shared/call-record';
import type { Logger } from '../../../../shared/diagnostics-log';
import type { CallView } from '../../../../shared/ipc/contract';
import { lineNameMap } from '../../../../shared/line-names';
import { foldText, type NotesStore } from '../../call-log/notes';
import type { ContactsStore } from '../../contacts/store';
import type { CallSource } from '../call-source';

export interface CallViews {
  view(record: CallRecord): CallView;
  idsForText(text: string): Set<string>;
}

export function createCallViews(source: CallSource, contacts: ContactsStore, notes: NotesStore, logger: Logger): CallViews {
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
  let lineNames = { source: source.settings.lineNames, map: lineNameMap(source.settings.lineNames) };
  const lineMap = (): Map<string, string> => {
    if (lineNames.source !== source.settings.lineNames) lineNames = { source: source.settings.lineNames, map: lineNameMap(source.settings.lineNames) };
    return lineNames.map;
  };
  const nameOfLine = (id: string | null): string | null => (id === null ? null : (lineMap().get(id) ?? null));

  return {
    idsForText(text) {
      const q = foldText(text.trim());
      const lines = [...lineMap()].filter(([, name]) => foldText(name).includes(q)).map(([id]) => id);
      const ids = notes.idsMatching(text);
      for (const id of source.store.idsOnLines(lines)) ids.add(id);
      for (const id of source.store.idsWithCallerName(text)) ids.add(id);
      return ids;
    },
    view(record) {
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
    },
  };
}
