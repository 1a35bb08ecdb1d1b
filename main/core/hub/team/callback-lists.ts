// How the hub tells each extension about the callbacks it may see (issue #19), cheaply at 1,000
// members: a change sends every member a small change message (`ext/{ext}/callbacks/changes`, QoS 0,
// not retained: only the items that changed, chained by seq/prevSeq). The retained whole list
// (`ext/{ext}/callbacks`) is sent at once only where a client needs it (a sync, a membership change,
// start); for the rest it is kept up to date for later subscribers alone (Transport.keepRetained: the
// embedded broker stores it and sends it to nobody), once changes have been quiet for `listMs` (and at
// least every `listMaxLagMs` while they keep coming). Before, every change republished every member's
// whole list (~5 MB per claim in a queue of 1,000).
// Why not resent to the connected members: they hold every change already, and a republish is 1,000
// lists of up to a few hundred KB written to 1,000 sockets; a claim made meanwhile reached each member
// only behind its list (one connection, in order): with a 1-s throttle under a steady stream of
// changes, one claim in ten waited for a whole round (`callback-claim-roundtrip` p99 90–177 ms, p50
// 22 ms). Why after a lull: with an external broker (no publish that only stores) it is still an
// ordinary retained publish. The supervisors' single list of every item stays at most `listMs` behind
// (one message, not 1,000).
//
// Why this stays correct:
// - Each extension's list has a version: the seq of the last list or change message it was sent. A
//   change message says `prevSeq` (the version it applies to) and `seq` (the version it makes); a
//   client whose version is not `prevSeq` missed one and asks for a sync (a `sync` request), which
//   republishes that extension's whole list at once (at most once per SYNC_MIN_MS per extension).
// - A client sends one sync after every subscribe: a late joiner may get a retained list older than
//   the changes it subscribed after; the sync's list is built after its subscription holds.
// - A list goes out only when no change is pending (they run first). One sent to the clients sets the
//   version; one kept for later subscribers is made at the version its extension holds (no change for
//   it came after), so either way a list and the change messages after it chain.
// - Everything stays inside each extension's own topics (`ext/{ext}/…`): the broker's access rules
//   stay per extension, with no per-queue rule (learned members change at runtime).
// Each changed item is serialised once per change (not once per member); members that see the same
// changes at the same version share one message, one Buffer (a list of 130 items is ~30 KB: a copy per
// member was 30 MB per round to write and collect, and the major GCs it caused were the slowest claims).
import { HUB_PROTOCOL_VERSION } from '../../../../shared/hub-protocol';
import { CALLBACKS_MAX_ITEMS, teamTopics } from '../../../../shared/team-protocol';
import { publicItem, type CallbackBook, type StoredItem } from './callbacks';
import type { QueueDirectory } from './queues';

/** Quiet time after the last change before the stale retained lists are brought up to date; also the longest
 * the supervisors' list of every item lags. */
export const CALLBACK_LIST_MS = 1000;
/** Longest a member's retained list lags behind the change messages while changes keep coming. */
export const CALLBACK_LIST_MAX_LAG_MS = 30_000;
/** A sync request republishes one extension's list at most this often (a client may not flood the hub). */
export const SYNC_MIN_MS = 1000;
/**
 * A round of stale lists is paced: at most this many lists and bytes per step, a step every
 * FLUSH_STEP_MS. With an external broker they also reach every member that is connected (MQTT delivers
 * a retained message to current subscribers too): 1,000 lists of 500 items are 130 MB, and written at
 * once they held the claims made meanwhile behind them, on the hub and on every desktop.
 */
const LISTS_PER_STEP = 25;
const FLUSH_STEP_BYTES = 256 * 1024;
const FLUSH_STEP_MS = 10;

/** The changed items some members see, reached by adding one item at a time (shared by those members). */
interface Delta {
  items: string[];
  removed: string[];
  next: Map<string, Delta>;
  /** The change message from each version these members hold. */
  byPrev: Map<number, Buffer>;
}

