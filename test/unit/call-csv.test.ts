// Spreadsheet formula injection in CSV exports (the app's export and `callpop log --csv` share
// shared/call-csv.ts). The file is read back as spreadsheets read it: with `,`, `;` or tab as the
// separator (Excel uses the locale's list separator), honouring quotes, and also split naively.
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../shared/call-record';
import { callRecordColumns } from '../../shared/call-record';
import { callRecordsCsv, csvColumns, csvSafeCell } from '../../shared/call-csv';
import { callsToCsv } from '../../main/cli/log';
import { callRecord } from '../support/call-records';

const record = (over: Partial<CallRecord>): CallRecord =>
  callRecord({ id: '261124101500_42', result: 'answered', startedAt: '2026-11-24T10:15:00.000Z', endedAt: null, seen: true, ...over });

const hostile = ['x;=cmd|x!A0', '+1-1', '=HYPERLINK("http://evil.example","x")', 'a,=1+1', 'a\t=1', 'x; -2+3', '@SUM(A1)', '\r=1', ' =1', 'a;;+1', 'x,@y;-z\t=w'];
const LEADS = /^ *[=+\-@\t\r]/;

/** Every field a spreadsheet would see, reading `csv` with `delimiter`. */
function fields(csv: string, delimiter: string): string[] {
  const parsed = Papa.parse<string[]>(csv, { delimiter, newline: csv.includes('\r\n') ? '\r\n' : '\n' }).data.flat();
  const naive = csv.split(/\r?\n/).flatMap((line) => line.split(delimiter)).map((f) => f.replace(/^"/, ''));
  return [...parsed, ...naive];
}

describe('CSV cells are neutralised against formula injection', () => {
  it('a formula lead at the start or after , ; or tab gets a single quote', () => {
    expect(csvSafeCell('x;=cmd|x!A0')).toBe("x;'=cmd|x!A0");
    expect(csvSafeCell('+1-1')).toBe("'+1-1");
    expect(csvSafeCell('a,=1+1')).toBe("a,'=1+1");
    expect(csvSafeCell('a\t=1')).toBe("a\t'=1");
    expect(csvSafeCell('x; -2+3')).toBe("x;' -2+3");
    expect(csvSafeCell('\r=1')).toBe("'\r=1");
    expect(csvSafeCell('@SUM(A1)')).toBe("'@SUM(A1)");
  });

  it('phone numbers stay readable; harmless text is unchanged', () => {
    expect(csvSafeCell('+44 20 7946 0958')).toBe("'+44 20 7946 0958");
    expect(csvSafeCell('05551239988')).toBe('05551239988');
    expect(csvSafeCell('Doe, Jane')).toBe('Doe, Jane');
    expect(csvSafeCell('a-b=c')).toBe('a-b=c');
  });

  for (const [name, delimiter] of [['comma', ','], ['semicolon', ';'], ['tab', '\t']] as const) {
    it(`no field read with the ${name} separator starts a formula (app export rows and callpop log --csv)`, () => {
      const records = hostile.flatMap((h) => [record({ number: h }), record({ queue: h, transferredTo: h, recordings: [h, h] })]);
      for (const csv of [callRecordsCsv(records, { header: true, newline: '\r\n' }), callsToCsv(records)]) {
        const bad = fields(csv, delimiter).filter((f) => LEADS.test(f));
        expect(bad).toEqual([]);
      }
    });
  }

  it('read back with the comma, every hostile value is one cell, shown with its quotes', () => {
    const csv = callsToCsv(hostile.map((h) => record({ number: h })));
    const rows = Papa.parse<string[]>(csv, { delimiter: ',' }).data;
    // `callpop log --csv` ends with the agent's note, as the app's export does.
    expect(rows[0]).toEqual([...csvColumns, 'note']);
    expect(rows.slice(1).map((r) => r[callRecordColumns.indexOf('number')])).toEqual(hostile.map(csvSafeCell));
    expect(rows.slice(1).every((r) => r.length === csvColumns.length + 1)).toBe(true);
  });

  it('cells holding ; or a tab are quoted; a ;-locale spreadsheet that splits the cell gets text', () => {
    const csv = callRecordsCsv([record({ number: 'x;=cmd|x!A0', queue: 'a\tb' })], { header: false, newline: '\n' });
    expect(csv).toContain(`"x;'=cmd|x!A0"`);
    expect(csv).toContain('"a\tb"');
    // Excel in a ;-locale reads this comma file split at the ; inside the cell: the piece after it is text.
    const rows = Papa.parse<string[]>(csv, { delimiter: ';' }).data;
    expect(rows[0]).toHaveLength(2);
    expect(rows[0]![1]).toMatch(/^'=cmd\|x!A0",/);
  });

  it('the header alone has no trailing newline; no rows without a header is empty', () => {
    expect(callRecordsCsv([], { header: true, newline: '\r\n' })).toBe(csvColumns.join(','));
    expect(callRecordsCsv([], { header: false, newline: '\r\n' })).toBe('');
  });
});
