// Shared callbacks: every missed incoming call becomes one item to call back, for its queue (or, for
// a direct call, for that extension alone), so a missed caller is called back once, by someone.
// This file holds the rules and the durable store (callbacks.json in the hub's data folder, rewritten
// whole, fsync'ed; every change resolves only once it is on disk, so a request is answered "ok" and a
// webhook acknowledged only after the item it made or changed is durable).
//
// Rules (issue #19):
// - One open item per caller number and queue: another miss adds an attempt to the same item (the
//   legs of one queue call that rang several members are one attempt: counted by call id).
// - claim / release / done (with an optional note), by a member; a claim of an item someone else holds
//   fails with who holds it.
// - Done by itself when any extension's outgoing call to the number is answered ("called-back"), or
//   the caller calls again and is answered ("called-again"). A missed leg of a queue call that another
//   member then answered is not a missed call: its attempt is taken back (and the item dropped when it
//   was its only one and nobody had claimed it).
// - Numbers match in any format, with the call log's number search key (shared/phone.ts).
// - Done items stay until the end of the hub's local day they were done on (the hub machine's time
//   zone), then leave the lists; open and claimed items stay until done.
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { CallRecord } from '../../../../shared/call-record';
import { numberMatchKey } from '../../../../shared/phone';
import { isTestCallId } from '../../../../shared/test-call-id';
import { callbackItemSchema, compareCallbackItems, type CallbackAction, type CallbackItem } from '../../../../shared/team-protocol';
import { readJsonFile, writeJsonFile } from '../../json-file';

export const callbacksFileName = 'callbacks.json';
/** Call ids remembered per item (to count one queue call's legs as one attempt, and take it back). */
const CALL_IDS_KEPT = 16;
/** Open and claimed items kept at most; beyond, the oldest open one is dropped with a log line. */
export const MAX_OPEN_ITEMS = 10_000;
/**
 * How far each open skips past the seq in the file: changes are published before they are written, so
 * a crash may lose seqs clients have already seen; a new change must never reuse one (as the hub log).
 * And never below the clock in ms: a book started afresh (its file moved away) counts above what clients
 * that stayed connected to an external broker hold (unless the hub restarted several times within
 * minutes before), so they take its lists.
 */
const SEQ_SKIP_AT_OPEN = 1_000_000;

const storedItemSchema = callbackItemSchema.extend({
  /** The number's match key (shared/phone.ts numberMatchKey). */
  key: z.string().max(256),
  callIds: z.array(z.string().max(64)).max(CALL_IDS_KEPT),
});
export type StoredItem = z.infer<typeof storedItemSchema>;
const fileSchema = z.object({ callpop: z.literal('hub-callbacks'), version: z.literal(1), seq: z.number().int().nonnegative(), items: z.array(storedItemSchema) });

export interface Actor {
  ext: string;
  name: string;
}

export type ActionResult = { ok: true; item: StoredItem } | { ok: false; error: string };

