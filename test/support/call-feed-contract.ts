// The contract every call feed (main/core/feed/call-feed.ts) must pass, run against each kind on real
// parts, as aedes-persistence's abstract.js runs one suite against every persistence backend. A kind
// brings a FeedDriver: what its origin sends for a call (webhooks for the listener and the hub, the
// PBX's participant changes for 3CX Call Control), how it sends them and what counts as acknowledged.
// The suite owns the rest: it opens the call log itself (FeedContext.store) so it can hold a write back
// (a slow disk) or fail one, which every kind must survive the same way. What it checks: order, pop
// before durable, acknowledgement only after durable, a failed write not acknowledged and written later,
// restart, catch-up of what came while the feed was down, no doubles.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallChange, CallRecord, CallUpdate } from '../../shared/call-record';
import type { Logger } from '../../shared/diagnostics-log';
import { defaultSettings, type Settings } from '../../shared/settings';
import type { RawWebhook } from '../../shared/webhook/event';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { openCallLogStore, type CallLogStore } from '../../main/core/call-log/store';
import { callLogDir } from '../../main/core/config/paths';
import type { CallFeed, FeedContext } from '../../main/core/feed/call-feed';
import { startFeed } from '../../main/core/feed/kinds';

export const contractExtension = '202';

/** The two calls the suite plays (seed flows of /work/shared/seeds/3cx-webapi-webhooks.md). */
export type ContractFlow = 'incoming-answered' | 'incoming-missed';

/** One call as the origin sends it, in phases; a step `S` is whatever the kind's origin sends. */
export interface ContractCall<S> {
  /** The call's record id. */
  id: string;
  /** Up to the ring at the contract's extension (the record is "ringing" after these). */
  ring: S[];
  /** The answer (empty for a missed call). */
  answer: S[];
  /** The end. */
  end: S[];
  /** What follows the end: the recording where the source has one, else nothing. */
  after: S[];
}

/** What one kind needs to be driven by the suite. */
export interface FeedDriver<S> {
  /**
   * Whether the origin keeps a call that began AND ended while the feed was down, for the feed's
   * catch-up (a listener's PBX retries, a hub has its log). 3CX Call Control shows only calls in
   * progress, so its feed cannot know such a call: the one test that needs it is skipped for it.
   */
  keepsHistory: boolean;
  /** Start what the feed follows (nothing for a listener; a hub, its broker and an agent for a hub feed). */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** Settings (source = the kind, extension = contractExtension), password and clock for a feed over dataDir. */
  settings(dataDir: string): { settings: Settings; password: string | null; extra?: FeedContext['extra']; now?: () => number };
  /** A fresh call of this flow at the contract's extension. */
  call(flow: ContractFlow): ContractCall<S>;
  /**
   * Sends one step to the feed's origin (the feed itself, the hub, the PBX) and resolves once the FEED
   * has acknowledged it (the listener's 200; the hub client's watermark past it; Call Control: applied
   * and everything written); rejects when the feed refused it (the listener's 503, so the PBX retries).
   * `feed` is null while the feed is down: the origin keeps what it can for the feed's catch-up.
   */
  send(feed: CallFeed | null, step: S): Promise<void>;
  /** Resolves once the feed takes changes as they happen (connected and caught up). */
  ready(feed: CallFeed): Promise<void>;
  /** The origin's own retry of what `send` could not deliver while the feed was down (listener: the PBX's). */
  retryPending(feed: CallFeed): Promise<void>;
  /**
   * The origin gives the feed again what it already gave for these steps, changing nothing: the PBX's
   * retries of webhooks; for Call Control the same events again and a reconnect (its resynchronisation).
   */
  redeliver(feed: CallFeed, steps: S[]): Promise<void>;
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
let serial = 0;

/** A seed flow's webhooks for the contract's extension with fresh ids, in the suite's phases. */
export function webhookCall(flow: ContractFlow): ContractCall<RawWebhook> {
  const stamp = '2612' + String(Date.now() % 100_000_000).padStart(8, '0');
  const requests = flowRequests(findSeedFlow(flow)!, { extension: contractExtension, validJson: true, freshIds: { stamp, serial: ++serial * 1000 } });
  const id = (JSON.parse(requests[0]!.body) as { Id: string }).Id.replace(/-\d+$/, '');
  // Three ringing webhooks (the route point, the queue, the extension), then answer, end, recording.
  if (flow === 'incoming-missed') return { id, ring: requests.slice(0, 3), answer: [], end: requests.slice(3), after: [] };
  return { id, ring: requests.slice(0, 3), answer: requests.slice(3, 4), end: requests.slice(4, 5), after: requests.slice(5) };
}

/** Every step of a call, in order. */
const allOf = <S>(c: ContractCall<S>): S[] => [...c.ring, ...c.answer, ...c.end, ...c.after];

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets whatever is already on its way arrive (a few turns of the event loop and of the network). */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));

