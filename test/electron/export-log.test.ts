// The app's CSV export writes a real file whose hostile cells are neutralised (shared/call-csv.ts),
// page after page, read back with the three separators spreadsheets use.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { afterEach, describe, expect, it } from 'vitest';
import { exportLog, EXPORT_PAGE_SIZE } from '../../main/app/export-log';
import { callRecordColumns } from '../../shared/call-record';
import { csvColumns } from '../../shared/call-csv';
import type { CallView, LogPage, LogQuery } from '../../shared/ipc/contract';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const hostile = ['x;=cmd|x!A0', '+1-1', 'a,=1+1', 'a\t=1', '@SUM(A1)'];

describe('exportLog (CSV)', () => {
  it('neutralises formula leads at the start and after , ; and tab on every page', async () => {
    dir = await mkdtemp(join(tmpdir(), 'callpop-export-'));
    const records = Array.from({ length: EXPORT_PAGE_SIZE + 3 }, (_, i) => ({ id: `c${i}`, direction: 'incoming', number: hostile[i % hostile.length]!, recordings: [], seen: false }) as unknown as CallView);
    const query = async (q: LogQuery): Promise<LogPage> => ({ total: records.length, offset: q.offset, records: records.slice(q.offset, q.offset + q.limit) });
    const path = join(dir, 'calls.csv');
    expect(await exportLog({ path, format: 'csv', filter: {}, query })).toBe(records.length);
    const text = await readFile(path, 'utf8');
    const rows = Papa.parse<string[]>(text.trimEnd(), { delimiter: ',', newline: '\r\n' }).data;
    expect(rows[0]).toEqual([...csvColumns, 'note']);
    expect(rows).toHaveLength(records.length + 1);
    const numberCol = callRecordColumns.indexOf('number');
    expect(rows.slice(1, 6).map((r) => r[numberCol])).toEqual(["x;'=cmd|x!A0", "'+1-1", "a,'=1+1", "a\t'=1", "'@SUM(A1)"]);
    for (const delimiter of [',', ';', '\t']) {
      const naive = text.split('\r\n').flatMap((l) => l.split(delimiter)).map((f) => f.replace(/^"/, ''));
      expect(naive.filter((f) => /^ *[=+\-@\t\r]/.test(f))).toEqual([]);
    }
  });
});
