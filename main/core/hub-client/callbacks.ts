// A desktop's view of the hub's shared callbacks (issue #19): the retained list of items its
// extension may see (`…/ext/{ext}/callbacks`) and its requests (claim / release / done) answered on
// `…/ext/{ext}/callbacks/res/{clientId}`. Part of HubClient's connection (same client, same topics
// tree); HubClient hands it the messages on those topics and a way to publish.
import { randomBytes } from 'node:crypto';
import { HUB_PROTOCOL_VERSION, decodePayload } from '../../../shared/hub-protocol';
import { callbackResponseSchema, callbacksMessageSchema, parseTeamTopic, teamTopics, type CallbackAction, type CallbackItem, type CallbackRequest } from '../../../shared/team-protocol';

export type CallbackActionResult = { ok: true } | { ok: false; error: string };

/** How long a request waits for the hub's answer. */
const ANSWER_MS = 10_000;

export class HubCallbacks {
  private items: CallbackItem[] = [];
  private readonly listeners = new Set<(items: CallbackItem[]) => void>();
  private readonly waiting = new Map<string, (r: CallbackActionResult) => void>();

  constructor(
    private readonly site: string,
    private readonly extension: string,
    private readonly clientId: string,
    /** Publishes through the hub connection; rejects when not connected. */
    private readonly publish: (topic: string, payload: string) => Promise<void>,
  ) {}

  /** What HubClient subscribes to for this. */
  topics(): string[] {
    return [teamTopics.callbacks(this.site, this.extension), teamTopics.callbacksResponse(this.site, this.extension, this.clientId)];
  }

  /** A message from the hub; true when it was on a callbacks topic (handled or ignored as malformed). */
  handle(topic: string, payload: Buffer, bad: (error: string) => void): boolean {
    const t = parseTeamTopic(topic);
    if (!t || t.site !== this.site || !('ext' in t) || t.ext !== this.extension) return false;
    if (t.kind === 'callbacks') {
      const m = decodePayload(callbacksMessageSchema, payload);
      if (!m.ok) return (bad(m.error), true);
      this.items = m.value.items;
      for (const fn of this.listeners) fn(this.items);
    } else if (t.kind === 'callbacksResponse' && t.clientId === this.clientId) {
      const m = decodePayload(callbackResponseSchema, payload);
      if (!m.ok) return (bad(m.error), true);
      const resolve = this.waiting.get(m.value.requestId);
      this.waiting.delete(m.value.requestId);
      resolve?.(m.value.ok ? { ok: true } : { ok: false, error: m.value.error ?? 'The hub refused it.' });
    }
    return true;
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
    return this.items.find((i) => i.id === id);
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
    for (const resolve of this.waiting.values()) resolve({ ok: false, error: 'Disconnected from the hub.' });
    this.waiting.clear();
  }
}
