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

/** Local calendar day of an epoch-ms time, as a number (for grouping only). */
function localDay(ms: number): number {
  return Math.floor((ms - new Date(ms).getTimezoneOffset() * 60_000) / 86_400_000);
}

/** The rows of a list of entries (newest first), and for each row its group (null: a call of its own). */
export function groupMissedEntries(entries: readonly LogEntry[]): { rows: LogEntry[]; groups: (MissedGroup | null)[] } {
  const rows: LogEntry[] = [];
  const groups: (MissedGroup | null)[] = [];
  const open = new Map<string, number>();
  for (const e of entries) {
    if (e.key === '' || !isMissedCall(e)) {
      rows.push(e);
      groups.push(null);
      continue;
    }
    const k = `${localDay(e.t)} ${e.key}`;
    const at = open.get(k);
    if (at === undefined) {
      open.set(k, rows.length);
      rows.push(e);
      groups.push({ count: 1, unseen: e.seen ? 0 : 1, ids: [e.id] });
      continue;
    }
    const g = groups[at]!;
    g.count++;
    if (!e.seen) g.unseen++;
    g.ids.push(e.id);
  }
  return { rows, groups: groups.map((g) => (g && g.count > 1 ? g : null)) };
}
