// Tracker rules, event by event, on hand-built events (the seed flows through the real parser
// are in tracker-seed-flows.test.ts).
import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../shared/call-record';
import { callRecordSchema } from '../../shared/call-record';
import { CallTracker } from '../../shared/tracking/call-tracker';
import type { WebhookEvent } from '../../shared/webhook/event';

const N = '05551239988';
const ref = (raw: string) => {
  const m = /^(.*)-(\d+)$/.exec(raw);
  return m ? { raw, callId: m[1]!, leg: Number(m[2]) } : { raw, callId: raw, leg: null };
};
const ring = (user: string, userType: 'ext' | 'queue' | 'other', id: string, callerId = N, did: string | null = null): WebhookEvent => ({ type: 'ringing', user, userType, ref: ref(id), callerId, did });
const dial = (user: string, id: string, callerId = N): WebhookEvent => ({ type: 'dialing', user, ref: ref(id), callerId, did: null });
const start = (user: string, id: string, transferType: 'attended' | 'blind' | null = null, direction: 'incoming' | 'outgoing' = 'incoming', callerId = N): WebhookEvent => ({ type: 'started', user, ref: ref(id), callerId, did: null, direction, transferType });
const end = (user: string, id: string, finish: 'ok' | 'missed', durationSec: number | null, direction: 'incoming' | 'outgoing' = 'incoming', transfer = false, callerId = N): WebhookEvent => ({ type: 'ended', user, ref: ref(id), callerId, did: null, direction, finish, transfer, durationSec });
const rec = (user: string | null, id: string, callerId: string | null = N): WebhookEvent => ({ type: 'recording', user, ref: ref(id), callerId, urls: [`https://pbx.example.com:5001/webapi/recording/${id}-1.mp3`] });

/** Runs events through a tracker for `ext`; returns the final record per id and every change seen. */
function run(ext: string, events: WebhookEvent[], opts: { stepMs?: number; start?: number } = {}) {
  let t = opts.start ?? Date.parse('2026-11-24T09:00:00Z');
  const tracker = new CallTracker({ extension: ext, now: () => t });
  const records = new Map<string, CallRecord>();
  const changes: string[] = [];
  for (const e of events) {
    for (const u of tracker.apply(e)) {
      expect(callRecordSchema.safeParse(u.record).success, JSON.stringify(u.record)).toBe(true);
      records.set(u.record.id, u.record);
      changes.push(`${u.record.id}:${u.change}`);
    }
    t += opts.stepMs ?? 1000;
  }
  return { records: [...records.values()], changes, tracker, advance: (ms: number) => (t += ms) };
}

const only = (records: CallRecord[]) => {
  expect(records).toHaveLength(1);
  return records[0]!;
};

describe('incoming answered through IVR and queue (ids _10 then _35)', () => {
  const flow = [
    ring('800', 'other', '230307114903_10-0'),
    ring('820', 'queue', '230307114903_10-0'),
    ring('202', 'ext', '230307114903_10-0'),
    start('202', '230307114903_10-1'),
    end('202', '230307140234_35-1', 'ok', 6),
    rec('202', '230307140234_35-1'),
  ];
  it('gives 202 one answered record with queue, duration and the recording', () => {
    const { records, changes } = run('202', flow);
    const r = only(records);
    expect(r).toMatchObject({ id: '230307114903_10', direction: 'incoming', status: 'ended', result: 'answered', number: N, queue: '820', durationSec: 6 });
    expect(r.recordings).toEqual(['https://pbx.example.com:5001/webapi/recording/230307140234_35-1-1.mp3']);
    expect(r.answeredAt).not.toBeNull();
    expect(changes).toEqual(['230307114903_10:ringing', '230307114903_10:answered', '230307114903_10:ended', '230307114903_10:recording']);
  });
  it('gives other extensions nothing', () => {
    expect(run('117', flow).records).toEqual([]);
  });
  it('changes nothing on duplicate deliveries', () => {
    const once = run('202', flow);
    const twice = run('202', flow.flatMap((e) => [e, e]));
    expect(twice.changes).toEqual(once.changes);
  });
});

