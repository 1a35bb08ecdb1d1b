// How calls look on a terminal: one line per change for `serve`, a table for `log`.
import { callChanges, type CallRecord, type CallUpdate } from '../../shared/call-record';
import { outcomeLabel } from '../../shared/call-outcome';
import { isTestCallId } from '../../shared/test-call-id';
import { printable } from './args';

const two = (n: number): string => String(n).padStart(2, '0');
export const clock = (d: Date): string => `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
const dateTime = (iso: string): string => {
  const d = new Date(iso);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
};

/** The number as the PBX sent it; "Send test call" calls are marked TEST, as in the app. */
export const numberText = (r: Pick<CallRecord, 'number' | 'id'>): string => `${r.number ? printable(r.number) : '(withheld)'}${isTestCallId(r.id) ? ' TEST' : ''}`;

function details(u: CallUpdate): string[] {
  const r = u.record;
  const out: string[] = [];
  if (r.queue) out.push(`via queue ${printable(r.queue)}`);
  if (r.did && (u.change === 'ringing' || u.change === 'dialing')) out.push(`DID ${printable(r.did)}`);
  if (u.change === 'transferred' || (u.change === 'ended' && r.transferredTo)) {
    if (r.transferredTo) out.push(`transferred to ${printable(r.transferredTo)}${r.transferType ? ` (${r.transferType})` : ''}`);
  }
  if (r.transferredFrom && (u.change === 'answered' || u.change === 'ringing')) out.push(`from ${printable(r.transferredFrom)}`);
  if (u.change === 'answered-elsewhere' && r.answeredBy) out.push(`answered by ${printable(r.answeredBy)}`);
  if (u.change === 'ended' && r.durationSec !== null) out.push(`${r.durationSec} s`);
  // The change column already says "recording": the URL alone follows.
  if (u.change === 'recording') out.push(printable(r.recordings[r.recordings.length - 1] ?? ''));
  return out;
}

/** Every change name fits this column, so the numbers line up whatever the change ("answered-elsewhere"). */
const changeWidth = Math.max(...callChanges.map((c) => c.length));
const directionWidth = Math.max('incoming'.length, 'outgoing'.length);

/** `12:03:04 ringing            incoming 05551239988 via queue 820` */
export function updateLine(u: CallUpdate, now: Date): string {
  // Your own outgoing call nobody took is "not answered", as `log` and the app say (shared/call-outcome.ts).
  const change = u.change === 'missed' && u.record.direction === 'outgoing' ? 'not answered' : u.change;
  return [clock(now), change.padEnd(changeWidth), u.record.direction.padEnd(directionWidth), numberText(u.record), ...details(u)].join(' ');
}

const duration = (s: number | null): string => (s === null ? '' : s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`);

/** A readable table, newest first as given. */
export function callTable(records: readonly CallRecord[]): string {
  // Status, not the stored result: a talking call is "talking", an own unanswered call "not answered".
  const head = ['When', 'Dir', 'Status', 'Number', 'Queue', 'Talk', 'Transfer', 'Rec'];
  const rows = records.map((r) => [
    dateTime(r.startedAt),
    r.direction === 'incoming' ? 'in' : 'out',
    outcomeLabel(r).toLowerCase(),
    numberText(r),
    r.queue ? printable(r.queue) : '',
    duration(r.durationSec),
    r.transferredTo ? `to ${printable(r.transferredTo)}` : r.transferredFrom ? `from ${printable(r.transferredFrom)}` : r.answeredBy ? `by ${printable(r.answeredBy)}` : '',
    r.recordings.length ? String(r.recordings.length) : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}
