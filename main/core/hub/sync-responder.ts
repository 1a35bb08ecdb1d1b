// The hub's answers to clients' sync requests ("every record of extension E changed after seq S"),
// with the limits that keep one agent from taking the hub's memory and CPU:
//
//   - the client id in a request must be the publishing connection's own (where the broker says who
//     published: the embedded one); else it is ignored with a log line. Before, each request could
//     name a new client id, and 100 requests/s for an extension of 10,000 records took the hub from
//     197 MB to 4.47 GB;
//   - one answer in flight per client; a request arriving meanwhile waits (only the latest one);
//   - a hub-wide budget of bytes published and not yet written out by the broker: a chunk is built
//     only when the answers in flight are under it, so answers to many clients share it in turn;
//   - retained sync requests (a broker whose ACL cannot forbid the retain flag: Mosquitto, NATS) are
//     never answered, and cleared, so one is not answered again at every hub restart;
//   - an answer stops when its client is gone;
//   - an answer stops when the broker does not confirm a chunk within confirmMs: a NATS node whose
//     stream lost its leader never confirms some messages at all, and waiting for ever held every
//     later answer to that client back (it asks again after its own timeout).
import { SYNC_CHUNK, SYNC_MAX_RECORDS, HUB_PROTOCOL_VERSION, decodePayload, parseTopic, syncRequestSchema, topics, type SyncRequest, type SyncResponse } from '../../../shared/hub-protocol';
import type { Logger } from '../../../shared/diagnostics-log';
import type { CallRecord } from '../../../shared/call-record';
import { RateLimitedLog } from '../rate-limited-log';

export interface SyncSource {
  since(ext: string, cursor: number, max: number): { records: { seq: number; record: CallRecord }[]; more: boolean };
  readonly head: number;
}

export interface SyncResponderOptions {
  site: string;
  log: SyncSource;
  /** QoS 1 publish; resolves once the broker has handed the message on. */
  publish(topic: string, payload: string, retain: boolean): Promise<void>;
  logger: Logger;
  /** Bytes of answers published and not yet handed on, hub-wide (default 8 MiB). */
  budgetBytes?: number;
  /** How long a chunk waits for the broker's confirmation before the answer is given up (default CONFIRM_MS). */
  confirmMs?: number;
}

/** A chunk the broker has not confirmed within this long ends its answer (the client asks again). */
export const CONFIRM_MS = 5000;
/** Clients (by client id) with an answer running or waiting, at most; beyond, requests are dropped (external brokers only). */
const maxClients = 10_000;

interface ClientState {
  running: boolean;
  /** The latest request that arrived while an answer was running. */
  waiting: { ext: string; request: SyncRequest } | null;
  gone: boolean;
}

