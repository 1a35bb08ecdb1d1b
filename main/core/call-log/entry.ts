// A record in memory: the fields queries need, plus the record's JSON, parsed only when a record is
// returned. Parsing 100k full records costs more than the whole open budget on a slow PC, so each line
// carries a small space-separated "meta" part in front of the record JSON:
//   startedAtMs endedAtMs|"" direction result|"" status seen matchKey searchKeys "id"(JSON) TAB {record}
// (direction, result, status as indexes; keys are digits and commas). A tombstone is just "id" (JSON),
// the file header a JSON object. JSON never contains a raw tab, so the first tab ends the meta part.
// The record itself is a JSON array in the column order named by the header: without the key names
// the file is 40% smaller, and reading and checksumming it is most of the cost of opening.
import { callRecordColumns, callResults, directions } from '../../../shared/call-record';
import type { CallRecord, CallResult, CallStatus, Direction } from '../../../shared/call-record';
import { joinSearchKeys, numberMatchKey, numberSearchKeys } from '../../../shared/phone';

const statuses = ['ringing', 'talking', 'ended'] as const satisfies readonly CallStatus[];

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
  /** Exact-match key of the number (history, contact names). Rewritten if the default country changes. */
  key: string;
  /** Joined phone search keys of the number. */
  hay: string;
  /** Id of `hay` in the store's HayIndex, -1 until the first number search. */
  hid: number;
  /** The record as stored (a JSON array, see recordColumns). */
  readonly json: string;
}

/** The column order of stored records (written into the file header). */
export const recordColumns: readonly string[] = callRecordColumns;

export const rowOf = (r: CallRecord): string => JSON.stringify(callRecordColumns.map((c) => r[c]));

/** A stored row as an object, keys named by `columns` (the header's, when migrating an older file). */
export function rowToObject(json: string, columns: readonly string[] = recordColumns): Record<string, unknown> {
  const row = JSON.parse(json) as unknown[];
  const out: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) out[columns[i]!] = row[i];
  return out;
}

export const recordOf = (e: LogEntry): CallRecord => rowToObject(e.json) as CallRecord;

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

  /** The entry of a validated record. */
  entry(r: CallRecord): LogEntry {
    return {
      id: r.id,
      t: Date.parse(r.startedAt),
      end: r.endedAt === null ? null : Date.parse(r.endedAt),
      direction: r.direction,
      result: r.result,
      status: r.status,
      seen: r.seen,
      ...this.of(r.number),
      hid: -1,
      json: rowOf(r),
    };
  }
}

/** The content of a record line (without checksum and newline). */
export function entryLine(e: LogEntry): string {
  const r = e.result === null ? '' : callResults.indexOf(e.result);
  return `${e.t} ${e.end ?? ''} ${directions.indexOf(e.direction)} ${r} ${statuses.indexOf(e.status)} ${e.seen ? 1 : 0} ${e.key} ${e.hay} ${JSON.stringify(e.id)}\t${e.json}`;
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

/** Decodes a line's content (hand-parsed: it is the hot loop of opening the log); null when malformed. */
export function decodeLine(content: string): DecodedLine {
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
  const seen = intAt(content, s5, s6 - 1);
  const plainId = content.charCodeAt(s8) === 0x22 && content.charCodeAt(tab - 1) === 0x22 && tab - s8 >= 3 && !content.slice(s8, tab).includes('\\');
  const id = plainId ? content.slice(s8 + 1, tab - 1) : jsonString(content.slice(s8, tab));
  if (Number.isNaN(t) || Number.isNaN(end) || !direction || result === undefined || !status || !(seen === 0 || seen === 1) || id === null || id === '') return null;
  return {
    kind: 'entry',
    entry: { id, t, end, direction, result, status, seen: seen === 1, key: content.slice(s6, s7 - 1), hay: content.slice(s7, s8 - 1), hid: -1, json: content.slice(tab + 1) },
  };
}
