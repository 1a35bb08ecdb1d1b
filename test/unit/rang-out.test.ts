// Issue #20 item 9, "one event, three names": a call that rang with no end event is marked on its record
// (endedBy "ring-timeout") by the tracker, and every place that names a call's outcome says the same
// "Missed (rang out, no end seen)": the outcome, the log's result filter, the CSV and a notification's
// title. A record with the marker still reads for a client that predates it (the hub wire is additive).
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { callOutcome, isMissedCall, matchesResultFilter, outcomeLabel, outcomeLabels, resultFilters } from '../../shared/call-outcome';
import { callRecordsCsv, csvColumns } from '../../shared/call-csv';
import { callRecordSchema, type CallRecord } from '../../shared/call-record';
import { sameCallExceptSeen } from '../../shared/call-record-equal';
import { callChangeMessageSchema } from '../../shared/hub-protocol';
import { CallTracker } from '../../shared/tracking/call-tracker';
import { endAbandoned } from '../../shared/tracking/what-changed';
import type { WebhookEvent } from '../../shared/webhook/event';
import { callRecord, ringingRecord } from '../support/call-records';

const RANG_OUT = 'Missed (rang out, no end seen)';
const N = '05551239988';
const ref = (callId: string, leg: number) => ({ raw: `${callId}-${leg}`, callId, leg });
const ring = (id: string): WebhookEvent => ({ type: 'ringing', user: '117', userType: 'ext', ref: ref(id, 0), callerId: N, did: null });
const endMissed = (id: string): WebhookEvent => ({ type: 'ended', user: '117', ref: ref(id, 0), callerId: N, did: null, direction: 'incoming', finish: 'missed', transfer: false, durationSec: null });

function tracker() {
  let t = Date.parse('2026-12-07T09:00:00Z');
  const tr = new CallTracker({ extension: '117', now: () => t, ringTimeoutMs: 30_000 });
  return { tr, advance: (ms: number) => (t += ms) };
}

describe('a ring with no end seen', () => {
  it('the ring timeout marks the record; the outcome is named for it', () => {
    const { tr, advance } = tracker();
    tr.apply(ring('R_1'));
    advance(31_000);
    const [u] = tr.tick();
    expect(u!.change).toBe('missed');
    expect(u!.record).toMatchObject({ status: 'ended', result: 'missed', endedBy: 'ring-timeout', seen: false });
    expect(callRecordSchema.parse(u!.record)).toEqual(u!.record);
    expect(callOutcome(u!.record)).toBe('rang-out');
    expect(outcomeLabel(u!.record)).toBe(RANG_OUT);
    // Still a missed call: the badge, the Missed filter and the callbacks count it.
    expect(isMissedCall(u!.record)).toBe(true);
    expect(matchesResultFilter(u!.record, 'missed')).toBe(true);
    expect(matchesResultFilter(u!.record, 'rang-out')).toBe(true);
  });

  it('a missed end the PBX sent is plain "Missed", and not in the rang-out filter', () => {
    const { tr } = tracker();
    tr.apply(ring('R_2'));
    const [u] = tr.apply(endMissed('R_2'));
    expect(u!.record.endedBy).toBeUndefined();
    expect(outcomeLabel(u!.record)).toBe('Missed');
    expect(matchesResultFilter(u!.record, 'rang-out')).toBe(false);
  });

  it("the PBX's end arriving after the timeout makes it a seen end", () => {
    const { tr, advance } = tracker();
    tr.apply(ring('R_3'));
    advance(31_000);
    tr.tick();
    const [u] = tr.apply(endMissed('R_3'));
    expect(u!.change).toBe('updated');
    expect('endedBy' in u!.record).toBe(false);
    expect(outcomeLabel(u!.record)).toBe('Missed');
  });

  it('a ring Callpop stops following (endAbandoned) is marked too; a talking call is not', () => {
    const ended = endAbandoned(ringingRecord({ id: 'R_4' }), Date.parse('2026-12-07T09:05:00Z'))!;
    expect(outcomeLabel(ended.record)).toBe(RANG_OUT);
    const talk = endAbandoned(callRecord({ id: 'R_5', status: 'talking', result: 'answered', answeredAt: '2026-11-24T10:00:05.000Z', endedAt: null }), Date.now())!;
    expect(talk.record.endedBy).toBeUndefined();
  });

  it('an outgoing call is never "rang out" (it is not a missed call)', () => {
    const r = callRecord({ id: 'R_6', direction: 'outgoing', endedBy: 'ring-timeout' });
    expect(outcomeLabel(r)).toBe('Not answered');
    expect(matchesResultFilter(r, 'rang-out')).toBe(false);
  });

  it('the log has a result filter of that name', () => {
    expect(resultFilters).toContain('rang-out');
    expect(outcomeLabels['rang-out']).toBe(RANG_OUT);
  });

  it('the CSV says the outcome by its name, with the marker in its own column', () => {
    const rangOut = callRecord({ id: 'R_7', endedBy: 'ring-timeout' });
    const missed = callRecord({ id: 'R_8' });
    const csv = Papa.parse<Record<string, string>>(callRecordsCsv([rangOut, missed], { header: true, newline: '\n' }), { header: true });
    expect(csv.meta.fields).toEqual([...csvColumns]);
    expect(csv.data.map((r) => [r.id, r.result, r.endedBy, r.outcome])).toEqual([
      ['R_7', 'missed', 'ring-timeout', RANG_OUT],
      ['R_8', 'missed', '', 'Missed'],
    ]);
  });

  it('absent and null are the same marker (the log stores null, the tracker leaves it out)', () => {
    const a = callRecord({ id: 'R_9' });
    expect(sameCallExceptSeen(a, { ...a, endedBy: null })).toBe(true);
    expect(sameCallExceptSeen(a, { ...a, endedBy: 'ring-timeout' })).toBe(false);
  });
});

describe('the hub wire (additive within v1)', () => {
  const message = (record: CallRecord) => ({ v: 1, seq: 7, change: 'missed', record });

  it('a change carrying the marker is read by this client with it, and by an older one without it', () => {
    const record = callRecord({ id: 'W_1', endedBy: 'ring-timeout' });
    expect(callChangeMessageSchema.parse(message(record)).record.endedBy).toBe('ring-timeout');
    // A client from before the marker: the same record schema without the field (zod objects drop
    // keys they do not know, as docs/hub-protocol.md asks of every v1 reader).
    const before = callRecordSchema.options.map((o) => o.omit({ endedBy: true }));
    const read = before.map((s) => s.safeParse(record)).find((r) => r.success);
    expect(read?.data).toEqual(callRecord({ id: 'W_1' }));
  });

  it('an older hub (no marker) is read by this client as a plain missed call', () => {
    const parsed = callChangeMessageSchema.parse(message(callRecord({ id: 'W_2' })));
    expect(outcomeLabel(parsed.record)).toBe('Missed');
  });
});
