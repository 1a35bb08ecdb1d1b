// Every call flow of the seed document (/work/shared/seeds/3cx-webapi-webhooks.md, as data in
// shared/webhook/seed-flows.ts) as what 3CX's Call Control API would show of it: participant
// upserts and removes on the monitored DNs, with the seconds at which they happen (so talk times from
// our clock match the seed's "Duration").
//
// Participant fields as in the live captures quoted in qmexnetworks/3cx-zammad-bridge
// `bridge_3cx_post20.go` (party_dn "10007" is the trunk, party_dn_type "Wexternalline",
// originated_by "ROUTER"/"Wroutepoint" for an inbound call, "" / "None" for an outbound one).
// Not confirmed without a real PBX, and chosen as the most plausible reading (docs/deploy.md lists them):
// - queue / ring group calls carry on_behalf_of_dn = the queue (type "Wqueue" / "Wringgroup");
// - a blind transfer (transferto) replaces the transferrer: the target is upserted Ringing with
//   referred_by_dn = the transferrer, then the transferrer is removed;
// - an attended transfer is a consult call (a second callid) from the agent to the colleague; on
//   completion the consult call's participants are removed and the colleague appears Connected on the
//   original call with referred_by_dn = the agent, then the agent is removed;
// - a MakeCall from a DN shows that DN's participant as Dialing, originated by the API's route point.
import type { ParticipantWire } from '../../main/core/call-control/schema';
import type { CallRecord } from '../../shared/call-record';
import { asExpected } from '../../shared/webhook/seed-flows';

export type ScenarioStep =
  | { at: number; upsert: ParticipantWire }
  | { at: number; remove: { dn: string; id: number } };

export interface Scenario {
  /** The seed flow's name (shared/webhook/seed-flows.ts). */
  flow: string;
  /** Monitored DNs and their types, as GET /callcontrol lists them. */
  dns: Readonly<Record<string, string>>;
  steps: readonly ScenarioStep[];
}

export const TRUNK = '10007';
export const RING_GROUP = '830';

interface PartOpts {
  id: number;
  dn: string;
  status: 'Ringing' | 'Dialing' | 'Connected';
  callid: number;
  legid?: number;
  callerId: string;
  name?: string;
  did?: string;
  partyDn?: string;
  partyType?: string;
  onBehalfOf?: [string, string];
  referredBy?: string;
  inbound?: boolean;
}

/** A participant in the wire shape, every field present as in the captures. */
export function participant(o: PartOpts): ParticipantWire {
  const inbound = o.inbound ?? o.status !== 'Dialing';
  return {
    id: o.id,
    status: o.status,
    dn: o.dn,
    party_caller_name: o.name ?? '',
    party_dn: o.partyDn ?? TRUNK,
    party_caller_id: o.callerId,
    party_did: o.did ?? '',
    device_id: `sip:${o.dn}@127.0.0.1:5063`,
    party_dn_type: o.partyType ?? 'Wexternalline',
    direct_control: false,
    originated_by_dn: inbound ? 'ROUTER' : '',
    originated_by_type: inbound ? 'Wroutepoint' : 'None',
    referred_by_dn: o.referredBy ?? '',
    referred_by_type: o.referredBy ? 'Wextension' : 'None',
    on_behalf_of_dn: o.onBehalfOf?.[0] ?? '',
    on_behalf_of_type: o.onBehalfOf?.[1] ?? 'None',
    callid: o.callid,
    legid: o.legid ?? 1,
  };
}

const C = '05551239988';
const GET_C = '420774852629';
const GET_DID = '420222000320';
const ext = (...dns: string[]) => Object.fromEntries(dns.map((d) => [d, 'Wextension']));

/** One incoming call from C ("ACME Ltd"): rings `dn`, optionally answered, ended at `end`. */
export function simple(callid: number, dn: string, o: { callerId?: string; did?: string; queue?: [string, string]; answerAt?: number; end: number }): ScenarioStep[] {
  const base = { id: callid * 10, dn, callid, callerId: o.callerId ?? C, name: 'ACME Ltd', ...(o.did ? { did: o.did } : {}), ...(o.queue ? { onBehalfOf: o.queue } : {}) };
  const steps: ScenarioStep[] = [{ at: 0, upsert: participant({ ...base, status: 'Ringing' }) }];
  if (o.answerAt !== undefined) steps.push({ at: o.answerAt, upsert: participant({ ...base, status: 'Connected' }) });
  steps.push({ at: o.end, remove: { dn, id: base.id } });
  return steps;
}