/** The local day (hub's time zone) that `ms` falls in, as its midnight in ms. */
export function localDayStart(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

const scopeOf = (i: Pick<StoredItem, 'queue' | 'ext'>): string => (i.queue !== undefined ? `q:${i.queue}` : `x:${i.ext ?? ''}`);
const answered = (r: CallRecord): boolean => r.status === 'talking' || (r.status === 'ended' && r.result === 'answered');
const time = (ms: number): string => new Date(ms).toISOString();
const clock = (iso: string): string => iso.slice(11, 16);

export class CallbackBook {
  private readonly items = new Map<string, StoredItem>();
  /** scope + number key → id of its open or claimed item (in the order they were made). */
  private readonly openByScopeKey = new Map<string, string>();
  /** number key → every item of that number (any scope or state): a miss or an answer looks at these, not at every item. */
  private readonly byKey = new Map<string, Set<StoredItem>>();
  private seqNo = 0;
  /** Calls answered lately: a leg of one of them that ends "missed" afterwards is no missed call. */
  private readonly answeredIds = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private writeQueued: Promise<void> | null = null;
  /** Done items of an earlier day dropped when the book was opened (their lists need republishing). */
  purgedAtOpen: StoredItem[] = [];

  private constructor(
    private readonly path: string,
    private readonly now: () => number,
    private readonly onError: (message: string) => void,
  ) {}

  static async open(dataDir: string, o: { now?: () => number; onError?: (message: string) => void } = {}): Promise<CallbackBook> {
    const book = new CallbackBook(join(dataDir, callbacksFileName), o.now ?? Date.now, o.onError ?? (() => {}));
    const json = await readJsonFile(book.path, null);
    if (json !== null) {
      const parsed = fileSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(`${book.path}: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'} (move it away to start with no callbacks)`);
      }
      book.seqNo = parsed.data.seq + SEQ_SKIP_AT_OPEN;
      for (const item of parsed.data.items) book.put(item);
    }
    book.seqNo = Math.max(book.seqNo, Math.floor(book.now()));
    book.purgedAtOpen = book.purgeDone();
    return book;
  }

  get seq(): number {
    return this.seqNo;
  }

  get size(): number {
    return this.items.size;
  }

  get(id: string): StoredItem | undefined {
    return this.items.get(id);
  }

  /** Every item, open and claimed first, then done; newest miss first within each. */
  list(): StoredItem[] {
    return [...this.items.values()].sort(compareCallbackItems);
  }

  /** A new seq for a change of who sees what (no item changed, nothing to write). */
  touch(): number {
    return ++this.seqNo;
  }

  private put(item: StoredItem): void {
    this.items.set(item.id, item);
    if (item.state !== 'done') this.openByScopeKey.set(`${scopeOf(item)}|${item.key}`, item.id);
    let same = this.byKey.get(item.key);
    if (!same) this.byKey.set(item.key, (same = new Set()));
    same.add(item);
  }

  private drop(item: StoredItem): void {
    this.items.delete(item.id);
    const same = this.byKey.get(item.key);
    same?.delete(item);
    if (same?.size === 0) this.byKey.delete(item.key);
    const k = `${scopeOf(item)}|${item.key}`;
    if (this.openByScopeKey.get(k) === item.id) this.openByScopeKey.delete(k);
  }

  private finish(item: StoredItem, by: Actor, how: 'called-back' | 'called-again' | 'marked', note?: string): void {
    const k = `${scopeOf(item)}|${item.key}`;
    if (this.openByScopeKey.get(k) === item.id) this.openByScopeKey.delete(k);
    item.state = 'done';
    item.doneBy = { ext: by.ext, name: by.name, at: time(this.now()), how };
    if (note !== undefined && note.trim() !== '') item.note = note.trim().slice(0, 500);
  }

  /** Drops done items of an earlier local day; returns them. */
  purgeDone(): StoredItem[] {
    const today = localDayStart(this.now());
    const gone: StoredItem[] = [];
    for (const item of [...this.items.values()]) {
      if (item.state === 'done' && Date.parse(item.doneBy?.at ?? item.firstMissedAt) < today) {
        this.drop(item);
        gone.push(item);
      }
    }
    return gone;
  }

  /**
   * Applies call record changes (the hub's, as the tracker makes them). Returns the items that
   * changed (their scopes' lists need publishing), and `nameOf` names the extension that acted.
   */
  apply(records: readonly CallRecord[], nameOf: (ext: string) => string): StoredItem[] {
    const changed = new Map<string, StoredItem>();
    for (const r of records) {
      if (isTestCallId(r.id) || r.number === '') continue;
      const key = numberMatchKey(r.number, '');
      if (key === '') continue;
      if (r.direction === 'incoming' && r.status === 'ended' && r.result === 'missed') {
        const item = this.miss(r, key);
        if (item) changed.set(item.id, item);
      } else if (answered(r)) {
        if (this.answeredIds.size >= 10_000) this.answeredIds.clear();
        this.answeredIds.add(r.id);
        for (const item of [...(this.byKey.get(key) ?? [])]) {
          if (item.callIds.includes(r.id)) {
            // A member answered the queue call one of whose legs was counted missed: not a missed call.
            if (item.state === 'done') continue;
            item.callIds = item.callIds.filter((id) => id !== r.id);
            item.attempts--;
            if (item.attempts <= 0 && item.state === 'open') this.drop(item);
            item.attempts = Math.max(1, item.attempts);
            changed.set(item.id, item);
          } else if (item.state !== 'done' && Date.parse(r.startedAt) >= Date.parse(item.firstMissedAt)) {
            this.finish(item, { ext: r.extension, name: nameOf(r.extension) }, r.direction === 'outgoing' ? 'called-back' : 'called-again');
            changed.set(item.id, item);
          }
        }
      }
    }
    return [...changed.values()];
  }

  private miss(r: CallRecord, key: string): StoredItem | null {
    if (this.answeredIds.has(r.id)) return null;
    const scope = r.queue ? { queue: r.queue } : { ext: r.extension };
    const k = `${scopeOf(scope)}|${key}`;
    const openId = this.openByScopeKey.get(k);
    const at = r.endedAt ?? r.startedAt;
    if (openId !== undefined) {
      const item = this.items.get(openId)!;
      if (item.callIds.includes(r.id)) return null; // another leg of the same queue call
      item.attempts++;
      item.lastMissedAt = at;
      item.callIds = [...item.callIds, r.id].slice(-CALL_IDS_KEPT);
      return item;
    }
    // A leg of a call already counted in an item that is now done (claimed and called back meanwhile):
    // not a new miss.
    for (const item of this.byKey.get(key) ?? []) if (item.callIds.includes(r.id)) return null;
    if (this.openByScopeKey.size >= MAX_OPEN_ITEMS) this.dropOldestOpen();
    const item: StoredItem = {
      id: `${Date.now().toString(36)}${randomBytes(6).toString('base64url')}`,
      number: r.number.slice(0, 256),
      ...scope,
      firstMissedAt: at,
      attempts: 1,
      state: 'open',
      key,
      callIds: [r.id],
    };
    this.put(item);
    return item;
  }

  /** The first made of the open items (not claimed): they are made as calls are missed, so the oldest miss. */
  private dropOldestOpen(): void {
    for (const id of this.openByScopeKey.values()) {
      const item = this.items.get(id);
      if (item?.state !== 'open') continue;
      this.onError(`Callbacks: more than ${MAX_OPEN_ITEMS} open; dropped the oldest (${item.number}, missed ${item.firstMissedAt})`);
      this.drop(item);
      return;
    }
  }

  /** An agent's request on an item it may see (the caller checks that). */
  act(id: string, action: CallbackAction, by: Actor, note?: string): ActionResult {
    const item = this.items.get(id);
    if (!item) return { ok: false, error: 'No such callback (it may have been done yesterday or removed).' };
    if (item.state === 'done') {
      if (action === 'done' && item.doneBy?.ext === by.ext) return { ok: true, item };
      return { ok: false, error: `Already done by ${item.doneBy?.name ?? '?'} (${item.doneBy?.ext ?? '?'}) at ${clock(item.doneBy?.at ?? '')} UTC.` };
    }
    const holder = item.claimedBy;
    if (action === 'claim') {
      if (holder && holder.ext !== by.ext) return { ok: false, error: `${holder.name} (${holder.ext}) is calling back since ${clock(holder.at)} UTC.` };
      if (!holder) {
        item.state = 'claimed';
        item.claimedBy = { ext: by.ext, name: by.name, at: time(this.now()) };
      }
      return { ok: true, item };
    }
    if (action === 'release') {
      if (!holder) return { ok: true, item };
      if (holder.ext !== by.ext) return { ok: false, error: `Only ${holder.name} (${holder.ext}), who claimed it, can release it.` };
      item.state = 'open';
      delete item.claimedBy;
      return { ok: true, item };
    }
    this.finish(item, by, 'marked', note);
    return { ok: true, item };
  }

  /**
   * Writes the book (after every change made so far); resolves once it is on disk. Writes are
   * serialised and coalesced: changes made while one is being written go out together in the next.
   */
  save(): Promise<void> {
    this.seqNo++;
    if (this.writeQueued) return this.writeQueued;
    const next = this.writing.catch(() => {}).then(() => {
      this.writeQueued = null;
      return writeJsonFile(this.path, { callpop: 'hub-callbacks', version: 1, seq: this.seqNo, items: [...this.items.values()] });
    });
    this.writeQueued = next;
    this.writing = next;
    next.catch((e: unknown) => this.onError(`Callbacks not saved: ${(e as Error).message}`));
    return next;
  }

  flush(): Promise<void> {
    return this.writing.catch(() => {});
  }
}

/** The item as published (no internal fields). */
export function publicItem(i: StoredItem): CallbackItem {
  const { key: _key, callIds: _callIds, ...rest } = i;
  return rest;
}