export interface CallbackListsOptions {
  site: string;
  book: CallbackBook;
  queues: QueueDirectory;
  /** Publishes through the hub's broker; failures are the caller's to log. */
  publish: (topic: string, payload: string | Buffer, retain: boolean, qos: 0 | 1) => void;
  /** A retained message for later subscribers only (Transport.keepRetained); failures are the caller's to log. */
  keep: (topic: string, payload: Buffer) => void;
  listMs?: number;
  listMaxLagMs?: number;
  syncMinMs?: number;
}

export class CallbackLists {
  /** Each extension's list version (the seq of the last list or change message it was sent). */
  private readonly version = new Map<string, number>();
  /** Items changed since the last round (by id: an item dropped from the book is still here). */
  private readonly changed = new Map<string, StoredItem>();
  /** Extensions to send the whole list in the next round (new, membership changed, sync). */
  private readonly whole = new Set<string>();
  /** Extensions whose retained list is behind their version. */
  private readonly stale = new Set<string>();
  private allStale = false;
  private roundScheduled = false;
  private listTimer: NodeJS.Timeout | null = null;
  /** When the oldest stale list (not yet being flushed) went stale. */
  private staleSince = 0;
  private allTimer: NodeJS.Timeout | null = null;
  private allSentAt = 0;
  /** A flush of stale lists under way, a chunk per turn. */
  private flushing: string[] | null = null;
  private readonly syncedAt = new Map<string, number>();
  private readonly syncTimers = new Map<string, NodeJS.Timeout>();
  private readonly itemJson = new WeakMap<StoredItem, { stamp: string; json: string }>();
  private closed = false;
  private readonly listMs: number;
  private readonly listMaxLagMs: number;
  private readonly syncMinMs: number;

  constructor(private readonly o: CallbackListsOptions) {
    this.listMs = o.listMs ?? CALLBACK_LIST_MS;
    this.listMaxLagMs = Math.max(this.listMs, o.listMaxLagMs ?? CALLBACK_LIST_MAX_LAG_MS);
    this.syncMinMs = o.syncMinMs ?? SYNC_MIN_MS;
  }

  /** Items that changed (made, changed or dropped): their members get a change message. */
  itemsChanged(items: readonly StoredItem[]): void {
    for (const i of items) this.changed.set(i.id, i);
    this.schedule();
  }

  /** Extensions whose set of visible items changed without an item changing (membership). */
  extensionsChanged(exts: Iterable<string>): void {
    let any = false;
    for (const e of exts) {
      this.whole.add(e);
      any = true;
    }
    if (!any) return;
    this.o.book.touch();
    this.schedule();
  }

  /** Every list again (start, broker reconnect, agents or queues changed, midnight). */
  republishAll(extra: readonly StoredItem[] = []): void {
    const exts = new Set(this.version.keys());
    for (const i of [...this.o.book.list(), ...extra]) for (const e of this.membersOf(i)) exts.add(e);
    this.extensionsChanged(exts);
    this.allStale = true;
    this.scheduleLists(true);
  }

  /** A client of `ext` asked for its whole list (a gap, or it just subscribed). */
  sync(ext: string): void {
    if (this.closed || this.syncTimers.has(ext)) return;
    const wait = (this.syncedAt.get(ext) ?? -Infinity) + this.syncMinMs - Date.now();
    const go = (): void => {
      this.syncTimers.delete(ext);
      this.syncedAt.set(ext, Date.now());
      this.whole.add(ext);
      this.schedule();
    };
    if (wait <= 0) go();
    else this.syncTimers.set(ext, setTimeout(go, wait));
  }

  close(): void {
    this.closed = true;
    if (this.listTimer) clearTimeout(this.listTimer);
    if (this.allTimer) clearTimeout(this.allTimer);
    for (const t of this.syncTimers.values()) clearTimeout(t);
    this.syncTimers.clear();
  }

  private membersOf(i: StoredItem): Iterable<string> {
    if (i.queue !== undefined) return this.o.queues.members(i.queue);
    return i.ext ? [i.ext] : [];
  }

