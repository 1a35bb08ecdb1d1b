// Turns a LogFilter into a time window (the log is sorted by start time) and a per-record predicate.
import type { LogFilter } from '../../../shared/call-log';
import { matchesResultFilter } from '../../../shared/call-outcome';
import { numberMatchKey, querySearchKeys } from '../../../shared/phone';
import type { LogEntry } from './entry';

const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Start of the instant/day as epoch ms; a bare date is a local calendar day. `end` gives the exclusive end. */
export function parseFilterDate(value: string, bound: 'start' | 'end'): number {
  const day = dateOnly.exec(value.trim());
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]) - 1, Number(day[3])];
    const date = new Date(y, m, d + (bound === 'end' ? 1 : 0));
    if (m <= 11 && d >= 1 && d <= 31) return date.getTime();
  } else {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms) && /^\d{4}-\d{2}-\d{2}T/.test(value.trim())) return bound === 'end' ? ms + 1 : ms;
  }
  throw new Error(`Invalid date "${value}": use YYYY-MM-DD or an ISO date-time`);
}

export interface CompiledFilter {
  /** Inclusive lower and exclusive upper bound of startedAt (epoch ms). */
  fromMs: number;
  toMs: number;
  test: (e: LogEntry) => boolean;
}

export interface FilterOptions {
  defaultCountry: string;
  /** Numbers of contacts whose name matches the text. */
  numbersForText?: ((text: string) => string[]) | undefined;
  /** Ids of calls the text finds by other words (their note, their queue's or DID's name). */
  idsForText?: ((text: string) => ReadonlySet<string>) | undefined;
  /** A test for "the record's number contains one of these query keys". */
  numberMatcher: (queryKeys: readonly string[]) => (e: LogEntry) => boolean;
}

export function compileFilter(filter: LogFilter, opts: FilterOptions): CompiledFilter {
  const fromMs = filter.from ? parseFilterDate(filter.from, 'start') : -Infinity;
  const toMs = filter.to ? parseFilterDate(filter.to, 'end') : Infinity;
  const { direction, result, unseenOnly } = filter;
  const text = filter.text?.trim() ?? '';
  let textTest: ((e: LogEntry) => boolean) | null = null;
  if (text !== '') {
    const hasLetters = /\p{L}/u.test(text);
    const keys = hasLetters ? [] : querySearchKeys(text, opts.defaultCountry);
    const nameKeys = new Set(
      (opts.numbersForText?.(text) ?? []).map((n) => numberMatchKey(n, opts.defaultCountry)).filter((k) => k !== ''),
    );
    const byNumber = keys.length > 0 ? opts.numberMatcher(keys) : null;
    const ids = hasLetters ? (opts.idsForText?.(text) ?? new Set<string>()) : new Set<string>();
    if (nameKeys.size === 0 && ids.size === 0) textTest = byNumber ?? (() => false);
    else textTest = (e) => byNumber?.(e) === true || nameKeys.has(e.key) || ids.has(e.id);
  }
  const test = (e: LogEntry): boolean => {
    if (direction && e.direction !== direction) return false;
    if (result && !matchesResultFilter(e, result)) return false;
    if (unseenOnly && e.seen) return false;
    return textTest === null || textTest(e);
  };
  return { fromMs, toMs, test };
}