describe('attended transfer 117 → 204', () => {
  const flow = [
    ring('800', 'other', '230307142318_40-0'),
    ring('820', 'queue', '230307142318_40-0'),
    ring('117', 'ext', '230307142318_40-0'),
    start('117', '230307142318_40-1'),
    start('204', '230307142318_40-2', 'attended'),
    ring('204', 'ext', '230307142318_40-1'),
    end('117', '230307142318_40-1', 'ok', 14, 'incoming', true),
    end('204', '230307142318_40-2', 'ok', 6),
    rec('204', '230307142318_40-2'),
    rec('117', '230307142318_40-1'),
  ];
  it('117: answered 14 s, transferred to 204, its own recording', () => {
    const r = only(run('117', flow).records);
    expect(r).toMatchObject({ result: 'answered', durationSec: 14, transferType: 'attended', transferredTo: '204', transferredFrom: null, queue: '820' });
    expect(r.recordings).toEqual(['https://pbx.example.com:5001/webapi/recording/230307142318_40-1-1.mp3']);
  });
  it('204: answered 6 s, transferred from 117, its own recording', () => {
    const r = only(run('204', flow).records);
    expect(r).toMatchObject({ result: 'answered', durationSec: 6, transferType: 'attended', transferredFrom: '117', transferredTo: null });
    expect(r.recordings).toEqual(['https://pbx.example.com:5001/webapi/recording/230307142318_40-2-1.mp3']);
  });
  it('117 stays talking after the transfer until its own end event', () => {
    const { records } = run('117', flow.slice(0, 6));
    expect(only(records)).toMatchObject({ status: 'talking', transferredTo: '204' });
  });
});

describe('blind transfer 117 → 204', () => {
  const flow = [
    ring('800', 'other', '230307144544_42-0'),
    ring('820', 'queue', '230307144544_42-0'),
    ring('117', 'ext', '230307144544_42-0'),
    start('117', '230307144544_42-1'),
    ring('204', 'ext', '230307144544_42-1'),
    start('204', '230307144544_42-2', 'blind'),
    end('204', '230307144544_42-2', 'ok', 4),
    rec('204', '230307144544_42-2'),
    rec('117', '230307144544_42-1'),
  ];
  it('117 ends at the transfer (it gets no end event)', () => {
    const { records, changes } = run('117', flow.slice(0, 6));
    expect(only(records)).toMatchObject({ status: 'ended', result: 'answered', transferType: 'blind', transferredTo: '204', durationSec: null });
    expect(changes.at(-1)).toBe('230307144544_42:transferred');
  });
  it('117 keeps its recording', () => {
    expect(only(run('117', flow).records).recordings).toHaveLength(1);
  });
  it('204 rings as a transfer from 117 and answers 4 s', () => {
    const { records, changes } = run('204', flow);
    expect(only(records)).toMatchObject({ result: 'answered', durationSec: 4, transferType: 'blind', transferredFrom: '117', recordings: ['https://pbx.example.com:5001/webapi/recording/230307144544_42-2-1.mp3'] });
    expect(changes[0]).toBe('230307144544_42:ringing');
  });
});

describe('missed calls', () => {
  it('queue missed: the end names the queue, 202 gets missed with queue 820, unseen', () => {
    const r = only(
      run('202', [
        ring('800', 'other', '230307115339_12-0'),
        ring('820', 'queue', '230307115339_12-0'),
        ring('202', 'ext', '230307115339_12-0'),
        end('820', '230307115339_12-0', 'missed', null),
      ]).records,
    );
    expect(r).toMatchObject({ status: 'ended', result: 'missed', queue: '820', seen: false, answeredAt: null, durationSec: null });
  });
  it('RingAll missed: the end names 204 only, both 117 and 204 missed', () => {
    const flow = [ring('800', 'other', '230307152319_52-0'), ring('117', 'ext', '230307152319_52-0'), ring('204', 'ext', '230307152319_52-0'), end('204', '230307152319_52-0', 'missed', null)];
    expect(only(run('117', flow).records)).toMatchObject({ result: 'missed' });
    expect(only(run('204', flow).records)).toMatchObject({ result: 'missed' });
  });
  it('the end with another id is matched by number (GET _15/_16)', () => {
    const r = only(run('102', [ring('102', 'ext', '230102104542_15-0', '420774852629', '420222000320'), end('804', '230102154720_16-0', 'missed', null, 'incoming', false, '420774852629')]).records);
    expect(r).toMatchObject({ id: '230102104542_15', result: 'missed', did: '420222000320' });
  });
});