  private jsonOf(item: StoredItem): string {
    const stamp = JSON.stringify([item.state, item.attempts, item.claimedBy, item.doneBy, item.lastMissedAt, item.note]);
    const cached = this.itemJson.get(item);
    if (cached && cached.stamp === stamp) return cached.json;
    const json = JSON.stringify(publicItem(item));
    this.itemJson.set(item, { stamp, json });
    return json;
  }

  private schedule(): void {
    if (this.roundScheduled || this.closed) return;
    this.roundScheduled = true;
    setImmediate(() => this.round());
  }

  /** Sends what is pending: change messages, then whole lists; marks the retained lists stale. */
  private round(): void {
    this.roundScheduled = false;
    if (this.closed) return;
    const seq = this.o.book.seq;
    const { site } = this.o;
    // Change messages: per extension, the changed items it sees (each item's JSON made once).
    if (this.changed.size > 0) {
      // Members that see the same changed items share one delta (and one message per version): a change
      // in a queue of 1,000 costs a few map lookups per member, not strings and arrays of its own.
      const root: Delta = { items: [], removed: [], next: new Map(), byPrev: new Map() };
      const perExt = new Map<string, Delta>();
      for (const item of this.changed.values()) {
        const gone = this.o.book.get(item.id) !== item;
        const json = gone ? '' : this.jsonOf(item);
        for (const e of this.membersOf(item)) {
          const d = perExt.get(e) ?? root;
          let n = d.next.get(item.id);
          if (!n) d.next.set(item.id, (n = { items: gone ? d.items : [...d.items, json], removed: gone ? [...d.removed, item.id] : d.removed, next: new Map(), byPrev: new Map() }));
          perExt.set(e, n);
        }
      }
      this.changed.clear();
      for (const [e, d] of perExt) {
        const prev = this.version.get(e);
        // An extension with no list yet (or due one anyway) gets the whole list below.
        if (prev === undefined || this.whole.has(e)) {
          this.whole.add(e);
          continue;
        }
        let message = d.byPrev.get(prev);
        if (message === undefined) {
          const removed = d.removed.length > 0 ? `,"removed":${JSON.stringify(d.removed)}` : '';
          message = Buffer.from(`{"v":${HUB_PROTOCOL_VERSION},"seq":${seq},"prevSeq":${prev},"items":[${d.items.join(',')}]${removed}}`);
          d.byPrev.set(prev, message);
        }
        this.o.publish(teamTopics.callbacksChanges(site, e), message, false, 0);
        this.version.set(e, seq);
        this.stale.add(e);
      }
      this.allStale = true;
      this.scheduleLists(false);
    }
    if (this.whole.size > 0) {
      const exts = [...this.whole];
      this.whole.clear();
      this.publishLists(exts);
    }
  }

  /** Each extension's whole list now (retained, to its clients too), with the current seq as its version. */
  private publishLists(exts: readonly string[]): void {
    const seq = this.o.book.seq;
    this.makeLists(exts, () => seq, Infinity, (e, message) => {
      this.o.publish(teamTopics.callbacks(this.o.site, e), message, true, 1);
      this.version.set(e, seq);
      this.stale.delete(e);
    });
  }

  /**
   * Stale retained lists brought up to date for later subscribers only (Transport.keepRetained): the
   * connected clients hold these items already, by the change messages. Each list is made at the version
   * its extension holds (no change for it came after), so the change messages after it chain for a
   * client that starts from it. Stops after `maxBytes` (at least one list); returns how many were kept.
   */
  private keepLists(exts: readonly string[], maxBytes: number): number {
    return this.makeLists(exts, (e) => this.version.get(e) ?? this.o.book.seq, maxBytes, (e, message) => {
      this.o.keep(teamTopics.callbacks(this.o.site, e), message);
      this.stale.delete(e);
    });
  }

