// CSV of call records: the app's export (main/app/export-log.ts) and `callpop log --csv` share this,
// so both neutralise spreadsheet formulas the same way. Caller ids, queue names and transfer
// targets come from the network and are untrusted.
import Papa from 'papaparse';
import { outcomeLabel } from './call-outcome';
import { callRecordColumns } from './call-record';
import type { CallRecord } from './call-record';

export type CsvRecord = Pick<CallRecord, (typeof callRecordColumns)[number]>;
/** Every CSV's columns before the extra ones: the record's, then `outcome`, the name the app shows ("Missed (rang out, no end seen)"). */
export const csvColumns: readonly string[] = [...callRecordColumns, 'outcome'];
export interface ExtraColumn<R> {
  name: string;
  value: (r: R) => string | null | undefined;
}

// Characters that make a spreadsheet read a field as a formula (OWASP "CSV injection"), optionally
// after spaces, which some importers trim.
const LEAD = '[=+\\-@\\t\\r]';
const LEADS_CELL = new RegExp(`^ *${LEAD}`);
// Excel splits on the locale's list separator (`;` in much of Europe) or tab, whatever the file
// uses, so a formula may also start right after one of these INSIDE a cell ("x;=cmd|x!A0").
const LEADS_AFTER_SEPARATOR = new RegExp(`([,;\\t])( *)(?=${LEAD})`, 'g');
const NEEDS_QUOTES = /[;\t]/;

/**
 * A cell a spreadsheet shows as text: a single quote goes before every formula lead character at
 * the start or after a separator (OWASP's advice; "+44 20 7946 0958" shows as '+44 20 7946 0958,
 * still readable). Everything else is left as is.
 */
export function csvSafeCell(value: string): string {
  const inner = value.replace(LEADS_AFTER_SEPARATOR, "$1'$2");
  return LEADS_CELL.test(inner) ? `'${inner}` : inner;
}

const cell = (v: CsvRecord[keyof CsvRecord]): string => csvSafeCell(Array.isArray(v) ? v.join(' ') : v === null || v === undefined ? '' : String(v));

/**
 * Rows of call records (arrays joined by spaces, null as empty), with the header row when asked,
 * without a trailing newline. Cells holding `;` or a tab are quoted too, so a spreadsheet that
 * splits on them keeps the cell whole.
 */
export function callRecordsCsv<R extends CsvRecord>(
  records: readonly R[],
  opts: { header: boolean; newline: '\n' | '\r\n'; /** Columns after the record's (e.g. the agent's note). */ extra?: readonly ExtraColumn<R>[] },
): string {
  const extra = opts.extra ?? [];
  const fields = [...csvColumns, ...extra.map((x) => x.name)];
  const data = records.map((r) => [...callRecordColumns.map((c) => cell(r[c])), outcomeLabel(r), ...extra.map((x) => csvSafeCell(x.value(r) ?? ''))]);
  const config = { newline: opts.newline, escapeFormulae: false, quotes: (v: unknown) => typeof v === 'string' && NEEDS_QUOTES.test(v) };
  // Papaparse ends a header-only output with a newline; callers add their own.
  if (opts.header) return data.length === 0 ? fields.join(',') : Papa.unparse({ fields, data }, config);
  return data.length === 0 ? '' : Papa.unparse(data, config);
}