describe('RingAll answered', () => {
  const flow = [
    ring('800', 'other', '230307151412_47-0'),
    ring('117', 'ext', '230307151412_47-0'),
    ring('204', 'ext', '230307151412_47-0'),
    start('117', '230307151412_47-1'),
    end('117', '230307151412_47-1', 'ok', 5),
    rec('117', '230307151412_47-1'),
  ];
  it('117 answered 5 s', () => {
    expect(only(run('117', flow).records)).toMatchObject({ result: 'answered', durationSec: 5 });
  });
  it('204 answered elsewhere by 117, as soon as 117 picks up', () => {
    const { records, changes } = run('204', flow);
    expect(only(records)).toMatchObject({ status: 'ended', result: 'answered-elsewhere', answeredBy: '117', recordings: [], seen: true });
    expect(changes).toEqual(['230307151412_47:ringing', '230307151412_47:answered-elsewhere']);
  });
  it('a ringing that arrives after a later leg was answered is closed at once', () => {
    const out = [flow[0]!, flow[1]!, flow[3]!, flow[2]!];
    expect(only(run('204', out).records)).toMatchObject({ result: 'answered-elsewhere', answeredBy: '117' });
  });
});

describe('outgoing', () => {
  it('answered: the end id 30307135611_31-1 (truncated) still ends the call', () => {
    const r = only(
      run('117', [dial('117', '230307135611_31-0'), start('117', '230307135611_31-1', null, 'outgoing'), end('117', '30307135611_31-1', 'ok', 5, 'outgoing'), rec('117', '230307135611_31-1')]).records,
    );
    expect(r).toMatchObject({ id: '230307135611_31', direction: 'outgoing', result: 'answered', durationSec: 5, number: N });
    expect(r.recordings).toHaveLength(1);
  });
  it('unanswered: missed but not counted as an unseen missed call', () => {
    const r = only(run('117', [dial('117', '230307140011_32-0'), end('117', '230307140011_32-0', 'missed', null, 'outgoing')]).records);
    expect(r).toMatchObject({ direction: 'outgoing', result: 'missed', seen: true });
  });
  it('MakeCall: the started event says MAKECALL, the number stays the dialled one', () => {
    const r = only(
      run('117', [dial('117', '230307154408_63-0'), start('117', '230307154408_63-1', null, 'outgoing', 'MAKECALL'), end('117', '230307154408_63-1', 'ok', 4, 'outgoing')]).records,
    );
    expect(r).toMatchObject({ number: N, result: 'answered', durationSec: 4 });
  });
  it('MakeCall with a started event under a new id and MAKECALL joins the open outgoing call', () => {
    const r = only(run('117', [dial('117', '230307154408_63-0'), start('117', '230307154499_70-1', null, 'outgoing', 'MAKECALL'), end('117', '230307154499_70-1', 'ok', 4, 'outgoing')]).records);
    expect(r).toMatchObject({ id: '230307154408_63', number: N, result: 'answered' });
  });
  it('MakeCall hung up: _64 then _66 is one record', () => {
    const r = only(run('117', [dial('117', '230307155208_64-0'), end('117', '230307155409_66-0', 'missed', null, 'outgoing')]).records);
    expect(r).toMatchObject({ id: '230307155208_64', result: 'missed' });
  });
  it('GET: started and end under _18 join the dial under _17, and the URL-only recording follows', () => {
    const r = only(
      run('102', [
        dial('102', '230102184431_17-0', '420774852629'),
        start('102', '230102185935_18-1', null, 'outgoing', '420774852629'),
        end('102', '230102185935_18-1', 'ok', 6, 'outgoing', false, '420774852629'),
        rec(null, '230102185935_18-1', null),
      ]).records,
    );
    expect(r).toMatchObject({ id: '230102184431_17', result: 'answered', durationSec: 6 });
    expect(r.recordings).toHaveLength(1);
  });
});

