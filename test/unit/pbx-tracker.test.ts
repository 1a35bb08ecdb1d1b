// The PBX-wide tracker (issue 8 §1): ONE tracker fed every event once gives every involved
// extension exactly the record the seed implies, and bystanders nothing; flows interleaved; the
// number fallback per extension; recordings go to whoever answered the leg (issue 10 item 1).
import { describe, expect, it } from 'vitest';
import type { CallRecord, CallUpdate } from '../../shared/call-record';
import { callRecordSchema } from '../../shared/call-record';
import { CallTracker } from '../../shared/tracking/call-tracker';
import { PbxTracker } from '../../shared/tracking/pbx-tracker';
import type { RawWebhook, WebhookEvent } from '../../shared/webhook/event';
import { parseWebhook } from '../../shared/webhook/parse';
import { asExpected, flowExpectations, flowGetRequests, flowRequests, seedFlows, type SeedFlow } from '../../shared/webhook/seed-flows';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const key = (r: CallRecord) => `${r.extension}/${r.id}`;

function parse(raws: RawWebhook[]): WebhookEvent[] {
  return raws.map((raw) => {
    const p = parseWebhook(raw);
    if (!p.ok) throw new Error(p.error);
    return p.event;
  });
}

/** Feeds events once to one tracker; returns the last record per (extension, id). */
function feed(events: WebhookEvent[], opts: { tracks?: (x: string) => boolean; stepMs?: number } = {}) {
  let t = T0;
  const tracker = new PbxTracker({ now: () => t, tracks: opts.tracks });
  const records = new Map<string, CallRecord>();
  const updates: CallUpdate[] = [];
  for (const e of events) {
    for (const u of tracker.apply(e)) {
      expect(callRecordSchema.safeParse(u.record).success, JSON.stringify(u.record)).toBe(true);
      records.set(key(u.record), u.record);
      updates.push(u);
    }
    t += opts.stepMs ?? 1500;
  }
  return { tracker, records, updates, advance: (ms: number) => (t += ms) };
}

const schemes = [
  ['as sent', (f: SeedFlow) => flowRequests(f)],
  ['as GET', (f: SeedFlow) => flowGetRequests(f)],
] as const;

describe.each(schemes)('every seed flow %s, one PbxTracker for the whole PBX', (_scheme, requests) => {
  it.each(seedFlows.map((f) => [f.name, f] as const))('%s: every involved extension gets exactly its record, nobody else anything', (_name, flow) => {
    const { records, tracker } = feed(parse(requests(flow)));
    const want = flowExpectations(flow);
    expect([...records.keys()].sort()).toEqual(Object.entries(want).map(([ext, r]) => `${ext}/${r.id}`).sort());
    for (const [ext, r] of Object.entries(want)) {
      const got = records.get(`${ext}/${r.id}`)!;
      expect(got.status).toBe('ended');
      expect(asExpected(got), `${flow.name} ${ext}`).toEqual(r);
    }
    expect(tracker.openCalls()).toEqual([]);
  });
});

describe('same outcome as the single-extension tracker', () => {
  it.each(seedFlows.map((f) => [f.name, f] as const))('%s', (_name, flow) => {
    for (const requests of [flowRequests(flow), flowGetRequests(flow)]) {
      const events = parse(requests);
      const pbx = feed(events).records;
      for (const ext of Object.keys(flow.expected)) {
        let t = T0;
        const one = new CallTracker({ extension: ext, now: () => t });
        const mine = new Map<string, CallRecord>();
        for (const e of events) {
          for (const u of one.apply(e)) mine.set(key(u.record), u.record);
          t += 1500;
        }
        expect([...mine.values()]).toEqual([...pbx.values()].filter((r) => r.extension === ext));
      }
    }
  });
});

