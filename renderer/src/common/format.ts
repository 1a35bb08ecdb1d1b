// Display helpers for times, durations and call states. Pure; no DOM.
import { callOutcome, isMissedCall, outcomeLabels } from '../../../shared/call-outcome';
import type { CallView } from '../../../shared/ipc/contract';

export function formatDuration(totalSec: number | null): string {
  if (totalSec === null || !Number.isFinite(totalSec) || totalSec < 0) return '–';
  const s = Math.floor(totalSec);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const clockSec = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const shortDay = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });

export const formatClock = (iso: string | null): string => (iso ? clock.format(new Date(iso)) : '–');
export const formatClockSec = (iso: string | null): string => (iso ? clockSec.format(new Date(iso)) : '–');

/** Local calendar day key "2026-11-24" used to group the log. */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function formatDay(iso: string, now = new Date()): string {
  const key = dayKey(iso);
  if (key === dayKey(now.toISOString())) return 'Today';
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (key === dayKey(y.toISOString())) return 'Yesterday';
  return dayFmt.format(new Date(iso));
}

/** "today 14:02", "yesterday 09:10", "3 Nov 11:30". */
export function formatWhen(iso: string, now = new Date()): string {
  const day = formatDay(iso, now);
  const when = day === 'Today' || day === 'Yesterday' ? day.toLowerCase() : shortDay.format(new Date(iso));
  return `${when} ${formatClock(iso)}`;
}

/** Local midnight of today as ISO (for "today's calls"). */
export function startOfToday(now = new Date()): string {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export type Tone = 'ringing' | 'talking' | 'ok' | 'missed' | 'elsewhere';

/**
 * A ringing call with no news for the ring timeout: the PBX never says a caller gave up. The tracker
 * ends it as missed (the log and the badge count it so), so this is a missed call, with why.
 */
export const stoppedRinging: { label: string; tone: Tone } = { label: outcomeLabels['rang-out'], tone: 'missed' };

/** The one-line state an agent reads at a glance, with a tone for colour. */
/** A colleague's extension as the UI says it: "Ada Lovelace (204)" when the view names it, else "204". */
export function colleague(c: Pick<CallView, 'extensionNames'>, ext: string): string {
  const name = c.extensionNames?.[ext];
  return name ? `${name} (${ext})` : ext;
}

/** The queue / DID with its name from Settings: "Sales (820)", else the bare id. */
export function lineLabel(id: string | null, name: string | null | undefined): string | null {
  if (id === null) return null;
  return name ? `${name} (${id})` : id;
}

/** Transfer / answered-by as one short phrase for a row, or null. */
export function handoverText(c: CallView): string | null {
  if (c.transferredTo) return `→ ${colleague(c, c.transferredTo)}${c.transferType ? ` (${c.transferType})` : ''}`;
  if (c.answeredBy && c.status === 'ended' && c.result === 'answered-elsewhere') return `by ${colleague(c, c.answeredBy)}`;
  if (c.transferredFrom) return `from ${colleague(c, c.transferredFrom)}`;
  return null;
}

export { isMissedCall };

export function callState(c: CallView, nowMs: number): { label: string; tone: Tone } {
  const transfer = c.transferredTo ? ` · transferred to ${colleague(c, c.transferredTo)}${c.transferType ? ` (${c.transferType})` : ''}` : '';
  switch (c.status) {
    case 'ringing': {
      // How long it has rung: an agent sees at once a pop that is not fresh.
      const rang = formatDuration(Math.max(0, (nowMs - Date.parse(c.startedAt)) / 1000));
      return { label: `${c.direction === 'incoming' ? 'Ringing' : 'Dialing'} ${rang}`, tone: 'ringing' };
    }
    case 'talking': {
      const secs = Math.max(0, (nowMs - Date.parse(c.answeredAt)) / 1000);
      return { label: `Talking ${formatDuration(secs)}${transfer}`, tone: 'talking' };
    }
    case 'ended':
      // Missed, rang out (the record says no end was seen) or not answered: the one name of each (shared/call-outcome.ts).
      if (c.result === 'missed') return { label: outcomeLabels[callOutcome(c)], tone: isMissedCall(c) ? 'missed' : 'elsewhere' };
      if (c.result === 'answered-elsewhere') return { label: c.answeredBy ? `Answered by ${colleague(c, c.answeredBy)}` : 'Answered elsewhere', tone: 'elsewhere' };
      return { label: `Ended · ${formatDuration(c.durationSec)}${transfer}`, tone: 'ok' };
  }
}

export function resultLabel(c: CallView): string {
  return outcomeLabels[callOutcome(c)];
}

/** "Missed (rang out, no end seen)" as its head and the why in brackets (null when none), for narrow columns. */
export function labelParts(label: string): { head: string; why: string | null } {
  const i = label.indexOf(' (');
  return i < 0 || !label.endsWith(')') ? { head: label, why: null } : { head: label.slice(0, i), why: label.slice(i + 1) };
}

/** Short file name from a URL or path, for labels. */
export function baseName(p: string): string {
  const clean = p.split(/[?#]/)[0] ?? p;
  const parts = clean.split(/[\\/]/);
  return parts[parts.length - 1] || clean;
}