describe('out of order and unmatched events', () => {
  it('started before ringing: one talking record, the queue filled in later', () => {
    const { records } = run('202', [start('202', 'X_1-1'), ring('820', 'queue', 'X_1-0'), ring('202', 'ext', 'X_1-0')]);
    expect(only(records)).toMatchObject({ status: 'talking', queue: '820' });
  });
  it('recording before the end is kept', () => {
    const r = only(run('202', [ring('202', 'ext', 'X_2-0'), start('202', 'X_2-1'), rec('202', 'X_2-1'), end('202', 'X_2-1', 'ok', 9)]).records);
    expect(r).toMatchObject({ result: 'answered', durationSec: 9 });
    expect(r.recordings).toHaveLength(1);
  });
  it('an end for this extension that matches nothing becomes a record of its own', () => {
    expect(only(run('202', [end('202', 'Y_1-1', 'ok', 12)]).records)).toMatchObject({ id: 'Y_1', status: 'ended', result: 'answered', durationSec: 12, answeredAt: null });
  });
  it('a started event for this extension that matches nothing makes a talking record', () => {
    expect(only(run('202', [start('202', 'Y_2-1')]).records)).toMatchObject({ status: 'talking', direction: 'incoming' });
  });
  it('an unmatched end never ends a call with another number', () => {
    const { records } = run('202', [ring('202', 'ext', 'Z_1-0'), end('820', 'Z_9-0', 'missed', null, 'incoming', false, '0999')]);
    expect(only(records).status).toBe('ringing');
  });
  it('a colleague ending never ends this extension’s conversation', () => {
    const { records } = run('117', [ring('117', 'ext', 'Z_2-0'), start('117', 'Z_2-1'), end('204', 'Z_2-2', 'ok', 3)]);
    expect(only(records).status).toBe('talking');
  });
  it('a recording with an unknown id joins the latest call with that number ended in the last 10 minutes', () => {
    const a = run('202', [ring('202', 'ext', 'R_1-0'), start('202', 'R_1-1'), end('202', 'R_1-1', 'ok', 3)]);
    a.advance(9 * 60_000);
    const u = a.tracker.apply(rec('202', 'R_7-1'));
    expect(u).toHaveLength(1);
    expect(u[0]!.record.id).toBe('R_1');
    a.advance(2 * 60_000);
    expect(a.tracker.apply(rec('202', 'R_8-1'))).toEqual([]);
  });
  it('a colleague’s recording is not ours', () => {
    const a = run('202', [ring('202', 'ext', 'R_2-0'), start('202', 'R_2-1')]);
    expect(a.tracker.apply(rec('204', 'R_2-2'))).toEqual([]);
  });
  it('a withheld number is not matched against other users’ events', () => {
    const { records } = run('202', [ring('202', 'ext', 'W_1-0', ''), end('820', 'W_2-0', 'missed', null, 'incoming', false, '')]);
    expect(only(records).status).toBe('ringing');
  });
  it('unknown events are ignored', () => {
    expect(run('202', [{ type: 'unknown', name: 'parked' }]).records).toEqual([]);
  });
});

describe('timeouts and memory', () => {
  it('a ringing call with no news for the ring timeout is closed as missed', () => {
    const a = run('202', [ring('202', 'ext', 'T_1-0')]);
    a.advance(2 * 60_000);
    expect(a.tracker.tick()).toEqual([]);
    a.advance(60_000);
    const u = a.tracker.tick();
    expect(u.map((x) => [x.change, x.record.result])).toEqual([['missed', 'missed']]);
  });
  it('events of the call (other users included) keep it alive', () => {
    const a = run('202', [ring('202', 'ext', 'T_2-0')]);
    a.advance(150_000);
    a.tracker.apply(ring('203', 'ext', 'T_2-0'));
    a.advance(150_000);
    expect(a.tracker.tick()).toEqual([]);
  });
  it('an answered call is not closed for silence before the talk limit, then with unknown duration', () => {
    const a = run('202', [ring('202', 'ext', 'T_3-0'), start('202', 'T_3-1')]);
    a.advance(11 * 3600_000);
    expect(a.tracker.tick()).toEqual([]);
    a.advance(3600_000);
    const u = a.tracker.tick();
    expect(u[0]!.record).toMatchObject({ status: 'ended', result: 'answered', durationSec: null });
  });
  it('ended calls are forgotten after the recording window', () => {
    const a = run('202', [ring('202', 'ext', 'T_4-0'), end('820', 'T_4-0', 'missed', null)]);
    expect(a.tracker.size.own).toBe(1);
    a.advance(11 * 60_000);
    a.tracker.tick();
    expect(a.tracker.size.own).toBe(0);
  });
  it('calls of other extensions that never end stay bounded', () => {
    const t = 0;
    const tracker = new CallTracker({ extension: '202', now: () => t, maxForeignCalls: 1000 });
    for (let i = 0; i < 50_000; i++) tracker.apply(ring('300', 'ext', `F_${i}-0`));
    expect(tracker.size.foreign).toBeLessThanOrEqual(1000);
    expect(tracker.size.foreign).toBeGreaterThanOrEqual(500);
    expect(tracker.size.own).toBe(0);
  });
  it('restore re-adopts open calls so a restart does not lose the end', () => {
    const a = run('202', [ring('202', 'ext', 'S_1-0'), start('202', 'S_1-1')]);
    const open = a.tracker.openCalls();
    const fresh = new CallTracker({ extension: '202', now: () => Date.parse('2026-11-24T09:05:00Z') });
    fresh.restore(open);
    const u = fresh.apply(end('202', 'S_1-1', 'ok', 30));
    expect(u[0]!.record).toMatchObject({ id: 'S_1', status: 'ended', durationSec: 30 });
  });
});