  /** Each extension's whole list at `seqOf(e)`, to `send`; stops after `maxBytes` (at least one list). Returns how many were made. */
  private makeLists(exts: readonly string[], seqOf: (ext: string) => number, maxBytes: number, send: (ext: string, message: Buffer) => void): number {
    const all = this.o.book.list();
    const queuesWithItems = new Set<string>();
    const directOf = new Set<string>();
    for (const i of all) {
      if (i.queue !== undefined) queuesWithItems.add(i.queue);
      else if (i.ext) directOf.add(i.ext);
    }
    // Extensions that see the same queues (and no direct item) at the same version get the same list: made once.
    const byScope = new Map<string, Buffer>();
    let bytes = 0;
    for (let n = 0; n < exts.length; n++) {
      const e = exts[n]!;
      const seq = seqOf(e);
      const queues = [...queuesWithItems].filter((q) => this.o.queues.isMember(q, e));
      const scope = `${seq}|${queues.join(',')}|${directOf.has(e) ? e : ''}`;
      let message = byScope.get(scope);
      if (message === undefined) {
        const qs = new Set(queues);
        const visible = all.filter((i) => (i.queue !== undefined ? qs.has(i.queue) : i.ext === e));
        byScope.set(scope, (message = Buffer.from(this.listMessage(visible, seq))));
      }
      send(e, message);
      bytes += message.length;
      if (bytes >= maxBytes) return n + 1;
    }
    return exts.length;
  }

  private listMessage(items: readonly StoredItem[], seq: number): string {
    return `{"v":${HUB_PROTOCOL_VERSION},"seq":${seq},"items":[${items
      .slice(0, CALLBACKS_MAX_ITEMS)
      .map((i) => this.jsonOf(i))
      .join(',')}]}`;
  }

  /** The stale retained lists once changes are quiet (or at once); the supervisors' list at most every listMs. */
  private scheduleLists(now: boolean): void {
    if (this.closed) return;
    if (now) {
      if (this.listTimer) clearTimeout(this.listTimer);
      this.listTimer = null;
      setImmediate(() => this.flushLists());
      return;
    }
    if (this.allStale && !this.allTimer) {
      this.allTimer = setTimeout(() => {
        this.allTimer = null;
        this.publishAll();
      }, Math.max(0, this.listMs - (Date.now() - this.allSentAt)));
    }
    // A flush under way reschedules what is left (and what went stale meanwhile) when it ends.
    if (this.flushing || this.stale.size === 0) return;
    const t = Date.now();
    if (this.listTimer) clearTimeout(this.listTimer);
    else this.staleSince = t;
    this.listTimer = setTimeout(() => {
      this.listTimer = null;
      this.flushLists();
    }, Math.max(0, Math.min(this.listMs, this.staleSince + this.listMaxLagMs - t)));
  }

  private publishAll(): void {
    if (this.closed || !this.allStale) return;
    this.allStale = false;
    this.allSentAt = Date.now();
    this.o.publish(teamTopics.allCallbacks(this.o.site), this.listMessage(this.o.book.list(), this.o.book.seq), true, 1);
  }

  private flushLists(): void {
    if (this.closed) return;
    if (!this.flushing) {
      this.flushing = [...this.stale];
      if (this.allStale) {
        if (this.allTimer) clearTimeout(this.allTimer);
        this.allTimer = null;
        this.publishAll();
      }
    }
    // A step at a time; changes made meanwhile go out first (a list must not get ahead of its version).
    if (this.roundScheduled) this.round();
    // Lists sent meanwhile (a sync, a membership change) are no longer stale: skipped.
    this.flushing = this.flushing.filter((e) => this.stale.has(e));
    this.flushing.splice(0, this.keepLists(this.flushing.slice(0, LISTS_PER_STEP), FLUSH_STEP_BYTES));
    if (this.flushing.length > 0) {
      setTimeout(() => this.flushLists(), FLUSH_STEP_MS);
      return;
    }
    this.flushing = null;
    if (this.stale.size > 0 || this.allStale) this.scheduleLists(false);
  }
}
