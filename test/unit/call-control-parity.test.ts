// Issue 18 §1: every seed flow of the WebAPI document has a Call Control counterpart
// (test/support/call-control-scenarios.ts), and both give the same record for every extension
// involved, through the one tracker model. Fields one source cannot know are listed in
// `knownDifferences` (and in docs/deploy.md); everything else must be equal. Ids differ by nature
// (3CX WebAPI "230307114903_10" vs Call Control callid "cc1001"); recordings come only from the WebAPI.
import { describe, expect, it } from 'vitest';
import { callRecordSchema, type CallRecord } from '../../shared/call-record';
import { PbxTracker } from '../../shared/tracking/pbx-tracker';
import type { RawWebhook } from '../../shared/webhook/event';
import { parseWebhook } from '../../shared/webhook/parse';
import { flowRequests, seedFlows } from '../../shared/webhook/seed-flows';
import { participantSchema } from '../../main/core/call-control/schema';
import { CallControlTranslator, type WebhookFields } from '../../main/core/call-control/translate';
import { toRawWebhook } from '../../main/core/call-control/to-webhook';
import { comparable, findScenario, knownDifferences } from '../support/call-control-scenarios';

const T0 = Date.parse('2026-12-07T10:00:00Z');

function track(tracker: PbxTracker, raws: RawWebhook[], records: Map<string, CallRecord>): void {
  for (const raw of raws) {
    const p = parseWebhook(raw);
    if (!p.ok) throw new Error(`${p.error}: ${raw.body}`);
    for (const u of tracker.apply(p.event)) {
      expect(callRecordSchema.safeParse(u.record).success).toBe(true);
      records.set(u.record.extension, u.record);
    }
  }
}

function viaWebhooks(flow: (typeof seedFlows)[number]): Map<string, CallRecord> {
  let t = T0;
  const tracker = new PbxTracker({ now: () => (t += 1000) });
  const records = new Map<string, CallRecord>();
  track(tracker, flowRequests(flow, { validJson: true }), records);
  return records;
}

function viaCallControl(flowName: string): { records: Map<string, CallRecord>; open: number; webhooks: WebhookFields[] } {
  let t = T0;
  const now = () => t;
  const tracker = new PbxTracker({ now });
  const translator = new CallControlTranslator({ now });
  const records = new Map<string, CallRecord>();
  const webhooks: WebhookFields[] = [];
  const send = (list: WebhookFields[]) => {
    webhooks.push(...list);
    track(tracker, list.map(toRawWebhook), records);
  };
  for (const step of findScenario(flowName).steps) {
    t = T0 + step.at * 1000;
    send(translator.tick());
    if ('upsert' in step) send(translator.upsert(participantSchema.parse(step.upsert)));
    else send(translator.remove(step.remove.dn, step.remove.id));
  }
  t += 60_000;
  send(translator.tick());
  return { records, open: tracker.openCalls().length, webhooks };
}

describe('every seed flow through the WebAPI and through Call Control gives the same records', () => {
  it.each(seedFlows.map((f) => [f.name, f] as const))('%s', (name, flow) => {
    const web = viaWebhooks(flow);
    const cc = viaCallControl(name);
    expect([...cc.records.keys()].sort(), JSON.stringify(cc.webhooks)).toEqual([...web.keys()].sort());
    for (const [ext, w] of web) {
      const skip = knownDifferences[name]?.[ext] ?? [];
      const c = cc.records.get(ext)!;
      expect(comparable(c, skip), `${name} ${ext}: ${JSON.stringify(cc.webhooks)}`).toEqual(comparable(w, skip));
      expect(c.id).toMatch(/^cc\d+$/);
    }
    expect(cc.open).toBe(0);
  });

  it('the known differences are real: Call Control knows the ring group and the blind transferrer’s talk time', () => {
    expect(viaCallControl('ringall-answered').records.get('204')?.queue).toBe('830');
    expect(viaWebhooks(seedFlows.find((f) => f.name === 'ringall-answered')!).get('204')?.queue).toBeNull();
    expect(viaCallControl('incoming-blind-transfer').records.get('117')?.durationSec).toBe(3);
  });

  it('the PBX’s caller name reaches the record (Call Control only); a "name" that is only the number does not', () => {
    expect(viaCallControl('incoming-answered').records.get('202')?.callerName).toBe('ACME Ltd');
    expect(viaWebhooks(seedFlows.find((f) => f.name === 'incoming-answered')!).get('202')?.callerName).toBeUndefined();
    let t = T0;
    const tracker = new PbxTracker({ now: () => t });
    const tr = new CallControlTranslator({ now: () => (t += 1000) });
    const records = new Map<string, CallRecord>();
    const p = participantSchema.parse({ id: 1, dn: '150', status: 'Ringing', callid: 1264, party_caller_id: '0123456789', party_caller_name: '+49123456789' });
    track(tracker, tr.upsert(p).map(toRawWebhook), records);
    expect(records.get('150')).toMatchObject({ status: 'ringing', number: '0123456789' });
    expect(records.get('150')?.callerName).toBeUndefined();
  });
});

