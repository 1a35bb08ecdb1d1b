// A record in memory with what queries need precomputed.
import type { CallRecord } from '../../../shared/call-record';
import { joinSearchKeys, numberMatchKey, numberSearchKeys } from '../../../shared/phone';

export interface LogEntry {
  readonly record: CallRecord;
  /** startedAt as epoch ms (the sort key). */
  readonly t: number;
  /** Joined phone search keys of the number. */
  readonly hay: string;
  /** Exact-match key of the number (history, contact names). */
  readonly key: string;
}

/** Per-number keys, shared by the many calls of one number. */
export class NumberKeys {
  private cache = new Map<string, { hay: string; key: string }>();
  constructor(readonly defaultCountry: string) {}

  of(number: string): { hay: string; key: string } {
    let k = this.cache.get(number);
    if (!k) {
      k = { hay: joinSearchKeys(numberSearchKeys(number, this.defaultCountry)), key: numberMatchKey(number, this.defaultCountry) };
      if (this.cache.size >= 50_000) this.cache.clear();
      this.cache.set(number, k);
    }
    return k;
  }

  entry(record: CallRecord): LogEntry {
    return { record, t: Date.parse(record.startedAt), ...this.of(record.number) };
  }
}
