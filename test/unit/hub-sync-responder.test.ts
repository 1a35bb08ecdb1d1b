// The hub's sync responder on its own (main/core/hub/sync-responder.ts), with a log of real records and
// a publish that resolves when the test says the broker handed the message on: the hub-wide budget of
// bytes in flight, one answer at a time per client (the latest waiting request wins), and an answer
// that stops when its client is gone.
import { describe, expect, it } from 'vitest';
import { SYNC_CHUNK, agentClientId, syncResponseSchema, topics } from '../../shared/hub-protocol';
import { SyncResponder, type SyncSource } from '../../main/core/hub/sync-responder';
import { ringingRecord } from '../support/call-records';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** `n` records of extension 300 with seqs 1..n. */
function source(n: number): SyncSource {
  const all = Array.from({ length: n }, (_, i) => ({ seq: i + 1, record: ringingRecord({ id: `261207130000_${i}`, extension: '300' }) }));
  return {
    head: n,
    since: (_ext, cursor, max) => {
      const rest = all.filter((r) => r.seq > cursor);
      return { records: rest.slice(0, max), more: rest.length > max };
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function harness(records: number, budgetBytes: number) {
  const sent: { topic: string; payload: string; release: () => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const responder = new SyncResponder({
    site: 'default',
    log: source(records),
    logger: silent,
    budgetBytes,
    publish: (topic, payload) =>
      new Promise<void>((resolve) => {
        inFlight += payload.length;
        maxInFlight = Math.max(maxInFlight, inFlight);
        sent.push({
          topic,
          payload,
          release: () => {
            inFlight -= payload.length;
            resolve();
          },
        });
      }),
  });
  const request = (clientId: string, requestId: string, publisher = clientId): void =>
    responder.onPublish(topics.syncRequest('default', '300'), Buffer.from(JSON.stringify({ v: 1, since: 0, clientId, requestId })), publisher, false);
  /** Hands every message sent so far on, lets the responder go on; repeats until it sends nothing new. */
  const drain = async (): Promise<void> => {
    for (let done = 0; ; ) {
      const pending = sent.slice(done);
      done = sent.length;
      for (const m of pending) m.release();
      for (let i = 0; i < 5; i++) await tick();
      if (sent.length === done) return;
    }
  };
  return { responder, sent, request, drain, maxInFlight: () => maxInFlight };
}

describe('SyncResponder', () => {
  it('keeps the bytes in flight hub-wide under the budget plus one chunk while answering many clients', async () => {
    const h = harness(3 * SYNC_CHUNK, 200_000);
    for (let i = 0; i < 20; i++) h.request(agentClientId('agent', `c${i}`), `r${i}`);
    await h.drain();
    const chunk = Math.max(...h.sent.map((m) => m.payload.length));
    expect(h.maxInFlight()).toBeLessThanOrEqual(200_000 + chunk);
    // Every client got its whole answer (3 chunks), nothing more.
    expect(h.sent.length).toBe(20 * 3);
    for (let i = 0; i < 20; i++) {
      const mine = h.sent.filter((m) => m.topic.endsWith(`/sync/res/${agentClientId('agent', `c${i}`)}`)).map((m) => syncResponseSchema.parse(JSON.parse(m.payload)));
      expect(mine.reduce((n, r) => n + r.records.length, 0)).toBe(3 * SYNC_CHUNK);
    }
  });

  it('answers one request per client at a time: of 50 sent during an answer, only the latest is answered after it', async () => {
    const h = harness(2 * SYNC_CHUNK, 8 * 1024 * 1024);
    const id = agentClientId('agent', 'desk');
    h.request(id, 'first');
    for (let i = 0; i < 50; i++) h.request(id, `r${i}`);
    await h.drain();
    const answered = [...new Set(h.sent.map((m) => syncResponseSchema.parse(JSON.parse(m.payload)).requestId))];
    expect(answered).toEqual(['first', 'r49']);
  });

  it('ignores a request naming another client id than the publisher, and stops an answer when its client is gone', async () => {
    const h = harness(4 * SYNC_CHUNK, 8 * 1024 * 1024);
    h.request(agentClientId('agent', 'other'), 'x', agentClientId('agent', 'me'));
    await h.drain();
    expect(h.sent).toEqual([]);
    const id = agentClientId('agent', 'me');
    h.request(id, 'long');
    await tick();
    expect(h.sent.length).toBe(1);
    h.responder.clientGone(id);
    await h.drain();
    expect(h.sent.length).toBe(1);
  });
});
