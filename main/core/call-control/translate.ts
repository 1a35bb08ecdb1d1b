// Call Control participant transitions → the 3CX WebAPI's webhook events, so both sources go through
// the one tracker model (shared/tracking/pbx-tracker.ts), the same durable ingest and the same call
// records: this file is the only place that knows how a participant's life maps onto a call's events.
// Pure: participants in, webhook field sets (the WebAPI POST shape) out; the clock is injected.
//
// The PBX sends no state with an event and no timestamps (see schema.ts for the sources), so we keep
// a cache per participant and per call and decide from transitions:
//   first seen Ringing → "ringing" (preceded by the queue's ringing when on_behalf_of names a queue or
//   ring group); first seen Dialing → "dialing"; → Connected → "*call_started" on a new leg (Trtype
//   Blind when the participant arrived Ringing with referred_by, Attended when it arrived Connected
//   with referred_by); removed after Connected → the end, talk time from our clock; removed while
//   Ringing → nothing at once: answered elsewhere is already known from the answerer's Connected, and
//   "missed" is said once the call has no participant left for `ringEndGraceMs` (a hunt moves on from
//   one phone to the next with a gap between the remove and the next upsert).
// An internal call from an extension that is already talking (a consult for an attended transfer) is
// folded into the call being transferred, as the WebAPI reports it: the target rings on that call.
// What is inferred rather than read in a source is listed in docs/deploy.md ("Without the WebAPI add-on").
import type { CallRecord } from '../../../shared/call-record';
import { participantSchema, type Participant, type DnInfo } from './schema';

/** One webhook as the WebAPI add-on would POST it (keys as in the seed document). */
export type WebhookFields = Record<string, string>;

export interface TranslatorOptions {
  now: () => number;
  /** How long a call with no participant left may still get one (hunt to the next phone). Default 2 s. */
  ringEndGraceMs?: number;
  /** Bound on calls and participants remembered (a PBX that never sends removes cannot grow us). Default 50,000. */
  maxEntries?: number;
}

type Direction = 'incoming' | 'outgoing';

interface Tracked {
  p: Participant;
  firstStatus: string;
  direction: Direction;
  connectedAt: number | null;
  leg: number;
  /** The call this participant is reported on (a consult is reported on the call being transferred). */
  reportedOn: number;
  /** A consult call's dialler: reports nothing. */
  silent: boolean;
  /** A consult target: rang on `reportedOn`, is not yet part of it. */
  consult: boolean;
}

interface CallState {
  id: number;
  leg: number;
  number: string;
  /** The PBX's name for the other party (party_caller_name), when it is more than the number. */
  name: string;
  did: string;
  queueAnnounced: boolean;
  answered: boolean;
  members: Set<string>;
  /** Extensions whose ring ended unanswered: missed if the call ends without an answer. */
  pendingMissed: Set<string>;
  /** Consult targets that left the consult call without joining this one (yet). */
  pendingConsult: Set<string>;
  /** Transferrers (blind) removed before their target answered: dn → [connectedAt, removedAt, leg]. */
  transferredAway: Map<string, [number, number, number]>;
  /** When the call, with no member left, is considered over. */
  endAt: number | null;
}

const QUEUE_TYPES = new Set(['Wqueue', 'Wringgroup']);
const EXTENSION_TYPE = 'Wextension';

const key = (dn: string, id: number) => `${dn}:${id}`;