export class SyncResponder {
  private readonly clients = new Map<string, ClientState>();
  private readonly bad: RateLimitedLog;
  private readonly budget: number;
  private inFlight = 0;
  private readonly budgetWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly o: SyncResponderOptions) {
    this.bad = new RateLimitedLog(o.logger, 'sync requests ignored');
    this.budget = o.budgetBytes ?? 8 * 1024 * 1024;
  }

  /**
   * A message a client published. `publisher`: the publishing connection's client id when the broker
   * tells it (embedded), else null.
   */
  onPublish(topic: string, payload: Buffer, publisher: string | null, retain: boolean): void {
    const t = parseTopic(topic);
    if (!t || t.site !== this.o.site || t.kind !== 'syncRequest') return;
    if (retain) {
      // A retained request would be answered again at every restart: clear it (an empty retained message).
      if (payload.length === 0) return;
      this.bad.note(`Ignored a retained sync request on ${topic} and cleared it`);
      this.o.publish(topic, '', true).catch((e: unknown) => this.bad.note(`Could not clear the retained sync request on ${topic}: ${(e as Error).message}`));
      return;
    }
    const req = decodePayload(syncRequestSchema, payload);
    if (!req.ok) {
      this.bad.note(`Ignored a sync request on ${topic}: ${req.error}`);
      return;
    }
    const request = req.value;
    if (publisher !== null && request.clientId !== publisher) {
      this.bad.note(`Ignored a sync request on ${topic}: it names client id ${JSON.stringify(request.clientId)}, not the publisher's own ${JSON.stringify(publisher)}`);
      return;
    }
    const state = this.clients.get(request.clientId);
    if (state?.running) {
      if (state.waiting) this.bad.note(`Sync request of client ${request.clientId} replaced an earlier one still waiting`);
      state.waiting = { ext: t.ext, request };
      return;
    }
    if (!state && this.clients.size >= maxClients) {
      this.bad.note(`Ignored a sync request on ${topic}: ${maxClients} clients already have one running`);
      return;
    }
    const s: ClientState = state ?? { running: false, waiting: null, gone: false };
    this.clients.set(request.clientId, s);
    void this.run(request.clientId, s, t.ext, request);
  }

  /** The client's connection closed: its answer stops, its waiting request is dropped. */
  clientGone(clientId: string): void {
    const s = this.clients.get(clientId);
    if (!s) return;
    s.gone = true;
    s.waiting = null;
    if (!s.running) this.clients.delete(clientId);
  }

  close(): void {
    this.closed = true;
    for (const s of this.clients.values()) {
      s.gone = true;
      s.waiting = null;
    }
    for (const w of this.budgetWaiters.splice(0)) w();
  }

  /** Bytes published and not yet handed on (for tests and benches). */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  private async run(clientId: string, s: ClientState, ext: string, request: SyncRequest): Promise<void> {
    s.running = true;
    try {
      let next: { ext: string; request: SyncRequest } | null = { ext, request };
      while (next && !s.gone && !this.closed) {
        await this.answer(s, next.ext, next.request);
        next = s.waiting;
        s.waiting = null;
      }
    } catch (e) {
      this.o.logger.error(`Sync answer failed: ${(e as Error).message}`);
    } finally {
      s.running = false;
      if (this.clients.get(clientId) === s) this.clients.delete(clientId);
    }
  }

  private async answer(s: ClientState, ext: string, { since, clientId, requestId }: SyncRequest): Promise<void> {
    const topic = topics.syncResponse(this.o.site, ext, clientId);
    let cursor = since;
    let sent = 0;
    for (let part = 0; ; part++) {
      // Built only when the hub's answers in flight are under the budget (always one, however large).
      while (this.inFlight > 0 && this.inFlight >= this.budget && !this.closed) await new Promise<void>((r) => this.budgetWaiters.push(r));
      if (s.gone || this.closed) return;
      const room = Math.min(SYNC_CHUNK, SYNC_MAX_RECORDS - sent);
      const { records, more } = this.o.log.since(ext, cursor, room);
      sent += records.length;
      cursor = records.at(-1)?.seq ?? cursor;
      const done = !more || sent >= SYNC_MAX_RECORDS;
      const message: SyncResponse = { v: HUB_PROTOCOL_VERSION, requestId, part, records, done, headSeq: this.o.log.head, more: done && more };
      const payload = JSON.stringify(message);
      const bytes = Buffer.byteLength(payload);
      this.inFlight += bytes;
      let timer: NodeJS.Timeout | undefined;
      try {
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the broker did not confirm part ${part} of the answer to ${clientId} within ${this.o.confirmMs ?? CONFIRM_MS} ms; given up (the client asks again)`)), this.o.confirmMs ?? CONFIRM_MS);
        });
        await Promise.race([this.o.publish(topic, payload, false), late]);
      } finally {
        clearTimeout(timer);
        this.inFlight -= bytes;
        // Every waiter checks again (one that finds its client gone must not hold up the others).
        for (const w of this.budgetWaiters.splice(0)) w();
      }
      if (done) return;
      // Let webhooks in between chunks of a large answer.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