/** A call log whose writes the suite can hold back or fail, as a slow or failing disk would. */
class Disk {
  hold: Promise<void> | null = null;
  private release: (() => void) | null = null;
  failNext = 0;
  puts = 0;

  holdWrites(): void {
    this.hold = new Promise((r) => (this.release = r));
  }

  releaseWrites(): void {
    this.release?.();
    this.hold = null;
  }

  async open(dataDir: string): Promise<CallLogStore> {
    const store = await openCallLogStore(callLogDir(dataDir), { logger: quiet });
    const put = store.put.bind(store);
    store.put = async (records) => {
      this.puts++;
      if (this.hold) await this.hold;
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('disk full (contract test)');
      }
      return put(records);
    };
    return store;
  }
}

interface Running {
  feed: CallFeed;
  changes: CallUpdate[];
  durable: CallUpdate[];
}

export function describeCallFeed<S>(name: string, driver: FeedDriver<S>): void {
  describe(`CallFeed contract: ${name}`, () => {
    let dataDir = '';
    let disk = new Disk();
    const feeds: CallFeed[] = [];

    const start = async (): Promise<Running> => {
      const { settings, password, extra, now } = driver.settings(dataDir);
      const feed = await startFeed({ dataDir, settings, password, extra, logger: quiet, store: await disk.open(dataDir), tickMs: 60_000, ...(now ? { now } : {}) });
      feeds.push(feed);
      const r: Running = { feed, changes: [], durable: [] };
      feed.changes((u) => r.changes.push(...u));
      feed.durable((u) => r.durable.push(...u));
      await driver.ready(feed);
      return r;
    };
    const stop = async (r: Running): Promise<void> => {
      feeds.splice(feeds.indexOf(r.feed), 1);
      await r.feed.close();
    };
    const of = (us: CallUpdate[], id: string): CallChange[] => us.filter((u) => u.record.id === id).map((u) => u.change);
    const sendAll = async (feed: CallFeed | null, steps: S[]): Promise<void> => {
      for (const step of steps) await driver.send(feed, step);
    };
    /** The changes a whole answered call gives: its recording too where the source has one. */
    const answeredChanges = (call: ContractCall<S>): CallChange[] => ['ringing', 'answered', 'ended', ...(call.after.length > 0 ? (['recording'] as const) : [])];

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'callpop-feed-contract-'));
      disk = new Disk();
      await driver.setUp();
    });
    afterEach(async () => {
      disk.releaseWrites();
      for (const f of feeds.splice(0)) await f.close().catch(() => {});
      await driver.tearDown();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('order: every change once, in the order of the call, live and durable alike; the log holds the end', async () => {
      const r = await start();
      const call = driver.call('incoming-answered');
      const expected = answeredChanges(call);
      await sendAll(r.feed, allOf(call));
      await until(() => of(r.durable, call.id).length >= expected.length, 'the durable changes');
      expect(of(r.changes, call.id)).toEqual(expected);
      expect(of(r.durable, call.id)).toEqual(of(r.changes, call.id));
      const logged = r.feed.store.get(call.id) as CallRecord;
      expect([logged.status, logged.result, logged.durationSec, logged.recordings.length]).toEqual(['ended', 'answered', 6, call.after.length]);
      expect(r.feed.openCalls()).toEqual([]);
    });

    it('pop before durable, acknowledgement only after durable', async () => {
      const r = await start();
      const call = driver.call('incoming-missed');
      disk.holdWrites();
      let acked = false;
      const sent = sendAll(r.feed, call.ring).then(() => (acked = true));
      await until(() => of(r.changes, call.id).includes('ringing'), 'the pop while the write is held');
      await settle();
      expect(of(r.durable, call.id)).toEqual([]);
      expect(acked).toBe(false);
      expect(r.feed.store.get(call.id)).toBeUndefined();
      disk.releaseWrites();
      await sent;
      expect(of(r.durable, call.id)).toEqual(['ringing']);
      expect(r.feed.store.get(call.id)?.status).toBe('ringing');
    });

    it('a failed write is not acknowledged, and what follows writes it: nothing acknowledged is lost', async () => {
      const r = await start();
      const call = driver.call('incoming-answered');
      await sendAll(r.feed, call.ring); // ringing, written
      disk.failNext = 1;
      const puts = disk.puts;
      let ackedAnswer: boolean | null = null;
      const answer = sendAll(r.feed, call.answer).then(
        () => (ackedAnswer = true),
        () => (ackedAnswer = false),
      );
      await until(() => disk.puts > puts && disk.failNext === 0, 'the failed write');
      await settle();
      // Refused (the listener's 503) or still waiting (a watermark): never acknowledged.
      expect(ackedAnswer).not.toBe(true);
      expect(r.feed.store.get(call.id)?.status).toBe('ringing');
      expect(of(r.changes, call.id)).toEqual(['ringing', 'answered']);
      expect(of(r.durable, call.id)).toEqual(['ringing']);
      // The PBX retries a refused webhook; either way the next change writes what failed.
      if (ackedAnswer === false) await sendAll(r.feed, call.answer);
      await sendAll(r.feed, call.end);
      await answer;
      await until(() => r.feed.store.get(call.id)?.status === 'ended', 'the call ended in the log');
      expect(of(r.changes, call.id)).toEqual(['ringing', 'answered', 'ended']);
    });

    it('restart: the open call is open again, its end comes once, nothing earlier is repeated', async () => {
      let r = await start();
      const call = driver.call('incoming-answered');
      await sendAll(r.feed, [...call.ring, ...call.answer]); // ringing, talking
      await until(() => of(r.durable, call.id).length === 2, 'two durable changes');
      await stop(r);
      r = await start();
      await until(() => r.feed.openCalls().some((c) => c.id === call.id), 'the talking call open after the restart');
      expect(r.feed.openCalls().find((c) => c.id === call.id)?.status).toBe('talking');
      await sendAll(r.feed, [...call.end, ...call.after]);
      const rest = answeredChanges(call).slice(2);
      await until(() => of(r.durable, call.id).length >= rest.length, 'the end after the restart');
      await settle();
      expect(of(r.changes, call.id)).toEqual(rest);
      expect(r.feed.store.get(call.id)).toMatchObject({ result: 'answered', durationSec: 6 });
    });

    it.skipIf(!driver.keepsHistory)('catch-up: a call that came while the feed was down arrives once after it starts, missed and unseen', async () => {
      let r = await start();
      await stop(r);
      const call = driver.call('incoming-missed');
      // Down: a listener's PBX gets no answer and retries later; a hub keeps the call in its log.
      await sendAll(null, allOf(call));
      r = await start();
      await driver.retryPending(r.feed);
      await until(() => of(r.durable, call.id).includes('missed'), 'the missed call caught up');
      await settle();
      expect(of(r.changes, call.id).filter((c) => c === 'missed')).toHaveLength(1);
      expect(r.feed.store.get(call.id)).toMatchObject({ status: 'ended', result: 'missed', seen: false });
      expect(r.feed.openCalls().some((c) => c.id === call.id)).toBe(false);
    });

    it('catch-up: a call that began ringing while the feed was down rings once after it starts; its end comes once', async () => {
      let r = await start();
      await stop(r);
      const call = driver.call('incoming-missed');
      await sendAll(null, call.ring);
      r = await start();
      await driver.retryPending(r.feed);
      await until(() => r.feed.openCalls().some((c) => c.id === call.id), 'the ringing call open after the start');
      await sendAll(r.feed, call.end);
      await until(() => of(r.durable, call.id).includes('missed'), 'the missed end');
      await settle();
      expect(of(r.changes, call.id)).toEqual(['ringing', 'missed']);
      expect(r.feed.store.get(call.id)).toMatchObject({ status: 'ended', result: 'missed', seen: false });
    });

    it('catch-up: a call ringing when the feed stopped that ended while it was down ends once, missed and unseen', async () => {
      let r = await start();
      const call = driver.call('incoming-missed');
      await sendAll(r.feed, call.ring);
      await until(() => of(r.durable, call.id).includes('ringing'), 'the durable ring');
      await stop(r);
      await sendAll(null, call.end);
      r = await start();
      await driver.retryPending(r.feed);
      await until(() => of(r.durable, call.id).includes('missed'), 'the end caught up');
      await settle();
      expect(of(r.changes, call.id)).toEqual(['missed']);
      expect(r.feed.store.get(call.id)).toMatchObject({ status: 'ended', result: 'missed', seen: false });
      expect(r.feed.openCalls().some((c) => c.id === call.id)).toBe(false);
    });

    it('no doubles: what the origin gives again, mid-call or after the end, changes nothing and is acknowledged', async () => {
      const r = await start();
      const call = driver.call('incoming-answered');
      const expected = answeredChanges(call);
      await sendAll(r.feed, [...call.ring, ...call.answer]);
      await until(() => of(r.durable, call.id).length >= 2, 'ringing and answered durable');
      await driver.redeliver(r.feed, [...call.ring, ...call.answer]);
      await settle();
      expect(of(r.changes, call.id)).toEqual(['ringing', 'answered']);
      await sendAll(r.feed, [...call.end, ...call.after]);
      await until(() => of(r.durable, call.id).length >= expected.length, 'the durable changes');
      const before = r.feed.store.get(call.id);
      await driver.redeliver(r.feed, allOf(call)); // the PBX's retries, a redelivery, a resync
      await settle();
      expect(of(r.changes, call.id)).toEqual(expected);
      expect(of(r.durable, call.id)).toEqual(expected);
      expect(r.feed.store.get(call.id)).toEqual(before);
    });
  });
}

export const contractSettings = (more: Partial<Settings>): Settings => ({ ...defaultSettings(), extension: contractExtension, listenHost: '127.0.0.1', listenPort: 0, ...more });
