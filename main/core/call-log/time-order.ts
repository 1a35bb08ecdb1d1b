// Log entries sorted by start time, newest first, kept sorted by binary-search insertion.
import type { LogEntry } from './entry';

export class TimeOrder {
  items: LogEntry[] = [];

  /** Bulk load (one sort instead of n insertions). */
  static of(entries: LogEntry[]): TimeOrder {
    const order = new TimeOrder();
    order.items = entries.sort((a, b) => b.t - a.t);
    return order;
  }

  /** First index whose start time is below `t` (so [firstBelow(to), firstBelow(from)) is the window [from, to)). */
  firstBelow(t: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.t >= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(e: LogEntry): void {
    const at = this.firstBelow(e.t);
    if (at === this.items.length) this.items.push(e);
    else this.items.splice(at, 0, e);
  }

  private indexOf(e: LogEntry): number {
    const items = this.items;
    // Entries with the same start time are contiguous, starting at the first one not above e.t.
    for (let i = this.firstBelow(e.t + 1); i < items.length && items[i]!.t === e.t; i++) if (items[i] === e) return i;
    return items.indexOf(e);
  }

  remove(e: LogEntry): void {
    const i = this.indexOf(e);
    if (i >= 0) this.items.splice(i, 1);
  }

  replace(old: LogEntry, e: LogEntry): void {
    const i = old.t === e.t ? this.indexOf(old) : -1;
    if (i >= 0) this.items[i] = e;
    else {
      this.remove(old);
      this.insert(e);
    }
  }
}
