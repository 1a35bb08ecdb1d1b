// `callpop log`: this user's calls from the call log, newest first, as a table, JSON or CSV.
// Opens the log read-only, so it works while the app or `callpop serve` is running.
import { existsSync } from 'node:fs';
import type { CallRecord } from '../../shared/call-record';
import { callRecordsCsv } from '../../shared/call-csv';
import type { LogFilter } from '../../shared/call-log';
import type { Logger } from '../../shared/diagnostics-log';
import { openCallLogStore, parseFilterDate } from '../core/call-log/store';
import { openNotesStore } from '../core/call-log/notes';
import { callLogDir, defaultDataDir } from '../core/config/paths';
import { openSettingsFile } from '../core/config/settings-file';
import { parseFlags, printable, UsageError, type CliIo } from './args';
import { callTable } from './format';

export const logUsage = `Usage: callpop log [--data-dir DIR] [--json | --csv] [--missed] [--number DIGITS] [--since DATE]

Lists this user's calls, newest first.
  --json            one JSON array of call records (each with its note, or null)
  --csv             CSV with a header row (the call record fields, then the note)
  --missed          missed calls only (calls to you nobody took; not your own unanswered calls)
  --number DIGITS   calls with this number, in any format ("0555 123 99 88", "+90 555...")
  --since DATE      calls since DATE (YYYY-MM-DD, local day, or an ISO date-time)
  --data-dir DIR    the data folder (default: the desktop app's folder)`;

const options = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  missed: { type: 'boolean' },
  number: { type: 'string' },
  since: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A call with the agent's note on it (kept beside the log, in notes.json), as the app's export has it. */
export type NotedCall = CallRecord & { note: string | null };

/** CSV with a header row and the note last, like the app's export; formula injection is neutralised in
 * shared/call-csv.ts (shared with the app's export). */
export function callsToCsv(records: readonly (CallRecord & { note?: string | null })[]): string {
  return callRecordsCsv(records, { header: true, newline: '\n', extra: [{ name: 'note', value: (r) => r.note ?? null }] });
}

export async function runLog(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, options);
  if (values.help) {
    io.stdout(`${logUsage}\n`);
    return 0;
  }
  if (values.json && values.csv) throw new UsageError('Choose one of --json and --csv.');
  const filter: LogFilter = {};
  if (values.missed) filter.result = 'missed';
  if (values.number !== undefined) {
    const n = values.number.trim();
    if (!/\d/.test(n) || !/^[\d\s+().\-/]+$/.test(n)) throw new UsageError(`--number must be a phone number (digits, spaces, + - ( ) .), got "${printable(values.number)}".`);
    filter.text = n;
  }
  if (values.since !== undefined) {
    try {
      parseFilterDate(values.since, 'start');
    } catch {
      throw new UsageError(`--since must be a date like 2026-11-24 or 2026-11-24T09:00:00Z, got "${printable(values.since)}".`);
    }
    filter.from = values.since.trim();
  }

  const quiet: Logger = { debug() {}, info() {}, warn: (m) => io.stderr(`warning: ${printable(m)}\n`), error: (m) => io.stderr(`error: ${printable(m)}\n`) };
  const dataDir = values['data-dir'] ?? defaultDataDir(io.env ?? process.env);
  const dir = callLogDir(dataDir);
  // A folder named on purpose that holds no call log is a mistake (a typo, the wrong folder), not
  // "no calls"; the app's own folder before its first call is simply empty.
  if (values['data-dir'] !== undefined && !existsSync(dir)) {
    io.stderr(`callpop log: There is no call log in ${printable(dataDir)}; give the data folder of the Callpop app or of callpop serve.\n`);
    return 1;
  }
  const settings = openSettingsFile(dataDir, { logger: quiet }).get();
  let records: NotedCall[] = [];
  if (existsSync(dir)) {
    const store = await openCallLogStore(dir, { readOnly: true, logger: quiet, defaultCountry: settings.defaultCountry });
    try {
      const notes = await openNotesStore(dir, { logger: quiet, defaultCountry: settings.defaultCountry });
      records = [...store.iterate(filter)].map((r) => ({ ...r, note: notes.get(r.id) }));
    } finally {
      await store.close();
    }
  }
  if (values.json) io.stdout(`${JSON.stringify(records, null, 2)}\n`);
  else if (values.csv) io.stdout(`${callsToCsv(records)}\n`);
  else io.stdout(records.length ? `${callTable(records)}\n` : 'No calls.\n');
  return 0;
}
