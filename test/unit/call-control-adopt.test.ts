// Issue 18 §1, restart: calls the call log holds open from before the process started are settled by
// the first reconcile against GET /callcontrol (CallControlTranslator.adopt): those the PBX no longer
// shows end with what was last known, those it still shows are taken up without being announced again,
// with their talk time counted from the logged answer, not from the restart.
import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../shared/call-record';
import { participantSchema, type DnInfo } from '../../main/core/call-control/schema';
import { CallControlTranslator } from '../../main/core/call-control/translate';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function record(o: { callid: number; status: 'ringing' | 'talking'; answeredAt?: number; direction?: 'incoming' | 'outgoing' }): CallRecord {
  return {
    id: `cc${o.callid}`,
    extension: '202',
    direction: o.direction ?? 'incoming',
    number: '05551239988',
    status: o.status,
    result: o.status === 'talking' ? 'answered' : null,
    startedAt: iso(T0),
    answeredAt: o.answeredAt === undefined ? null : iso(o.answeredAt),
    endedAt: null,
    durationSec: null,
    recordings: [],
    seen: false,
  } as unknown as CallRecord;
}

const connected = (callid: number): DnInfo[] => [
  { dn: '202', type: 'Wextension', participants: [participantSchema.parse({ id: 5, dn: '202', status: 'Connected', callid, party_caller_id: '05551239988', party_dn_type: 'Wexternalline' })] } as DnInfo,
];

describe('calls open from before a restart', () => {
  it('a talking call the PBX still shows is not announced again; its end counts the talk time from the logged answer', () => {
    let t = T0 + 60_000;
    const tr = new CallControlTranslator({ now: () => t });
    tr.adopt([record({ callid: 42, status: 'talking', answeredAt: T0 })]);
    expect(tr.reconcile(connected(42))).toEqual([]);
    t = T0 + 90_000;
    const end = tr.remove('202', 5);
    expect(end).toEqual([expect.objectContaining({ Event: 'incoming', User: '202', Finishtype: 'Ok', Duration: '01:30', Id: expect.stringMatching(/^cc42-/) })]);
  });

  it('a talking call the PBX no longer shows ends at the reconcile, talk time from the logged answer', () => {
    const t = T0 + 45_000;
    const tr = new CallControlTranslator({ now: () => t });
    tr.adopt([record({ callid: 43, status: 'talking', answeredAt: T0 })]);
    expect(tr.reconcile([{ dn: '202', type: 'Wextension', participants: [] } as DnInfo])).toEqual([
      expect.objectContaining({ Event: 'incoming', User: '202', Finishtype: 'Ok', Duration: '00:45' }),
    ]);
  });

  it('a ringing call the PBX no longer shows is missed once the grace ran out; an outgoing one that was dialling ends unanswered', () => {
    let t = T0 + 5000;
    const tr = new CallControlTranslator({ now: () => t, ringEndGraceMs: 2000 });
    tr.adopt([record({ callid: 44, status: 'ringing' }), record({ callid: 45, status: 'ringing', direction: 'outgoing' })]);
    const first = tr.reconcile([]);
    expect(first).toEqual([expect.objectContaining({ Event: 'outgoing', User: '202', Finishtype: 'Missed', Id: expect.stringMatching(/^cc45-/) })]);
    t += 2500;
    expect(tr.tick()).toEqual([expect.objectContaining({ Event: 'incoming', User: '202', Finishtype: 'Missed', Id: expect.stringMatching(/^cc44-/) })]);
  });

  it('a ringing call answered while the process was down is answered now, once; only the first reconcile takes carried calls', () => {
    const t = T0 + 5000;
    const tr = new CallControlTranslator({ now: () => t });
    tr.adopt([record({ callid: 46, status: 'ringing' })]);
    expect(tr.reconcile(connected(46))).toEqual([expect.objectContaining({ Event: 'incomingcall_started', User: '202' })]);
    expect(tr.reconcile(connected(46))).toEqual([]);
  });

  it('records of the WebAPI source (ids not cc<callid>) are left alone', () => {
    const tr = new CallControlTranslator({ now: () => T0 });
    tr.adopt([{ ...record({ callid: 1, status: 'ringing' }), id: '230307114903_10' } as CallRecord]);
    expect(tr.reconcile([])).toEqual([]);
    expect(tr.size.participants).toBe(0);
  });
});
