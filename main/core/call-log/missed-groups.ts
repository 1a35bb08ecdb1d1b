// The log's missed calls gathered by caller (issue #20: one customer's five missed calls in a break
// were five rows among 48). Missed calls to the agent from one number on one local day are one row,
// shown at the newest of them ("5 missed calls, last 10:42"); every other call stays a row of its own.
// Works on the store's entries (no record is parsed), in the log's order (newest first).
import { isMissedCall } from '../../../shared/call-outcome';
import type { LogEntry } from './entry';

export interface MissedGroup {
  /** How many missed calls the row stands for (>= 2), and how many of them are not seen yet. */
  count: number;
  unseen: number;
  /** Their ids, newest first. */
  ids: string[];
}

/**
 * One page of rows over the entries (newest first): `total` rows, `calls` entries, and the rows in
 * [offset, end) with their group (null: a call of its own). One pass; the entries come in time order, so
 * only the current day's callers are remembered, and nothing is kept for rows off the page.
 */
export function groupMissedPage(entries: Iterable<LogEntry>, offset: number, end: number): { total: number; calls: number; rows: { e: LogEntry; group: MissedGroup | null }[] } {
  const rows: { e: LogEntry; group: MissedGroup | null }[] = [];
  /** This day's callers with missed calls → their row's group (null when the row is off the page). */
  const open = new Map<string, MissedGroup | null>();
  let day = NaN;
  let hour = NaN;
  let zoneMs = 0;
  let total = 0;
  let calls = 0;
  for (const e of entries) {
    calls++;
    if (e.key === '' || !isMissedCall(e)) {
      if (total >= offset && total < end) rows.push({ e, group: null });
      total++;
      continue;
    }
    // The local day (the zone offset looked up once per hour of calls).
    const h = Math.floor(e.t / 3_600_000);
    if (h !== hour) {
      hour = h;
      zoneMs = new Date(e.t).getTimezoneOffset() * 60_000;
    }
    const d = Math.floor((e.t - zoneMs) / 86_400_000);
    if (d !== day) {
      day = d;
      open.clear();
    }
    const head = open.get(e.key);
    if (head !== undefined) {
      if (head) {
        head.count++;
        if (!e.seen) head.unseen++;
        head.ids.push(e.id);
      }
      continue;
    }
    const group = total >= offset && total < end ? { count: 1, unseen: e.seen ? 0 : 1, ids: [e.id] } : null;
    open.set(e.key, group);
    if (group) rows.push({ e, group });
    total++;
  }
  return { total, calls, rows: rows.map((r) => ({ e: r.e, group: r.group && r.group.count > 1 ? r.group : null })) };
}
