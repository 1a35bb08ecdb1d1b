// A record in memory: the fields queries need, plus the record's JSON, parsed only when a record is
// returned. Parsing 100k full records costs more than the whole open budget on a slow PC, so each line
// carries a small space-separated "meta" part in front of the record JSON:
//   startedAtMs endedAtMs|"" direction result|"" status flags matchKey searchKeys "id"(JSON) TAB {record}
// (direction, result, status as indexes; keys are digits and commas; flags: 1 = seen, 2 = rang out,
// i.e. endedBy "ring-timeout", so the log's filters need no record parsed. Format 1 had only 0 or 1
// there, "seen": a format-1 line reads the same in format 2). A tombstone is just "id" (JSON),
// the file header a JSON object. JSON never contains a raw tab, so the first tab ends the meta part.
// The record itself is a JSON array in the column order named by the header: without the key names
// the file is 40% smaller, and reading and checksumming it is most of the cost of opening.
import { callRecordColumns, callResults, directions } from '../../../shared/call-record';
import type { CallRecord, CallResult, CallStatus, Direction, EndedBy } from '../../../shared/call-record';
import { joinSearchKeys, numberMatchKey, numberSearchKeys } from '../../../shared/phone';

const statuses = ['ringing', 'talking', 'ended'] as const satisfies readonly CallStatus[];
const SEEN = 1;
const RANG_OUT = 2;

export interface LogEntry {
  readonly id: string;
  /** startedAt as epoch ms (the sort key). */
  readonly t: number;
  /** endedAt as epoch ms, or null. */
  readonly end: number | null;
  readonly direction: Direction;
  readonly result: CallResult | null;
  readonly status: CallStatus;
  readonly seen: boolean;
  /** The record's endedBy (a ring with no end seen), for the outcome filters. */
  readonly endedBy: EndedBy | null;
  /** Exact-match key of the number (history, contact names). Rewritten if the default country changes. */
  key: string;
  /** Joined phone search keys of the number. */
  hay: string;
  /** Id of `hay` in the store's HayIndex, -1 until the first number search. */
  hid: number;
  /**
   * The record as stored (a JSON array, see recordColumns) while it is not on disk yet; null once it
   * is: then it is read back from the file (bytes [pos, pos + len)) when asked for. Keeping 100k
   * records' JSON in memory cost about as much as the file; the utility process runs all day.
   */
  json: string | null;
  /** Byte offset and length of the record JSON in the log file; -1 while json is held in memory. */
  pos: number;
  len: number;
}

/** The column order of stored records (written into the file header): the CSV's, then the log's own
 * callerName (the PBX's name for the caller; not a CSV column, whose outcome column follows endedBy). */
export const recordColumns: readonly (keyof CallRecord)[] = [...callRecordColumns, 'callerName'];

/** Optional trailing columns (endedBy, callerName): a row ends after the last one that is set, so a
 * record with neither (most records) is as long as before they existed (5 bytes each per row). */
const firstOptional = recordColumns.indexOf('endedBy');
const optionalColumns = new Set<string>(recordColumns.slice(firstOptional));

export const rowOf = (r: CallRecord): string => {
  let n = recordColumns.length;
  while (n > firstOptional && r[recordColumns[n - 1]!] == null) n--;
  const row: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) row[i] = r[recordColumns[i]!] ?? null;
  return JSON.stringify(row);
};

/**
 * A stored row as an object, keys named by `columns` (the header's, when migrating an older file). An
 * optional field stored as null is left out, so a record reads back as it was put (`endedBy` is set only
 * on a ring Callpop ended, `callerName` only when the PBX named the caller; the tracker's, the hub's and
 * older records have no such keys).
 */
export function rowToObject(json: string, columns: readonly string[] = recordColumns): Record<string, unknown> {
  const row = JSON.parse(json) as unknown[];
  const out: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const v = row[i];
    // A row may end early (see rowOf); an optional field stored as null is left out too.
    if (v === undefined || (v === null && optionalColumns.has(columns[i]!))) continue;
    out[columns[i]!] = v;
  }
  return out;
}

/**
 * A copy of a string that does not keep the (large) string it was sliced from alive. V8 copies
 * substrings shorter than 13 characters and slices longer ones, so a short id is rebuilt from two
 * short copies (cheap); a long one goes through a JSON round trip.
 */
export function detached(s: string): string {
  if (s.length < 13) return s;
  if (s.length < 25) return s.slice(0, 12) + s.slice(12);
  return JSON.parse(JSON.stringify(s)) as string;
}

/** Per-number keys, shared by the many calls of one number. */
export class NumberKeys {
  private cache = new Map<string, { hay: string; key: string }>();
  constructor(readonly defaultCountry: string) {}

  of(number: string): { hay: string; key: string } {
    let k = this.cache.get(number);
    if (!k) {
      k = { hay: joinSearchKeys(numberSearchKeys(number, this.defaultCountry)), key: numberMatchKey(number, this.defaultCountry) };
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(number, k);
    }
    return k;
  }

  /** The entry of a validated record, under its key in the log (its call id unless the log keys otherwise). */
  entry(r: CallRecord, key: string = r.id): LogEntry {
    return {
      id: key,
      t: Date.parse(r.startedAt),
      end: r.endedAt === null ? null : Date.parse(r.endedAt),
      direction: r.direction,
      result: r.result,
      status: r.status,
      seen: r.seen,
      endedBy: r.endedBy ?? null,
      ...this.of(r.number),
      hid: -1,
      json: rowOf(r),
      pos: -1,
      len: -1,
    };
  }
}