describe('PbxTracker', () => {
  it('the attended transfer gives 117 and 204 their records from one apply each, same id', () => {
    const flow = seedFlows.find((f) => f.name === 'incoming-attended-transfer')!;
    const { updates } = feed(parse(flowRequests(flow)));
    const transferred = updates.filter((u) => u.record.transferType === 'attended');
    expect(new Set(transferred.map((u) => u.record.extension))).toEqual(new Set(['117', '204']));
    expect(new Set(transferred.map((u) => u.record.id))).toEqual(new Set(['230307142318_40']));
  });

  it('a RingAll end naming one member ends the call for every extension it rang, in one apply', () => {
    const flow = seedFlows.find((f) => f.name === 'ringall-missed')!;
    const events = parse(flowRequests(flow));
    let t = T0;
    const tracker = new PbxTracker({ now: () => t });
    for (const e of events.slice(0, -1)) tracker.apply(e);
    t += 1000;
    const last = tracker.apply(events.at(-1)!);
    expect(last.map((u) => [u.record.extension, u.change]).sort()).toEqual([
      ['117', 'missed'],
      ['204', 'missed'],
    ]);
  });

  it('a queue’s missed end naming the queue ends the call for every extension the queue rang, and makes no record for the queue', () => {
    const flow = seedFlows.find((f) => f.name === 'incoming-missed')!;
    const events = parse(flowRequests(flow));
    // The queue also rings 203 (same event as 202's, another user).
    const ring203 = { ...(events[2] as Extract<WebhookEvent, { type: 'ringing' }>), user: '203' };
    const { records, updates } = feed([...events.slice(0, 3), ring203, events[3]!]);
    expect([...records.keys()].sort()).toEqual(['202/230307115339_12', '203/230307115339_12']);
    for (const r of records.values()) expect(r).toMatchObject({ status: 'ended', result: 'missed', queue: '820', seen: false });
    expect(updates.filter((u) => u.change === 'missed')).toHaveLength(2);
  });

  it('tracks only the extensions it is told to', () => {
    const flow = seedFlows.find((f) => f.name === 'incoming-attended-transfer')!;
    const { records } = feed(parse(flowRequests(flow)), { tracks: (x) => x === '204' });
    expect([...records.keys()]).toEqual(['204/230307142318_40']);
  });

  it('two flows interleaved give each extension its records as if played alone', () => {
    const a = seedFlows.find((f) => f.name === 'incoming-attended-transfer')!;
    const b = seedFlows.find((f) => f.name === 'get-outgoing-answered')!;
    const ea = parse(flowRequests(a));
    const eb = parse(flowRequests(b));
    const mixed: WebhookEvent[] = [];
    for (let i = 0; i < Math.max(ea.length, eb.length); i++) mixed.push(...(ea[i] ? [ea[i]!] : []), ...(eb[i] ? [eb[i]!] : []));
    const { records } = feed(mixed);
    const want = { ...flowExpectations(a), ...flowExpectations(b) };
    expect(records.size).toBe(3);
    for (const [ext, r] of Object.entries(want)) expect(asExpected(records.get(`${ext}/${r.id}`)!)).toEqual(r);
  });

  it('the number fallback works per extension: an end under another id closes each extension’s own call', () => {
    const ev = (e: object) => e as WebhookEvent;
    const ref = (raw: string) => ({ raw, callId: raw.replace(/-\d+$/, ''), leg: Number(raw.split('-').at(-1)) });
    const { records } = feed([
      // 301 and 304 each ring with a call from the same number under different ids; 303 from another number.
      ev({ type: 'ringing', user: '830', userType: 'queue', ref: ref('A_1-0'), callerId: '0555111', did: null }),
      ev({ type: 'ringing', user: '301', userType: 'ext', ref: ref('A_1-0'), callerId: '0555111', did: null }),
      ev({ type: 'ringing', user: '304', userType: 'ext', ref: ref('D_1-0'), callerId: '0555111', did: null }),
      ev({ type: 'ringing', user: '303', userType: 'ext', ref: ref('C_1-0'), callerId: '0555999', did: null }),
      // 302 dials out; the answer and the end come under ids that line up with nothing.
      ev({ type: 'dialing', user: '302', ref: ref('B_1-0'), callerId: '0555222', did: null }),
      ev({ type: 'started', user: '302', ref: ref('B_9-1'), callerId: '0555222', did: null, direction: 'outgoing', transferType: null }),
      // The queue's missed end under yet another id: each extension's ringing call with that number is missed.
      ev({ type: 'ended', user: '830', ref: ref('A_9-0'), callerId: '0555111', did: null, direction: 'incoming', finish: 'missed', transfer: false, durationSec: null }),
      ev({ type: 'ended', user: '302', ref: ref('B_8-1'), callerId: '0555222', did: null, direction: 'outgoing', finish: 'ok', transfer: false, durationSec: 20 }),
    ]);
    expect(records.get('301/A_1')).toMatchObject({ status: 'ended', result: 'missed', queue: '830' });
    expect(records.get('304/D_1')).toMatchObject({ status: 'ended', result: 'missed' });
    expect(records.get('302/B_1')).toMatchObject({ status: 'ended', result: 'answered', durationSec: 20 });
    expect(records.get('303/C_1')).toMatchObject({ status: 'ringing' });
    expect(records.size).toBe(4);
  });

  it('openCalls per extension and for all, newest first; size counts records and open ones', () => {
    const ev = (user: string, id: string) => ({ type: 'ringing', user, userType: 'ext', ref: { raw: `${id}-0`, callId: id, leg: 0 }, callerId: `0${id.length}`, did: null }) as WebhookEvent;
    const { tracker } = feed([ev('401', 'X_1'), ev('402', 'X_2'), ev('401', 'X_3')]);
    expect(tracker.openCalls('401').map((r) => r.id)).toEqual(['X_3', 'X_1']);
    expect(tracker.openCalls().map((r) => r.id)).toEqual(['X_3', 'X_2', 'X_1']);
    expect(tracker.size).toMatchObject({ calls: 3, open: 3 });
  });

  it('restore re-adopts records of any tracked extension, keyed by extension and id', () => {
    const flow = seedFlows.find((f) => f.name === 'incoming-attended-transfer')!;
    const events = parse(flowRequests(flow));
    const first = feed(events.slice(0, 6)); // 117 and 204 both talking under the same id
    const open = first.tracker.openCalls();
    expect(open.map((r) => r.extension).sort()).toEqual(['117', '204']);
    const t = T0 + 60_000;
    const fresh = new PbxTracker({ now: () => t });
    fresh.restore(open);
    const ends = events.slice(6, 8).flatMap((e) => fresh.apply(e));
    expect(ends.map((u) => [u.record.extension, u.record.status, u.record.durationSec]).sort()).toEqual([
      ['117', 'ended', 14],
      ['204', 'ended', 6],
    ]);
  });

  it('calls that never end stay bounded: the oldest are closed (not left open) and forgotten', () => {
    let t = T0;
    const tracker = new PbxTracker({ now: () => t, maxCalls: 1000 });
    const closed: CallUpdate[] = [];
    for (let i = 0; i < 20_000; i++) {
      closed.push(...tracker.apply({ type: 'ringing', user: String(1000 + (i % 1000)), userType: 'ext', ref: { raw: `N_${i}-0`, callId: `N_${i}`, leg: 0 }, callerId: `0${i}`, did: null }).filter((u) => u.change === 'missed'));
      t += 1;
    }
    expect(tracker.size.calls).toBeLessThanOrEqual(1000);
    expect(tracker.size.known).toBeLessThanOrEqual(1000);
    expect(closed).toHaveLength(19_000);
    expect(closed.every((u) => u.record.status === 'ended')).toBe(true);
  });

  it('tick closes timed-out calls of every extension and forgets ended ones after the recording window', () => {
    const ring = (user: string, id: string) => ({ type: 'ringing', user, userType: 'ext', ref: { raw: `${id}-0`, callId: id, leg: 0 }, callerId: '0555', did: null }) as WebhookEvent;
    const a = feed([ring('501', 'Q_1'), ring('502', 'Q_2')], { stepMs: 0 });
    a.advance(3 * 60_000);
    expect(a.tracker.tick().map((u) => [u.record.extension, u.change]).sort()).toEqual([
      ['501', 'missed'],
      ['502', 'missed'],
    ]);
    expect(a.tracker.size).toMatchObject({ calls: 2, open: 0 });
    a.advance(10 * 60_000);
    a.tracker.tick();
    expect(a.tracker.size.calls).toBe(0);
  });
});
