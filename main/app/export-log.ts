// Export the filtered call log as CSV (call-record fields as columns) or JSON. Pages are fetched
// from the core one at a time and written as they come, to a temp file renamed when complete,
// so a 100k-call export neither holds everything in memory nor leaves a half-written file.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { callRecordsCsv, type ExtraColumn } from '../../shared/call-csv';
import type { ExportFormat, LogFilter, LogPage, LogQuery } from '../../shared/ipc/contract';

export const EXPORT_PAGE_SIZE = 1000;

/** After the record's columns: the agent's note (kept beside the log, merged into the view). */
const extra: readonly ExtraColumn<LogPage['records'][number]>[] = [{ name: 'note', value: (r) => r.note }];

export async function exportLog(opts: { path: string; format: ExportFormat; filter: LogFilter; query: (q: LogQuery) => Promise<LogPage> }): Promise<number> {
  const tmp = `${opts.path}.${process.pid}.part`;
  const out = createWriteStream(tmp, { flags: 'w' });
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  let count = 0;
  try {
    // Formula injection (caller ids are untrusted) is neutralised in shared/call-csv.ts.
    if (opts.format === 'csv') await write(`${callRecordsCsv([], { header: true, newline: '\r\n', extra })}\r\n`);
    else await write('[');
    for (let offset = 0; ; ) {
      const page = await opts.query({ ...opts.filter, offset, limit: EXPORT_PAGE_SIZE });
      if (page.records.length === 0) break;
      if (opts.format === 'csv') {
        await write(`${callRecordsCsv(page.records, { header: false, newline: '\r\n', extra })}\r\n`);
      } else {
        await write(page.records.map((r, i) => `${count + i === 0 ? '\n' : ',\n'}${JSON.stringify(r)}`).join(''));
      }
      count += page.records.length;
      offset += page.records.length;
      if (offset >= page.total) break;
    }
    if (opts.format === 'json') await write(count === 0 ? ']\n' : '\n]\n');
    out.end();
    await once(out, 'finish');
    await rename(tmp, opts.path);
    return count;
  } catch (e) {
    // Wait for the stream to close (its file may still be opening) before removing the temp file.
    const closed = out.closed ? Promise.resolve() : once(out, 'close').catch(() => undefined);
    out.destroy();
    await closed;
    await rm(tmp, { force: true });
    throw e;
  }
}
