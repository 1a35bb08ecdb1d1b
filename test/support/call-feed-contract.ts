// The contract every call feed (main/core/feed/call-feed.ts) must pass, run against each kind on real
// parts, as aedes-persistence's abstract.js runs one suite against every persistence backend. A kind
// brings a FeedDriver (where its webhooks go, how it acknowledges them); the suite owns the rest: it
// opens the call log itself (FeedContext.store) so it can hold a write back (a slow disk) or fail one,
// which every kind must survive the same way. What it checks: order, pop before durable,
// acknowledgement only after durable, a failed write not acknowledged and written later, restart,
// catch-up of what came while the feed was down, no doubles.
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

/** What one kind needs to be driven by the suite. */
export interface FeedDriver {
  /** Start what the feed follows (nothing for a listener; a hub, its broker and an agent for a hub feed). */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** Settings (source = the kind, extension = contractExtension) and password for a feed over dataDir. */
  settings(dataDir: string): { settings: Settings; password: string | null; extra?: FeedContext['extra'] };
  /**
   * Sends one webhook to the feed's origin (the feed itself, or the hub) and resolves once the FEED has
   * acknowledged it (the listener's 200; the hub client's watermark past it); rejects when the feed
   * refused it (the listener's 503, so the PBX retries). `feed` is null while the feed is down: the
   * origin keeps it for the feed's catch-up (the PBX retries a listener later; a hub has its log).
   */
  send(feed: CallFeed | null, raw: RawWebhook): Promise<void>;
  /** Resolves once the feed takes changes as they happen (connected and caught up). */
  ready(feed: CallFeed): Promise<void>;
  /** The origin's own retry of what `send` could not deliver while the feed was down (listener: the PBX's). */
  retryPending(feed: CallFeed): Promise<void>;
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
let serial = 0;

/** A seed flow's webhooks for the contract's extension with fresh ids, and the call's record id. */
export function contractCall(flow: string): { requests: RawWebhook[]; id: string } {
  const stamp = '2612' + String(Date.now() % 100_000_000).padStart(8, '0');
  const requests = flowRequests(findSeedFlow(flow)!, { extension: contractExtension, validJson: true, freshIds: { stamp, serial: ++serial * 1000 } });
  const id = (JSON.parse(requests[0]!.body) as { Id: string }).Id.replace(/-\d+$/, '');
  return { requests, id };
}

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

export function describeCallFeed(name: string, driver: FeedDriver): void {
  describe(`CallFeed contract: ${name}`, () => {
    let dataDir = '';
    let disk = new Disk();
    const feeds: CallFeed[] = [];

    const start = async (): Promise<Running> => {
      const { settings, password, extra } = driver.settings(dataDir);
      const feed = await startFeed({ dataDir, settings, password, extra, logger: quiet, store: await disk.open(dataDir), tickMs: 60_000 });
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
    const sendAll = async (feed: CallFeed | null, requests: RawWebhook[]): Promise<void> => {
      for (const raw of requests) await driver.send(feed, raw);
    };

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
      const call = contractCall('incoming-answered');
      await sendAll(r.feed, call.requests);
      await until(() => of(r.durable, call.id).length >= 4, 'the durable changes');
      expect(of(r.changes, call.id)).toEqual(['ringing', 'answered', 'ended', 'recording']);
      expect(of(r.durable, call.id)).toEqual(of(r.changes, call.id));
      const logged = r.feed.store.get(call.id) as CallRecord;
      expect([logged.status, logged.result, logged.durationSec, logged.recordings.length]).toEqual(['ended', 'answered', 6, 1]);
      expect(r.feed.openCalls()).toEqual([]);
    });

    it('pop before durable, acknowledgement only after durable', async () => {
      const r = await start();
      const call = contractCall('incoming-missed');
      disk.holdWrites();
      let acked = false;
      const sent = sendAll(r.feed, call.requests.slice(0, 3)).then(() => (acked = true));
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
      const call = contractCall('incoming-answered');
      await sendAll(r.feed, call.requests.slice(0, 3)); // ringing, written
      disk.failNext = 1;
      const puts = disk.puts;
      let ackedAnswer: boolean | null = null;
      const answer = driver.send(r.feed, call.requests[3]!).then(
        () => (ackedAnswer = true),
        () => (ackedAnswer = false),
      );
      await until(() => disk.puts > puts && disk.failNext === 0, 'the failed write');
      await settle();
      // Refused (the listener's 503) or still waiting (the hub client's watermark): never acknowledged.
      expect(ackedAnswer).not.toBe(true);
      expect(r.feed.store.get(call.id)?.status).toBe('ringing');
      expect(of(r.changes, call.id)).toEqual(['ringing', 'answered']);
      expect(of(r.durable, call.id)).toEqual(['ringing']);
      // The PBX retries a refused webhook; either way the next change writes what failed.
      if (ackedAnswer === false) await driver.send(r.feed, call.requests[3]!);
      await driver.send(r.feed, call.requests[4]!);
      await answer;
      await until(() => r.feed.store.get(call.id)?.status === 'ended', 'the call ended in the log');
      expect(of(r.changes, call.id)).toEqual(['ringing', 'answered', 'ended']);
    });

    it('restart: the open call is open again, its end comes once, nothing earlier is repeated', async () => {
      let r = await start();
      const call = contractCall('incoming-answered');
      await sendAll(r.feed, call.requests.slice(0, 4)); // ringing, talking
      await until(() => of(r.durable, call.id).length === 2, 'two durable changes');
      await stop(r);
      r = await start();
      await until(() => r.feed.openCalls().some((c) => c.id === call.id), 'the talking call open after the restart');
      expect(r.feed.openCalls().find((c) => c.id === call.id)?.status).toBe('talking');
      await sendAll(r.feed, call.requests.slice(4));
      await until(() => of(r.durable, call.id).includes('recording'), 'the end after the restart');
      await settle();
      expect(of(r.changes, call.id)).toEqual(['ended', 'recording']);
      expect(r.feed.store.get(call.id)?.result).toBe('answered');
    });

    it('catch-up: a call that came while the feed was down arrives once after it starts, missed and unseen', async () => {
      let r = await start();
      await stop(r);
      const call = contractCall('incoming-missed');
      // Down: a listener's PBX gets no answer and retries later; a hub keeps the call in its log.
      await sendAll(null, call.requests);
      r = await start();
      await driver.retryPending(r.feed);
      await until(() => of(r.durable, call.id).includes('missed'), 'the missed call caught up');
      await settle();
      expect(of(r.changes, call.id).filter((c) => c === 'missed')).toHaveLength(1);
      expect(r.feed.store.get(call.id)).toMatchObject({ status: 'ended', result: 'missed', seen: false });
      expect(r.feed.openCalls().some((c) => c.id === call.id)).toBe(false);
    });

    it('no doubles: the same webhooks sent again change nothing and are acknowledged', async () => {
      const r = await start();
      const call = contractCall('incoming-answered');
      await sendAll(r.feed, call.requests);
      await until(() => of(r.durable, call.id).length >= 4, 'the durable changes');
      const before = r.feed.store.get(call.id);
      await sendAll(r.feed, call.requests); // the PBX's retries, a redelivery
      await settle();
      expect(of(r.changes, call.id)).toEqual(['ringing', 'answered', 'ended', 'recording']);
      expect(of(r.durable, call.id)).toEqual(['ringing', 'answered', 'ended', 'recording']);
      expect(r.feed.store.get(call.id)).toEqual(before);
    });
  });
}

export const contractSettings = (more: Partial<Settings>): Settings => ({ ...defaultSettings(), extension: contractExtension, listenHost: '127.0.0.1', listenPort: 0, ...more });