/** A translator and a tracker on one settable clock (ring-end grace 2 s), the records by extension. */
function translatorHarness() {
  const clock = { t: T0 };
  const now = () => clock.t;
  const tracker = new PbxTracker({ now });
  const tr = new CallControlTranslator({ now, ringEndGraceMs: 2000 });
  const records = new Map<string, CallRecord>();
  const send = (l: WebhookFields[]) => track(tracker, l.map(toRawWebhook), records);
  return { clock, tr, records, send };
}

describe('ring end is exact', () => {
  it('a ring removed while the call goes on to the next phone (hunt) is not missed; the colleague answering makes it answered elsewhere', () => {
    const { clock, tr, records, send } = translatorHarness();
    const p = (id: number, dn: string, status: string) =>
      participantSchema.parse({ id, dn, status, callid: 77, party_caller_id: '05551239988', party_dn_type: 'Wexternalline' });
    send(tr.upsert(p(1, '117', 'Ringing')));
    clock.t += 10_000;
    send(tr.remove('117', 1));
    clock.t += 1000; // the gap before the hunt reaches the next phone
    send(tr.tick());
    expect(records.get('117')?.status).toBe('ringing');
    send(tr.upsert(p(2, '204', 'Ringing')));
    clock.t += 5000;
    send(tr.tick());
    send(tr.upsert(p(2, '204', 'Connected')));
    expect(records.get('117')).toMatchObject({ status: 'ended', result: 'answered-elsewhere', answeredBy: '204' });
  });

  it('a ring removed with nobody left is missed once the grace ran out, not before', () => {
    const { clock, tr, records, send } = translatorHarness();
    send(tr.upsert(participantSchema.parse({ id: 1, dn: '117', status: 'Ringing', callid: 78, party_caller_id: '0555' })));
    clock.t += 4000;
    send(tr.remove('117', 1));
    clock.t += 1999;
    send(tr.tick());
    expect(records.get('117')?.status).toBe('ringing');
    clock.t += 1;
    send(tr.tick());
    expect(records.get('117')).toMatchObject({ status: 'ended', result: 'missed' });
    expect(tr.size).toEqual({ participants: 0, calls: 0 });
  });

  it('reconcile: a call that ended while disconnected ends with what was last known, one that began is created', () => {
    const { clock, tr, records, send } = translatorHarness();
    send(tr.upsert(participantSchema.parse({ id: 1, dn: '117', status: 'Connected', callid: 80, party_caller_id: '0555111', originated_by_dn: 'ROUTER' })));
    clock.t += 30_000;
    send(tr.reconcile([{ dn: '117', type: 'Wextension', participants: [participantSchema.parse({ id: 2, dn: '204', status: 'Ringing', callid: 81, party_caller_id: '0555222' })] }]));
    expect(records.get('117')).toMatchObject({ status: 'ended', result: 'answered', durationSec: 30, number: '0555111' });
    expect(records.get('204')).toMatchObject({ status: 'ringing', number: '0555222' });
  });
});
