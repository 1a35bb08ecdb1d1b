// Duplicates are duplicates only within a time window (issue 10 item 2): a webhook re-delivered
// at once changes nothing, the same flow replayed later is a call of its own, and no replay leaves
// a ghost "talking" call behind.
import { describe, expect, it } from 'vitest';
import type { CallRecord, CallUpdate } from '../../shared/call-record';
import { CallTracker } from '../../shared/tracking/call-tracker';
import { DUPLICATE_WINDOW_MS } from '../../shared/tracking/duplicates';
import { PbxTracker } from '../../shared/tracking/pbx-tracker';
import type { WebhookEvent } from '../../shared/webhook/event';
import { parseWebhook } from '../../shared/webhook/parse';
import { findSeedFlow, flowRequests, type FlowOptions } from '../../shared/webhook/seed-flows';

const events = (name: string, opts: FlowOptions = {}): WebhookEvent[] =>
  flowRequests(findSeedFlow(name)!, opts).map((r) => {
    const p = parseWebhook(r);
    if (!p.ok) throw new Error(p.error);
    return p.event;
  });

const trackers = [
  ['CallTracker', (now: () => number) => new CallTracker({ extension: '117', now })],
  ['PbxTracker', (now: () => number) => new PbxTracker({ now })],
] as const;

describe.each(trackers)('%s', (_name, make) => {
  function setup() {
    let t = Date.parse('2026-11-24T10:00:00Z');
    const tracker = make(() => t);
    const records = new Map<string, CallRecord>();
    const play = (evs: WebhookEvent[]): CallUpdate[] =>
      evs.flatMap((e) => {
        const u = tracker.apply(e);
        for (const x of u) records.set(`${x.record.extension}/${x.record.id}/${x.record.startedAt}`, x.record);
        t += 1000;
        return u;
      });
    return { tracker, records, play, advance: (ms: number) => (t += ms) };
  }

  it('the window is minutes', () => {
    expect(DUPLICATE_WINDOW_MS).toBeGreaterThanOrEqual(60_000);
    expect(DUPLICATE_WINDOW_MS).toBeLessThan(10 * 60_000);
  });

  it('within the window a re-delivered event changes nothing', () => {
    const s = setup();
    const flow = events('outgoing-answered');
    s.play(flow);
    s.advance(DUPLICATE_WINDOW_MS - 60_000);
    expect(s.play(flow)).toEqual([]);
  });

  it('"outgoing answered" replayed as is after the window and the call forgotten: a second complete call, nothing open', () => {
    const s = setup();
    const flow = events('outgoing-answered');
    s.play(flow);
    s.advance(11 * 60_000);
    s.tracker.tick(); // the first call is past the recording window: forgotten
    const again = s.play(flow);
    expect(again.map((u) => u.change)).toEqual(['dialing', 'answered', 'ended', 'recording']);
    expect(s.tracker.openCalls()).toEqual([]);
    const all = [...s.records.values()];
    expect(all).toHaveLength(2);
    expect(all.map((r) => [r.status, r.result, r.durationSec, r.recordings.length])).toEqual([
      ['ended', 'answered', 5, 1],
      ['ended', 'answered', 5, 1],
    ]);
  });

  it('replayed as is after the window but while the first call is still held: nothing changes, nothing open', () => {
    const s = setup();
    const flow = events('outgoing-answered');
    s.play(flow);
    s.advance(DUPLICATE_WINDOW_MS);
    s.tracker.tick();
    s.play(flow);
    expect(s.tracker.openCalls()).toEqual([]);
    expect([...s.records.values()]).toHaveLength(1);
  });

  it('a new call whose end repeats an earlier call’s end id (the truncated seed id) is ended, not left talking', () => {
    const s = setup();
    const first = events('outgoing-answered', { freshIds: { stamp: '261124100000' } });
    const second = events('outgoing-answered', { freshIds: { stamp: '261124101000' } });
    const end = first[2]!;
    s.play(first);
    s.advance(DUPLICATE_WINDOW_MS + 11 * 60_000);
    s.tracker.tick();
    // The same end event (same id, same everything) as the first call's.
    s.play([second[0]!, second[1]!, end]);
    expect(s.tracker.openCalls()).toEqual([]);
    expect([...s.records.values()].map((r) => r.status)).toEqual(['ended', 'ended']);
  });
});
