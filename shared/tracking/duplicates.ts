// "Have we just seen this exact webhook?" A re-delivered webhook changes nothing, but the same event
// seen again later is a new occurrence (a replayed flow, a PBX reusing an id), so duplicates are
// duplicates only within a time window, counted from the first delivery (retries do not extend it).
import { LruMap } from '../lru';

/**
 * 5 minutes: far longer than the PBX add-on's retries of a webhook we did not acknowledge and than
 * a restart of ours (seconds), yet shorter than the 10-minute recording window in which an ended
 * call is still held, so a duplicate arriving after the window still finds its call ended and
 * changes nothing, while a replay of the whole flow minutes later is tracked as a new call instead
 * of leaving its end dropped and the call "talking" until the 12 h limit.
 */
export const DUPLICATE_WINDOW_MS = 5 * 60_000;

export class DuplicateFilter {
  /** key → when it was first seen; also bounded by count so a flood cannot grow it. */
  private readonly seen: LruMap<string, number>;

  constructor(
    private readonly windowMs: number,
    maxEntries: number,
  ) {
    this.seen = new LruMap(maxEntries);
  }

  /** True when `key` was seen less than the window ago; otherwise records it as seen now. */
  isDuplicate(key: string, now: number): boolean {
    const at = this.seen.get(key);
    if (at === undefined) this.seen.addMissing(key, now);
    else if (now - at < this.windowMs && now >= at) return true;
    else this.seen.set(key, now);
    return false;
  }
}
