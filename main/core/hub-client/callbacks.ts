// A desktop's view of the hub's shared callbacks (issue #19): the list of items its extension may see,
// kept from the retained whole list (`…/ext/{ext}/callbacks`) and the change messages after it
// (`…/callbacks/changes`, chained by seq/prevSeq), and its requests (claim / release / done / sync)
// answered on `…/ext/{ext}/callbacks/res/{clientId}`. Part of HubClient's connection (same client,
// same topics tree); HubClient hands it the messages on those topics and a way to publish.
//
// Why the seq rules: change messages are QoS 0 and the retained list lags them by up to a second
// (main/core/hub/callback-lists.ts), so a message may be missed and a list may be older than what we
// hold. A change that does not follow our version is a gap: it waits, and we ask for a sync (the hub
// republishes our whole list), asking again while the gap lasts; a list older than our version is
// ignored. After every subscribe we ask for a sync too, and take the first list whatever its seq (the
// hub may have been reset), so a late joiner never misses a change made before its subscription.
import { randomBytes } from 'node:crypto';
import { HUB_PROTOCOL_VERSION, decodePayload } from '../../../shared/hub-protocol';
import {
  CALLBACKS_MAX_ITEMS,
  callbackChangesMessageSchema,
  callbackResponseSchema,
  callbacksMessageSchema,
  compareCallbackItems,
  parseTeamTopic,
  teamTopics,
  type CallbackAction,
  type CallbackChangesMessage,
  type CallbackItem,
  type CallbackRequest,
} from '../../../shared/team-protocol';

export type CallbackActionResult = { ok: true } | { ok: false; error: string };

/** How long a request waits for the hub's answer. */
const ANSWER_MS = 10_000;
/** While behind (a gap), a sync is asked again this often. */
const RESYNC_MS = 3000;
/** Change messages kept while waiting for a list (beyond, the oldest go: the list brings them). */
const PENDING_MAX = 200;

export class HubCallbacks {
  private readonly byId = new Map<string, CallbackItem>();
  private items: CallbackItem[] = [];
  /** The version of our list (null: none yet). */
  private seq: number | null = null;
  /** The next list is taken whatever its seq (after a subscribe). */
  private acceptAnyList = true;
  /** Change messages ahead of our version (a gap), waiting for a list that reaches them. */
  private pending: CallbackChangesMessage[] = [];
  private resyncTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(items: CallbackItem[]) => void>();
  private readonly waiting = new Map<string, (r: CallbackActionResult) => void>();

  constructor(
    private readonly site: string,
    private readonly extension: string,
    private readonly clientId: string,
    /** Publishes through the hub connection; rejects when not connected. */
    private readonly publish: (topic: string, payload: string) => Promise<void>,
  ) {}

  /**
   * What HubClient subscribes to for this, with QoS: change messages are QoS 0 (a lost one is a gap the
   * seq shows; on a NATS cluster each QoS-1 subscription is a JetStream consumer).
   */
  subscriptions(): Record<string, { qos: 0 | 1 }> {
    return {
      [teamTopics.callbacks(this.site, this.extension)]: { qos: 1 },
      [teamTopics.callbacksChanges(this.site, this.extension)]: { qos: 0 },
      [teamTopics.callbacksResponse(this.site, this.extension, this.clientId)]: { qos: 1 },
    };
  }

  /** The subscriptions hold (after every connect): ask for the whole list, built after them. */
  subscribed(): void {
    this.acceptAnyList = true;
    this.pending = [];
    this.sendSync();
  }

  /** A message from the hub; true when it was on a callbacks topic (handled or ignored as malformed). */
  handle(topic: string, payload: Buffer, bad: (error: string) => void): boolean {
    const t = parseTeamTopic(topic);
    if (!t || t.site !== this.site || !('ext' in t) || t.ext !== this.extension) return false;
    if (t.kind === 'callbacks') this.onList(payload, bad);
    else if (t.kind === 'callbacksChanges') this.onChanges(payload, bad);
    else if (t.kind === 'callbacksResponse' && t.clientId === this.clientId) {
      const m = decodePayload(callbackResponseSchema, payload);
      if (!m.ok) return (bad(m.error), true);
      const resolve = this.waiting.get(m.value.requestId);
      this.waiting.delete(m.value.requestId);
      resolve?.(m.value.ok ? { ok: true } : { ok: false, error: m.value.error ?? 'The hub refused it.' });
    }
    return true;
  }