export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export class CallControlTranslator {
  private readonly now: () => number;
  private readonly graceMs: number;
  private readonly maxEntries: number;
  private readonly parts = new Map<string, Tracked>();
  private readonly calls = new Map<number, CallState>();
  /** DN → type from the last snapshot ("Wextension", "Wqueue", …). */
  private readonly dnTypes = new Map<string, string>();
  /** Calls open in the call log from before this translator (a restart), settled by the first reconcile. */
  private carried: CallRecord[] = [];

  constructor(options: TranslatorOptions) {
    this.now = options.now;
    this.graceMs = options.ringEndGraceMs ?? 2000;
    this.maxEntries = options.maxEntries ?? 50_000;
  }

  /** The participant as last known (the cache the remove event relies on). */
  participant(dn: string, id: number): Participant | undefined {
    return this.parts.get(key(dn, id))?.p;
  }

  get size(): { participants: number; calls: number } {
    return { participants: this.parts.size, calls: this.calls.size };
  }

  /**
   * Calls the call log holds open from before this translator existed (the process restarted): the
   * first reconcile ends those the PBX no longer shows with what was last known (a ring → missed, a
   * talk → ended, its talk time from the logged answer) and takes up those it still shows without
   * announcing them again. Only Call Control's own ids (`cc<callid>`) are taken.
   */
  adopt(open: readonly CallRecord[]): void {
    this.carried = open.filter((r) => /^cc\d{1,15}$/.test(r.id) && r.status !== 'ended');
  }

  /** Whole-PBX snapshot (GET /callcontrol) after a (re)connect: what vanished ends, what is new begins. */
  reconcile(snapshot: readonly DnInfo[]): WebhookFields[] {
    const out: WebhookFields[] = [];
    const present = new Set<string>();
    for (const d of snapshot) {
      if (d.type) this.dnTypes.set(d.dn, d.type);
      for (const p of d.participants ?? []) present.add(key(p.dn, p.id));
    }
    if (this.carried.length > 0) this.takeUpCarried(snapshot, out);
    for (const [k, t] of [...this.parts]) if (!present.has(k)) out.push(...this.remove(t.p.dn, t.p.id));
    for (const d of snapshot) for (const p of d.participants ?? []) out.push(...this.upsert(p));
    return out;
  }

  upsert(p: Participant): WebhookFields[] {
    const out: WebhookFields[] = [];
    if (p.status !== 'Ringing' && p.status !== 'Dialing' && p.status !== 'Connected') return out;
    const k = key(p.dn, p.id);
    const prev = this.parts.get(k);
    if (prev) {
      const before = prev.p.status;
      prev.p = p;
      if (before !== 'Connected' && p.status === 'Connected') this.connected(prev, out);
      return out;
    }
    if (this.parts.size >= this.maxEntries) this.evictOldest(out);
    const call = this.call(p.callid);
    call.members.add(k);
    call.endAt = null;
    const t: Tracked = {
      p,
      firstStatus: p.status,
      direction: this.directionOf(p),
      connectedAt: null,
      leg: call.leg,
      reportedOn: p.callid,
      silent: false,
      consult: false,
    };
    this.parts.set(k, t);
    if (!this.isQueue(p.dn)) this.consultCheck(t, call);
    if (t.silent) return out;
    const shown = this.call(t.reportedOn);
    shown.pendingConsult.delete(p.dn);
    shown.pendingMissed.delete(p.dn);
    if (!t.consult) {
      if (!shown.number && p.party_caller_id) shown.number = p.party_caller_id;
      if (!shown.did && p.party_did) shown.did = p.party_did;
      // The captures show the number itself as the "name" ("+49123456789"): that is no name.
      const name = p.party_caller_name.trim();
      if (!shown.name && name && !/^[+\d\s().-]+$/.test(name)) {
        shown.name = p.party_caller_name.trim().slice(0, 128);
      }
    }
    if (this.isQueue(p.dn)) {
      this.announceQueue(shown, p.dn, out);
      return out;
    }
    if (QUEUE_TYPES.has(p.on_behalf_of_type) && p.on_behalf_of_dn) this.announceQueue(shown, p.on_behalf_of_dn, out);
    t.leg = shown.leg;
    if (t.direction === 'outgoing') out.push(this.fields(shown, 'dialing', p.dn, t.leg));
    else if (p.status !== 'Connected' || !p.referred_by_dn) out.push(this.fields(shown, 'ringing', p.dn, t.leg));
    if (p.status === 'Connected') this.connected(t, out);
    return out;
  }

  remove(dn: string, id: number): WebhookFields[] {
    const out: WebhookFields[] = [];
    const k = key(dn, id);
    const t = this.parts.get(k);
    if (!t) return out;
    this.parts.delete(k);
    const own = this.calls.get(t.p.callid);
    own?.members.delete(k);
    const shown = this.calls.get(t.reportedOn);
    if (shown && !t.silent && !this.isQueue(dn)) {
      if (t.consult) {
        // Left the consult call: joined the transferred call (its upsert may come next), or the consult was abandoned.
        if (!this.memberOn(shown, dn)) shown.pendingConsult.add(dn);
      } else if (t.connectedAt !== null) {
        const referee = [...shown.members].map((m) => this.parts.get(m)).find((o) => o?.p.referred_by_dn === dn && o.connectedAt === null);
        if (referee) shown.transferredAway.set(dn, [t.connectedAt, this.now(), t.leg]);
        else out.push(this.ended(shown, t, 'Ok', this.referredAway(shown, dn), this.now()));
      } else if (t.direction === 'outgoing') {
        out.push(this.ended(shown, t, 'Missed', false, this.now()));
      } else if (!shown.answered) {
        shown.pendingMissed.add(dn);
      }
    }
    for (const c of new Set([own, shown])) if (c && c.members.size === 0 && c.endAt === null) c.endAt = this.now() + this.graceMs;
    return out;
  }

  /** Settle calls whose grace ran out (call every few hundred ms; tests call it with their clock). */
  tick(): WebhookFields[] {
    const out: WebhookFields[] = [];
    const now = this.now();
    for (const call of [...this.calls.values()]) {
      if (call.endAt === null || call.endAt > now) continue;
      this.settle(call, out);
      this.calls.delete(call.id);
    }
    return out;
  }

  /**
   * Each carried call becomes a tracked participant again, silently, in the state the log last knew: the
   * PBX's own participant when the snapshot still has it (its news since then follows as usual), else a
   * stand-in that is removed at once, so the normal remove rules end it.
   */
  private takeUpCarried(snapshot: readonly DnInfo[], out: WebhookFields[]): void {
    const carried = this.carried;
    this.carried = [];
    let standIn = -1;
    for (const r of carried) {
      const callid = Number(r.id.slice(2));
      const found = snapshot.find((d) => d.dn === r.extension)?.participants?.find((p) => p.callid === callid);
      const status = r.status === 'talking' ? 'Connected' : r.direction === 'outgoing' ? 'Dialing' : 'Ringing';
      const base: Participant = found ?? participantSchema.parse({ id: 0, dn: r.extension, status, callid, party_caller_id: r.number.slice(0, 256) });
      // Not in the PBX's id space (ids are non-negative): never confused with a real participant.
      const p: Participant = { ...base, id: found ? base.id : standIn--, status };
      this.upsert(p); // already in the log: nothing to announce
      const t = this.parts.get(key(p.dn, p.id));
      if (!t) continue;
      t.direction = r.direction;
      if (r.status === 'talking') {
        t.connectedAt = Date.parse(r.answeredAt) || this.now();
        const call = this.calls.get(t.reportedOn);
        if (call) call.answered = true;
      }
      if (!found) out.push(...this.remove(p.dn, p.id));
    }
  }

  // --- transitions --------------------------------------------------------------------------

  private connected(t: Tracked, out: WebhookFields[]): void {
    if (t.silent || t.connectedAt !== null) return;
    t.connectedAt = this.now();
    if (t.consult || this.isQueue(t.p.dn)) return;
    const call = this.call(t.reportedOn);
    call.answered = true;
    call.pendingMissed.clear();
    const referrer = t.p.referred_by_dn;
    const trtype = referrer ? (t.firstStatus === 'Connected' ? 'Attended' : 'Blind') : 'NotDef';
    t.leg = ++call.leg;
    out.push(this.fields(call, t.direction === 'outgoing' ? 'outgoingcall_started' : 'incomingcall_started', t.p.dn, t.leg, { Trtype: trtype }));
    // A blind transferrer removed before its target answered: its talk time is known now.
    const away = referrer ? call.transferredAway.get(referrer) : undefined;
    if (referrer && away) {
      call.transferredAway.delete(referrer);
      const [from, to, leg] = away;
      out.push(this.fields(call, 'incoming', referrer, leg, { Finishtype: 'Ok', Transfer: 'True', Duration: formatDuration((to - from) / 1000) }));
    }
  }

  private settle(call: CallState, out: WebhookFields[]): void {
    if (!call.answered) for (const dn of call.pendingMissed) out.push(this.fields(call, 'incoming', dn, call.leg, { Finishtype: 'Missed', Transfer: 'False', Duration: '' }));
    // An abandoned consult: the target's ring on the transferred call ended unanswered.
    for (const dn of call.pendingConsult) out.push(this.fields(call, 'incoming', dn, call.leg, { Finishtype: 'Missed', Transfer: 'False', Duration: '' }));
    for (const [dn, [from, to, leg]] of call.transferredAway) {
      out.push(this.fields(call, 'incoming', dn, leg, { Finishtype: 'Ok', Transfer: 'False', Duration: formatDuration((to - from) / 1000) }));
    }
  }

  private ended(call: CallState, t: Tracked, finish: 'Ok' | 'Missed', transfer: boolean, at: number): WebhookFields {
    const duration = finish === 'Ok' && t.connectedAt !== null ? formatDuration((at - t.connectedAt) / 1000) : '';
    return this.fields(call, t.direction, t.p.dn, t.leg, { Finishtype: finish, Transfer: transfer ? 'True' : 'False', Duration: duration });
  }

  /** Someone on the call was referred by `dn`: its leg ended by a transfer. */
  private referredAway(call: CallState, dn: string): boolean {
    for (const m of call.members) if (this.parts.get(m)?.p.referred_by_dn === dn) return true;
    return false;
  }

  /**
   * An internal call between an extension already talking on another call and a colleague is a
   * consult (attended transfer): the dialler reports nothing, the target rings on the talking call.
   */
  private consultCheck(t: Tracked, call: CallState): void {
    const p = t.p;
    if (p.party_dn_type !== EXTENSION_TYPE || !p.party_dn || p.referred_by_dn) return;
    if (p.status === 'Dialing') {
      const talking = this.talkingCallOf(p.dn, p.callid);
      if (talking !== null) t.silent = true;
      return;
    }
    const talking = this.talkingCallOf(p.party_dn, p.callid);
    if (talking === null) return;
    t.consult = true;
    t.reportedOn = talking;
    t.direction = 'incoming';
    void call;
  }

  /** The call (other than `not`) on which `dn` is Connected with a party outside the PBX's extensions. */
  private talkingCallOf(dn: string, not: number): number | null {
    for (const t of this.parts.values()) {
      if (t.p.dn === dn && t.p.callid !== not && t.connectedAt !== null && !t.silent && !t.consult) return t.reportedOn;
    }
    return null;
  }

  private memberOn(call: CallState, dn: string): boolean {
    for (const m of call.members) if (this.parts.get(m)?.p.dn === dn && !this.parts.get(m)?.consult) return true;
    return false;
  }

  private announceQueue(call: CallState, queue: string, out: WebhookFields[]): void {
    if (call.queueAnnounced) return;
    call.queueAnnounced = true;
    out.push(this.fields(call, 'ringing', queue, call.leg, { Usertype: 'queue' }));
  }

  private directionOf(p: Participant): Direction {
    if (p.status === 'Dialing') return 'outgoing';
    if (p.status === 'Ringing' || p.referred_by_dn) return 'incoming';
    // Connected at first sight (a reconnect): only who originated it can tell. Not confirmed on a real PBX.
    return p.originated_by_dn === p.dn ? 'outgoing' : 'incoming';
  }

  private isQueue(dn: string): boolean {
    return QUEUE_TYPES.has(this.dnTypes.get(dn) ?? '');
  }

  private call(id: number): CallState {
    let c = this.calls.get(id);
    if (!c) {
      c = {
        id,
        leg: 0,
        number: '',
        name: '',
        did: '',
        queueAnnounced: false,
        answered: false,
        members: new Set(),
        pendingMissed: new Set(),
        pendingConsult: new Set(),
        transferredAway: new Map(),
        endAt: null,
      };
      this.calls.set(id, c);
    }
    return c;
  }

  /** Past the bound, the oldest participant is treated as removed (the PBX never said so). */
  private evictOldest(out: WebhookFields[]): void {
    const first = this.parts.values().next().value;
    if (first) out.push(...this.remove(first.p.dn, first.p.id));
    while (this.calls.size >= this.maxEntries) {
      const c = this.calls.values().next().value;
      if (!c) break;
      this.calls.delete(c.id);
    }
  }

  private fields(call: CallState, event: string, user: string, leg: number, extra: WebhookFields = {}): WebhookFields {
    const f: WebhookFields = { Event: event, Callerid: call.number, User: user };
    if (event === 'ringing') f.Usertype = 'ext';
    if ((event === 'ringing' || event === 'dialing') && call.name) f.Callername = call.name;
    Object.assign(f, extra);
    if (event !== 'dialing') f.Did = call.did;
    f.Id = `cc${call.id}-${leg}`;
    return f;
  }
}