/** The content of a record line (without checksum and newline); `json` when the entry's is on disk. */
export function entryLine(e: LogEntry, json: string | null = e.json): string {
  if (json === null) throw new Error(`entryLine: the record of ${e.id} is not in memory`);
  const r = e.result === null ? '' : callResults.indexOf(e.result);
  const flags = (e.seen ? SEEN : 0) | (e.endedBy === 'ring-timeout' ? RANG_OUT : 0);
  return `${e.t} ${e.end ?? ''} ${directions.indexOf(e.direction)} ${r} ${statuses.indexOf(e.status)} ${flags} ${e.key} ${e.hay} ${JSON.stringify(e.id)}\t${json}`;
}

export const tombstoneLine = (id: string): string => JSON.stringify(id);

export type DecodedLine = { kind: 'entry'; entry: LogEntry } | { kind: 'tombstone'; id: string } | { kind: 'header'; header: Record<string, unknown> } | null;

/** A non-negative decimal integer in text[from, to), or NaN (also for an empty field). */
function intAt(text: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return Number.NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    n = n * 10 + c;
  }
  return n;
}

function jsonString(text: string): string | null {
  if (text.length < 2 || text.charCodeAt(0) !== 34 || text.charCodeAt(text.length - 1) !== 34) return null;
  if (!text.includes('\\')) return text.slice(1, -1);
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Where a line's content starts in the file, in bytes, and whether it is all ASCII (chars = bytes). */
export interface LineAt {
  pos: number;
  ascii: boolean;
}

/**
 * Decodes a line's content (hand-parsed: it is the hot loop of opening the log); null when malformed.
 * With `at`, the entry keeps only the position of its record JSON in the file, and its strings are
 * detached from `content` (which is a slice of the whole file text); without, it holds the JSON.
 */
export function decodeLine(content: string, at?: LineAt): DecodedLine {
  const first = content.charCodeAt(0);
  if (first === 0x7b /* { */) {
    try {
      const header: unknown = JSON.parse(content);
      return header !== null && typeof header === 'object' && !Array.isArray(header) ? { kind: 'header', header: header as Record<string, unknown> } : null;
    } catch {
      return null;
    }
  }
  if (first === 0x22 /* " */) {
    const id = jsonString(content);
    return id === null ? null : { kind: 'tombstone', id };
  }
  const tab = content.indexOf('\t');
  if (tab < 0) return null;
  // Eight spaces end the first eight fields; the id runs from the last one to the tab. (No arrays:
  // this runs 100k times on open, and garbage is what costs most there.)
  const s1 = content.indexOf(' ') + 1;
  const s2 = content.indexOf(' ', s1) + 1;
  const s3 = content.indexOf(' ', s2) + 1;
  const s4 = content.indexOf(' ', s3) + 1;
  const s5 = content.indexOf(' ', s4) + 1;
  const s6 = content.indexOf(' ', s5) + 1;
  const s7 = content.indexOf(' ', s6) + 1;
  const s8 = content.indexOf(' ', s7) + 1;
  if (s1 === 0 || s2 === 0 || s3 === 0 || s4 === 0 || s5 === 0 || s6 === 0 || s7 === 0 || s8 === 0 || s8 > tab) return null;
  const t = intAt(content, 0, s1 - 1);
  const end = s2 - 1 === s1 ? null : intAt(content, s1, s2 - 1);
  const direction = directions[intAt(content, s2, s3 - 1)];
  const result = s4 - 1 === s3 ? null : callResults[intAt(content, s3, s4 - 1)];
  const status = statuses[intAt(content, s4, s5 - 1)];
  const flags = intAt(content, s5, s6 - 1);
  const plainId = content.charCodeAt(s8) === 0x22 && content.charCodeAt(tab - 1) === 0x22 && tab - s8 >= 3 && !content.slice(s8, tab).includes('\\');
  const id = plainId ? content.slice(s8 + 1, tab - 1) : jsonString(content.slice(s8, tab));
  if (Number.isNaN(t) || Number.isNaN(end) || !direction || result === undefined || !status || !(flags >= 0 && flags <= (SEEN | RANG_OUT)) || id === null || id === '') return null;
  return {
    kind: 'entry',
    entry: at
      ? {
          id: detached(id),
          t,
          end,
          direction,
          result,
          status,
          seen: (flags & SEEN) !== 0,
          endedBy: flags & RANG_OUT ? 'ring-timeout' : null,
          key: content.slice(s6, s7 - 1),
          hay: content.slice(s7, s8 - 1),
          hid: -1,
          json: null,
          // Everything before the tab is ASCII but the id; count the id's bytes only when it is not.
          pos: at.pos + (at.ascii ? tab + 1 : Buffer.byteLength(content.slice(0, tab + 1))),
          len: at.ascii ? content.length - tab - 1 : Buffer.byteLength(content.slice(tab + 1)),
        }
      : { id, t, end, direction, result, status, seen: (flags & SEEN) !== 0, endedBy: flags & RANG_OUT ? 'ring-timeout' : null, key: content.slice(s6, s7 - 1), hay: content.slice(s7, s8 - 1), hid: -1, json: content.slice(tab + 1), pos: -1, len: -1 },
  };
}