  private onList(payload: Buffer, bad: (error: string) => void): void {
    // A list we already hold (every change message reached us) is skipped unparsed: the hub writes
    // `{"v":1,"seq":N,` first. Anything else is parsed and checked.
    const head = /^\{"v":\d+,"seq":(\d+),/.exec(payload.subarray(0, 48).toString('latin1'));
    if (head && !this.acceptAnyList && this.pending.length === 0 && this.seq !== null && Number(head[1]) <= this.seq) return;
    const m = decodePayload(callbacksMessageSchema, payload);
    if (!m.ok) return bad(m.error);
    if (!this.acceptAnyList && this.seq !== null && m.value.seq < this.seq) return; // older than what we hold
    this.acceptAnyList = false;
    this.byId.clear();
    for (const i of m.value.items) this.byId.set(i.id, i);
    this.seq = m.value.seq;
    this.drain();
    this.emit();
  }

  private onChanges(payload: Buffer, bad: (error: string) => void): void {
    const m = decodePayload(callbackChangesMessageSchema, payload);
    if (!m.ok) return bad(m.error);
    const c = m.value;
    if (this.seq !== null && c.seq <= this.seq) return; // already in our list
    if (this.seq !== null && c.prevSeq === this.seq && this.pending.length === 0) {
      this.apply(c);
      this.emit();
      return;
    }
    // A gap (or no list yet): keep it for when a list reaches it, and ask for one.
    this.pending.push(c);
    if (this.pending.length > PENDING_MAX) this.pending.shift();
    if (this.drain()) this.emit();
    if (this.pending.length > 0) this.behind();
  }

  private apply(c: CallbackChangesMessage): void {
    for (const i of c.items) this.byId.set(i.id, i);
    for (const id of c.removed ?? []) this.byId.delete(id);
    this.seq = c.seq;
  }

  /** Applies the waiting change messages that follow our version; true when one was applied. */
  private drain(): boolean {
    if (this.seq === null) return false;
    let applied = false;
    this.pending.sort((a, b) => a.prevSeq - b.prevSeq);
    for (;;) {
      this.pending = this.pending.filter((c) => c.seq > this.seq!);
      const next = this.pending.find((c) => c.prevSeq === this.seq);
      if (!next) break;
      this.apply(next);
      applied = true;
    }
    if (this.pending.length === 0) this.caughtUp();
    return applied;
  }

  private behind(): void {
    if (this.resyncTimer) return;
    this.sendSync();
    this.resyncTimer = setInterval(() => (this.pending.length > 0 ? this.sendSync() : this.caughtUp()), RESYNC_MS);
    this.resyncTimer.unref();
  }

  private caughtUp(): void {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = null;
  }

  private sendSync(): void {
    const request: CallbackRequest = { v: HUB_PROTOCOL_VERSION, clientId: this.clientId, requestId: randomBytes(8).toString('hex'), action: 'sync' };
    // Not answered in words: the list is the answer; offline, the next subscribe asks again.
    this.publish(teamTopics.callbacksRequest(this.site, this.extension), JSON.stringify(request)).catch(() => {});
  }

  private emit(): void {
    this.items = [...this.byId.values()].sort(compareCallbackItems).slice(0, CALLBACKS_MAX_ITEMS);
    for (const fn of this.listeners) fn(this.items);
  }

  list(): CallbackItem[] {
    return this.items;
  }

  onChange(fn: (items: CallbackItem[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The open or claimed item for a caller's number in a queue (a missed card shows who is calling back). */
  find(id: string): CallbackItem | undefined {
    return this.byId.get(id);
  }

  act(id: string, action: CallbackAction, note?: string): Promise<CallbackActionResult> {
    const request: CallbackRequest = { v: HUB_PROTOCOL_VERSION, clientId: this.clientId, requestId: randomBytes(8).toString('hex'), id, action, ...(note ? { note } : {}) };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(request.requestId);
        resolve({ ok: false, error: 'The hub did not answer; try again.' });
      }, ANSWER_MS);
      timer.unref();
      this.waiting.set(request.requestId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.publish(teamTopics.callbacksRequest(this.site, this.extension), JSON.stringify(request)).catch((e: unknown) => {
        clearTimeout(timer);
        this.waiting.delete(request.requestId);
        resolve({ ok: false, error: `Not connected to the hub (${(e as Error).message}).` });
      });
    });
  }

  close(): void {
    this.caughtUp();
    for (const resolve of this.waiting.values()) resolve({ ok: false, error: 'Disconnected from the hub.' });
    this.waiting.clear();
  }
}