/** One incoming call ringing every [dn, participant id] at once (a ring-all group): answered by the first at `answerAt`, or missed. */
function ringAll(callid: number, phones: readonly (readonly [string, number])[], o: { answerAt?: number; end: number }): ScenarioStep[] {
  const part = (dn: string, id: number, status: 'Ringing' | 'Connected') => participant({ id, dn, status, callid, callerId: C, onBehalfOf: RG });
  const steps: ScenarioStep[] = phones.map(([dn, id]) => ({ at: 0, upsert: part(dn, id, 'Ringing') }));
  if (o.answerAt === undefined) {
    for (const [dn, id] of phones) steps.push({ at: o.end, remove: { dn, id } });
    return steps;
  }
  const [[dn, id], ...others] = phones as [readonly [string, number], ...(readonly [string, number])[]];
  steps.push({ at: o.answerAt, upsert: part(dn, id, 'Connected') });
  for (const [odn, oid] of others) steps.push({ at: o.answerAt, remove: { dn: odn, id: oid } });
  steps.push({ at: o.end, remove: { dn, id } });
  return steps;
}

function outgoing(callid: number, dn: string, o: { callerId?: string; answerAt?: number; end: number; makecall?: boolean }): ScenarioStep[] {
  const base = { id: callid * 10, dn, callid, callerId: o.callerId ?? C, inbound: false };
  const p = (status: 'Dialing' | 'Connected') => {
    const w = participant({ ...base, status });
    return o.makecall ? { ...w, originated_by_dn: 'callpop', originated_by_type: 'Wroutepoint' } : w;
  };
  const steps: ScenarioStep[] = [{ at: 0, upsert: p('Dialing') }];
  if (o.answerAt !== undefined) steps.push({ at: o.answerAt, upsert: p('Connected') });
  steps.push({ at: o.end, remove: { dn, id: base.id } });
  return steps;
}

const Q820: [string, string] = ['820', 'Wqueue'];
const Q804: [string, string] = ['804', 'Wqueue'];
const RG: [string, string] = [RING_GROUP, 'Wringgroup'];

