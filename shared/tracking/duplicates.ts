// "Have we just seen this exact webhook?" A re-delivered webhook changes nothing, but the same event
// seen again later is a new occurrence (a replayed flow, a PBX reusing an id), so duplicates are
// duplicates only within a time window, counted from the first delivery (retries do not extend it).
import type { CallEvent } from '../webhook/event';

/**
 * 5 minutes: far longer than the PBX add-on's retries of a webhook we did not acknowledge and than
 * a restart of ours (seconds), yet shorter than the 10-minute recording window in which an ended
 * call is still held, so a duplicate arriving after the window still finds its call ended and
 * changes nothing, while a replay of the whole flow minutes later is tracked as a new call instead
 * of leaving its end dropped and the call "talking" until the 12 h limit.
 */
export const DUPLICATE_WINDOW_MS = 5 * 60_000;

/** One event seen: its JSON made only when another event of the same call id (and leg) comes. */
interface Seen {
  event: CallEvent | null;
  json: string | null;
  /** When it was first seen (ms). */
  at: number;
}

/** The events of one id: a short list, or, past `listMax` of them, a map by JSON (a flood of one id stays O(1)). */
type Group = Seen[] | Map<string, Seen>;
const listMax = 16;

const jsonOf = (seen: Seen): string => {
  if (seen.json === null) {
    seen.json = JSON.stringify(seen.event);
    seen.event = null;
  }
  return seen.json;
};

/**
 * The events seen, grouped by their id as sent (call id and leg), so that an event whose id is new
 * (most webhooks) costs a lookup of that short id and no JSON at all; events are compared by their
 * JSON only with events of the same id. Bounded like an LRU counted in events: two generations of
 * ids; when the young one has taken in half of `maxEvents`, the old one is dropped (one id keeps at
 * most half of them, its oldest forgotten first), so at most about twice `maxEvents` are held.
 */
export class DuplicateFilter {
  private young = new Map<string, Group>();
  private old = new Map<string, Group>();
  /** Events taken into `young`. */
  private youngEvents = 0;
  private readonly half: number;

  constructor(
    private readonly windowMs: number,
    maxEvents: number,
  ) {
    this.half = Math.max(1, Math.floor(maxEvents / 2));
  }

  /**
   * True when the same event (by value) was seen less than the window ago; otherwise records it as
   * seen now. The event is kept as it is until compared: it must not be changed afterwards (events
   * are values: the parser makes a new one for every webhook).
   */
  isDuplicate(event: CallEvent, now: number): boolean {
    const id = event.ref.raw;
    let group = this.young.get(id);
    if (group === undefined) {
      group = this.old.get(id);
      if (group === undefined) {
        this.young.set(id, [{ event, json: null, at: now }]);
        this.added(1);
        return false;
      }
      // Used again: the id and its events move to the young generation.
      this.old.delete(id);
      this.young.set(id, group);
      this.added(Array.isArray(group) ? group.length : group.size);
    }
    const json = JSON.stringify(event);
    const seen = Array.isArray(group) ? group.find((s) => jsonOf(s) === json) : group.get(json);
    if (seen) {
      if (now - seen.at < this.windowMs && now >= seen.at) return true;
      seen.at = now;
      return false;
    }
    const entry: Seen = { event: null, json, at: now };
    if (Array.isArray(group) && group.length < listMax) group.push(entry);
    else {
      let map: Map<string, Seen>;
      if (Array.isArray(group)) {
        map = new Map(group.map((s) => [jsonOf(s), s]));
        (this.young.get(id) === group ? this.young : this.old).set(id, map);
      } else map = group;
      map.set(json, entry);
      if (map.size > this.half) map.delete(map.keys().next().value!);
    }
    this.added(1);
    return false;
  }

  private added(events: number): void {
    this.youngEvents += events;
    if (this.youngEvents >= this.half) {
      this.old = this.young;
      this.young = new Map();
      this.youngEvents = 0;
    }
  }
}