export const scenarios: readonly Scenario[] = [
  { flow: 'incoming-answered', dns: ext('202'), steps: simple(1001, '202', { queue: Q820, answerAt: 2, end: 8 }) },
  {
    flow: 'incoming-attended-transfer',
    dns: ext('117', '204'),
    steps: [
      { at: 0, upsert: participant({ id: 11, dn: '117', status: 'Ringing', callid: 1002, callerId: C, onBehalfOf: Q820 }) },
      { at: 1, upsert: participant({ id: 11, dn: '117', status: 'Connected', callid: 1002, callerId: C, onBehalfOf: Q820 }) },
      // 117 consults 204: a second call between the two extensions.
      { at: 5, upsert: participant({ id: 12, dn: '117', status: 'Dialing', callid: 1003, callerId: '204', partyDn: '204', partyType: 'Wextension', inbound: false }) },
      { at: 5, upsert: participant({ id: 13, dn: '204', status: 'Ringing', callid: 1003, callerId: '117', partyDn: '117', partyType: 'Wextension', name: 'Anna Kaya' }) },
      { at: 7, upsert: participant({ id: 13, dn: '204', status: 'Connected', callid: 1003, callerId: '117', partyDn: '117', partyType: 'Wextension', name: 'Anna Kaya' }) },
      // Transfer completes: the consult call goes, 204 takes 117's place on the caller's call.
      { at: 15, remove: { dn: '117', id: 12 } },
      { at: 15, remove: { dn: '204', id: 13 } },
      { at: 15, upsert: participant({ id: 14, dn: '204', status: 'Connected', callid: 1002, callerId: C, onBehalfOf: Q820, referredBy: '117' }) },
      { at: 15, remove: { dn: '117', id: 11 } },
      { at: 21, remove: { dn: '204', id: 14 } },
    ],
  },
  {
    flow: 'incoming-blind-transfer',
    dns: ext('117', '204'),
    steps: [
      { at: 0, upsert: participant({ id: 21, dn: '117', status: 'Ringing', callid: 1004, callerId: C, onBehalfOf: Q820 }) },
      { at: 1, upsert: participant({ id: 21, dn: '117', status: 'Connected', callid: 1004, callerId: C, onBehalfOf: Q820 }) },
      { at: 4, upsert: participant({ id: 22, dn: '204', status: 'Ringing', callid: 1004, callerId: C, onBehalfOf: Q820, referredBy: '117' }) },
      { at: 4, remove: { dn: '117', id: 21 } },
      { at: 6, upsert: participant({ id: 22, dn: '204', status: 'Connected', callid: 1004, callerId: C, onBehalfOf: Q820, referredBy: '117' }) },
      { at: 10, remove: { dn: '204', id: 22 } },
    ],
  },
  { flow: 'incoming-missed', dns: ext('202'), steps: simple(1005, '202', { queue: Q820, end: 20 }) },
  { flow: 'hunt-answered', dns: ext('117'), steps: simple(1006, '117', { queue: RG, answerAt: 3, end: 7 }) },
  { flow: 'hunt-missed', dns: ext('117'), steps: simple(1007, '117', { queue: RG, end: 20 }) },
  { flow: 'ringall-answered', dns: ext('117', '204'), steps: ringAll(1008, [['117', 31], ['204', 32]], { answerAt: 3, end: 8 }) },
  { flow: 'ringall-missed', dns: ext('117', '204'), steps: ringAll(1009, [['117', 41], ['204', 42]], { end: 20 }) },
  { flow: 'outgoing-answered', dns: ext('117'), steps: outgoing(1010, '117', { answerAt: 3, end: 8 }) },
  { flow: 'outgoing-unanswered', dns: ext('117'), steps: outgoing(1011, '117', { end: 20 }) },
  { flow: 'makecall-answered', dns: ext('117'), steps: outgoing(1012, '117', { answerAt: 3, end: 7, makecall: true }) },
  { flow: 'makecall-hangup', dns: ext('117'), steps: outgoing(1013, '117', { end: 4, makecall: true }) },
  { flow: 'get-incoming-answered', dns: ext('102'), steps: simple(1014, '102', { callerId: GET_C, did: GET_DID, queue: Q804, answerAt: 2, end: 9 }) },
  { flow: 'get-incoming-missed', dns: ext('102'), steps: simple(1015, '102', { callerId: GET_C, did: GET_DID, queue: Q804, end: 20 }) },
  { flow: 'get-outgoing-answered', dns: ext('102'), steps: outgoing(1016, '102', { callerId: GET_C, answerAt: 3, end: 9 }) },
  { flow: 'get-outgoing-unanswered', dns: ext('102'), steps: outgoing(1017, '102', { callerId: GET_C, end: 20 }) },
];

/**
 * Fields one source cannot know, per flow and extension: the comparison test skips exactly these
 * (and docs/deploy.md tables them). Everything else must be equal.
 */
export const knownDifferences: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  // Call Control names the ring group (on_behalf_of); the WebAPI's ring-group flows never do.
  'hunt-answered': { '117': ['queue'] },
  'hunt-missed': { '117': ['queue'] },
  'ringall-answered': { '117': ['queue'], '204': ['queue'] },
  'ringall-missed': { '117': ['queue'], '204': ['queue'] },
  // A blind transferrer gets no end webhook (talk time unknown); Call Control sees its participant go.
  'incoming-blind-transfer': { '117': ['durationSec'] },
};

export function findScenario(flow: string): Scenario {
  const s = scenarios.find((x) => x.flow === flow);
  if (!s) throw new Error(`no Call Control scenario for ${flow}`);
  return s;
}

/** A record as both sources must agree on it: no id (cc<callid> vs the PBX's), no recordings, minus `skip`. */
export function comparable(r: CallRecord, skip: readonly string[]): Record<string, unknown> {
  const e: Record<string, unknown> = { ...asExpected(r), status: r.status };
  delete e.id;
  delete e.recordings;
  for (const f of skip) delete e[f];
  return e;
}
