// Call tracker: turns the PBX-wide webhook stream into the calls of ONE extension.
// Pure: events in, call updates out; the clock is injected.
//
// The 3CX WebAPI posts every event of the whole PBX to one URL, and what it sends is uneven
// (see shared/seeds/3cx-webapi-webhooks.md): the end event of a missed queue call names the
// queue, a RingAll end names only one of the ringing extensions, ids change between ringing and
// end (…_10 then …_35), the MakeCall "started" event carries "MAKECALL" as the number, and a blind
// transfer's transferrer gets no end event at all. So the tracker keeps a little PBX-wide
// knowledge per call id (queue, DID, who answered which leg), bounded by an LRU, and a record per
// call of this extension.
import type { CallChange, CallRecord, CallResult, CallUpdate, Direction, EndedCall, RingingCall, TalkingCall } from './call-record';
import { LruMap } from './lru';
import type { CallEvent, EndedEvent, RecordingEvent, RingingEvent, StartedEvent, DialingEvent, WebhookEvent } from './webhook/event';

export interface TrackerOptions {
  /** This user's extension. */
  extension: string;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** A ringing call with no event for this long is closed as missed. Default 3 min. */
  ringTimeoutMs?: number;
  /** An answered call with no end event is closed after this long, duration unknown. Default 12 h. */
  talkTimeoutMs?: number;
  /** A recording with an unknown id may join a call of the same number ended this recently. Default 10 min. */
  recordingWindowMs?: number;
  /** How many calls of other extensions are remembered for correlation (LRU). Default 20,000. */
  maxForeignCalls?: number;
}

/** What the PBX told us about one call id, whoever it concerned. */
interface CallInfo {
  number: string;
  queue: string | null;
  did: string | null;
  /** leg → extension that answered it (from "started" events). */
  legAnswerers: Map<number, string>;
  lastAnswerer: string | null;
  /** Highest leg someone answered: a ringing of an older leg arriving later is stale. */
  maxAnsweredLeg: number;
  endedMissed: boolean;
}

/** One call of this extension while the tracker still needs it. */
interface OwnCall {
  record: CallRecord;
  /** Every 3CX call id that turned out to be this call (the record id first). */
  aliases: Set<string>;
  /** Last time any event concerned the call (for the ring/talk timeouts). */
  lastEventAt: number;
  /** When the record ended (for evicting it after the recording window). */
  endedAtMs: number | null;
}

const MAKECALL = 'MAKECALL';
const DEDUPE_WINDOW = 4096;
const MAX_RECORDINGS = 16;

const digits = (s: string) => s.replace(/\D+/g, '');

export class CallTracker {
  private readonly ext: string;
  private readonly now: () => number;
  private readonly ringTimeoutMs: number;
  private readonly talkTimeoutMs: number;
  private readonly recordingWindowMs: number;

  /** PBX-wide knowledge per call id, bounded. */
  private readonly info: LruMap<string, CallInfo>;
  /** This extension's calls by record id. */
  private readonly own = new Map<string, OwnCall>();
  /** 3CX call id → record id. */
  private readonly alias = new Map<string, string>();
  /** Recently seen events, so a re-delivered webhook changes nothing. */
  private readonly recent = new LruMap<string, true>(DEDUPE_WINDOW);

  constructor(readonly options: TrackerOptions) {
    this.ext = options.extension;
    this.now = options.now;
    this.ringTimeoutMs = options.ringTimeoutMs ?? 3 * 60_000;
    this.talkTimeoutMs = options.talkTimeoutMs ?? 12 * 3600_000;
    this.recordingWindowMs = options.recordingWindowMs ?? 10 * 60_000;
    this.info = new LruMap(options.maxForeignCalls ?? 20_000);
  }

  /** Apply one webhook; returns this extension's records that changed (nothing for duplicates). */
  apply(event: WebhookEvent): CallUpdate[] {
    if (event.type === 'unknown') return [];
    const key = JSON.stringify(event);
    if (this.recent.has(key)) return [];
    this.recent.set(key, true);

    const out = new Updates();
    switch (event.type) {
      case 'ringing':
        this.onRinging(event, out);
        break;
      case 'dialing':
        this.onDialing(event, out);
        break;
      case 'started':
        this.onStarted(event, out);
        break;
      case 'ended':
        this.onEnded(event, out);
        break;
      case 'recording':
        this.onRecording(event, out);
        break;
    }
    return out.list();
  }

  /** Close calls that timed out and forget ended ones past the recording window (call every few seconds). */
  tick(): CallUpdate[] {
    const now = this.now();
    const out = new Updates();
    for (const call of [...this.own.values()]) {
      const r = call.record;
      if (r.status === 'ringing' && now - call.lastEventAt >= this.ringTimeoutMs) {
        this.end(call, 'missed', null, out, 'missed');
      } else if (r.status === 'talking' && now - call.lastEventAt >= this.talkTimeoutMs) {
        this.end(call, 'answered', null, out, 'ended');
      } else if (r.status === 'ended' && call.endedAtMs !== null && now - call.endedAtMs >= this.recordingWindowMs) {
        this.forget(call);
      }
    }
    return out.list();
  }

  /** Re-adopt calls still open in the log after a restart, and recently ended ones for late recordings. */
  restore(records: readonly CallRecord[]): void {
    for (const record of records) {
      if (record.extension !== this.ext || this.own.has(record.id)) continue;
      const lastEventAt = Date.parse(record.answeredAt ?? record.startedAt);
      const endedAtMs = record.endedAt === null ? null : Date.parse(record.endedAt);
      this.own.set(record.id, { record, aliases: new Set([record.id]), lastEventAt, endedAtMs });
      this.alias.set(record.id, record.id);
    }
  }

  /** This extension's calls that are ringing or talking, newest first. */
  openCalls(): CallRecord[] {
    return [...this.own.values()]
      .map((c) => c.record)
      .filter((r) => r.status !== 'ended')
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** For tests and the memory benchmark: how many call ids are remembered. */
  get size(): { foreign: number; own: number } {
    return { foreign: this.info.size, own: this.own.size };
  }

  // --- events -------------------------------------------------------------------------------

  private onRinging(e: RingingEvent, out: Updates): void {
    const info = this.touchInfo(e.ref.callId, e);
    if (e.userType === 'queue') info.queue = e.user;
    const own = this.ownFor(e.ref.callId);
    if (own) this.enrich(own, info, out);
    if (e.user !== this.ext) return;
    if (own) return; // already known (e.g. the consult ring after an attended transfer was taken)

    const call = this.create(e.ref.callId, {
      direction: 'incoming',
      number: this.cleanNumber(e.callerId, info),
      info,
      // Ringing on a leg someone already answered = a transfer from them to us.
      transferredFrom: this.answererOf(info, e.ref.leg, this.ext),
    });
    out.add(call.record, 'ringing');
    // Out of order: someone already answered a later leg, or the call already ended unanswered.
    if (e.ref.leg !== null && info.maxAnsweredLeg > e.ref.leg && info.lastAnswerer && info.lastAnswerer !== this.ext) {
      this.end(call, 'answered-elsewhere', null, out, 'answered-elsewhere', { answeredBy: info.lastAnswerer });
    } else if (info.endedMissed) {
      this.end(call, 'missed', null, out, 'missed');
    }
  }

  private onDialing(e: DialingEvent, out: Updates): void {
    const info = this.touchInfo(e.ref.callId, e);
    const own = this.ownFor(e.ref.callId);
    if (own) this.enrich(own, info, out);
    if (e.user !== this.ext || own) return;
    const call = this.create(e.ref.callId, { direction: 'outgoing', number: this.cleanNumber(e.callerId, info), info, transferredFrom: null });
    out.add(call.record, 'dialing');
  }

  private onStarted(e: StartedEvent, out: Updates): void {
    const info = this.touchInfo(e.ref.callId, e);
    // Whoever answered the previous leg hands the call over in a transfer.
    const transferrer = e.transferType ? this.answererOf(info, e.ref.leg === null ? null : e.ref.leg - 1, e.user) : null;
    if (e.ref.leg !== null) {
      info.legAnswerers.set(e.ref.leg, e.user);
      info.maxAnsweredLeg = Math.max(info.maxAnsweredLeg, e.ref.leg);
    }
    info.lastAnswerer = e.user;

    const mine = e.user === this.ext;
    const own = this.resolve(e.ref.callId, e.callerId, e.direction, mine);
    if (own) this.enrich(own, info, out);

    if (mine) {
      if (!own) {
        const call = this.create(e.ref.callId, { direction: e.direction, number: this.cleanNumber(e.callerId, info), info, transferredFrom: transferrer });
        const t = this.now();
        this.replace(call, { ...call.record, status: 'talking', result: 'answered', answeredAt: iso(t), endedAt: null, transferType: e.transferType } as TalkingCall);
        out.add(call.record, 'answered');
        return;
      }
      const r = own.record;
      if (r.status === 'ringing') {
        const next: TalkingCall = {
          ...r,
          status: 'talking',
          result: 'answered',
          answeredAt: iso(this.now()),
          endedAt: null,
          transferType: e.transferType ?? r.transferType,
          transferredFrom: transferrer ?? r.transferredFrom,
        };
        this.replace(own, next);
        out.add(next, 'answered');
      } else if (e.transferType && r.transferredFrom === null && transferrer) {
        this.patch(own, { transferType: e.transferType, transferredFrom: transferrer }, out, 'updated');
      }
      return;
    }

    if (!own || own.record.direction !== 'incoming') return;
    const r = own.record;
    if (r.status === 'ringing') {
      // Rang here, a colleague picked up (RingAll, queue, or a transfer that went elsewhere).
      this.end(own, 'answered-elsewhere', null, out, 'answered-elsewhere', { answeredBy: e.user });
    } else if (r.status === 'talking' && e.transferType && transferrer === this.ext) {
      // This extension transferred the call to e.user.
      this.patch(own, { transferType: e.transferType, transferredTo: e.user }, out, 'transferred');
      // A blind transferrer gets no end event: its part of the call ends now.
      if (e.transferType === 'blind') this.end(own, 'answered', null, out, 'transferred');
    }
  }

  private onEnded(e: EndedEvent, out: Updates): void {
    const info = this.touchInfo(e.ref.callId, e);
    if (e.finish === 'missed' && info.lastAnswerer === null) info.endedMissed = true;
    const mine = e.user === this.ext;
    const own = this.resolve(e.ref.callId, e.callerId, e.direction, mine);
    if (own) this.enrich(own, info, out);

    if (mine) {
      if (!own) {
        // An end we cannot place: keep it as a record of its own rather than lose it.
        const call = this.create(e.ref.callId, { direction: e.direction, number: this.cleanNumber(e.callerId, info), info, transferredFrom: null });
        const result: CallResult = e.finish === 'ok' ? 'answered' : 'missed';
        this.end(call, result, e.durationSec, out, result === 'missed' ? 'missed' : 'ended');
        return;
      }
      const r = own.record;
      if (r.status === 'ringing') {
        const result: CallResult = e.finish === 'ok' ? 'answered' : 'missed';
        this.end(own, result, e.durationSec, out, result === 'missed' ? 'missed' : 'ended');
      } else if (r.status === 'talking') {
        this.end(own, 'answered', e.durationSec, out, 'ended');
      } else if (r.result === 'answered' && r.durationSec === null && e.durationSec !== null) {
        this.patch(own, { durationSec: e.durationSec }, out, 'updated');
      }
      return;
    }

    // The end names the queue, or one of several ringing extensions: it ends the call for every
    // extension it rang. A colleague's end never ends this extension's own conversation.
    if (!own || own.record.direction !== 'incoming' || own.record.status !== 'ringing') return;
    if (e.finish === 'missed') this.end(own, 'missed', null, out, 'missed');
    else this.end(own, 'answered-elsewhere', null, out, 'answered-elsewhere', { answeredBy: info.lastAnswerer ?? e.user });
  }

  private onRecording(e: RecordingEvent, out: Updates): void {
    if (e.user !== null && e.user !== this.ext) return; // a colleague's leg
    let own = this.ownFor(e.ref.callId);
    if (!own && e.callerId) {
      const since = this.now() - this.recordingWindowMs;
      own = this.latestByNumber(e.callerId, (c) => c.record.status !== 'ended' || (c.endedAtMs !== null && c.endedAtMs >= since));
      if (own) this.link(own, e.ref.callId);
    }
    if (!own) return;
    const fresh = e.urls.filter((u) => !own.record.recordings.includes(u));
    if (fresh.length === 0) return;
    const recordings = [...own.record.recordings, ...fresh].slice(0, MAX_RECORDINGS);
    this.patch(own, { recordings }, out, 'recording');
  }

  // --- helpers ------------------------------------------------------------------------------

  private touchInfo(callId: string, e: CallEvent & { callerId: string; did: string | null }): CallInfo {
    let info = this.info.get(callId);
    if (!info) {
      info = { number: '', queue: null, did: null, legAnswerers: new Map(), lastAnswerer: null, maxAnsweredLeg: -1, endedMissed: false };
      this.info.set(callId, info);
    }
    if (!info.number && e.callerId && e.callerId !== MAKECALL) info.number = e.callerId;
    if (e.did) info.did = e.did;
    return info;
  }

  private ownFor(callId: string): OwnCall | undefined {
    const id = this.alias.get(callId);
    return id === undefined ? undefined : this.own.get(id);
  }

  /**
   * The own call an event is about: by id, else (ids do not always line up) this extension's
   * latest open call in the same direction with the same number. A withheld number is only
   * matched for this extension's own events.
   */
  private resolve(callId: string, callerId: string, direction: Direction, mine: boolean): OwnCall | undefined {
    const byId = this.ownFor(callId);
    if (byId) return byId;
    const anyOutgoing = callerId === MAKECALL && direction === 'outgoing';
    if (!anyOutgoing && callerId === '' && !mine) return undefined;
    const own = this.latestByNumber(anyOutgoing ? null : callerId, (c) => c.record.status !== 'ended' && c.record.direction === direction);
    if (own) this.link(own, callId);
    return own;
  }

  private latestByNumber(number: string | null, accept: (c: OwnCall) => boolean): OwnCall | undefined {
    const want = number === null ? null : digits(number);
    let best: OwnCall | undefined;
    for (const c of this.own.values()) {
      if (!accept(c)) continue;
      if (want !== null && digits(c.record.number) !== want) continue;
      if (!best || c.record.startedAt > best.record.startedAt) best = c;
    }
    return best;
  }

  private link(own: OwnCall, callId: string): void {
    own.aliases.add(callId);
    this.alias.set(callId, own.record.id);
  }

  private answererOf(info: CallInfo, leg: number | null, notThis: string): string | null {
    const a = (leg !== null ? info.legAnswerers.get(leg) : undefined) ?? info.lastAnswerer;
    return a && a !== notThis ? a : null;
  }

  private cleanNumber(callerId: string, info: CallInfo): string {
    return callerId === MAKECALL ? info.number : callerId || info.number;
  }

  private create(callId: string, o: { direction: Direction; number: string; info: CallInfo; transferredFrom: string | null }): OwnCall {
    const record: RingingCall = {
      id: callId,
      direction: o.direction,
      status: 'ringing',
      result: null,
      number: o.number,
      extension: this.ext,
      queue: o.info.queue,
      did: o.info.did,
      startedAt: iso(this.now()),
      answeredAt: null,
      endedAt: null,
      durationSec: null,
      transferType: null,
      transferredTo: null,
      transferredFrom: o.transferredFrom,
      answeredBy: null,
      recordings: [],
      // The log keeps "seen" once set; a call becomes seen when it ends other than missed.
      seen: false,
    };
    const call: OwnCall = { record, aliases: new Set([callId]), lastEventAt: this.now(), endedAtMs: null };
    this.own.set(callId, call);
    this.alias.set(callId, callId);
    return call;
  }

  /** Fill what the record lacks from what the PBX told us since (queue, DID, number). */
  private enrich(own: OwnCall, info: CallInfo, out: Updates): void {
    own.lastEventAt = this.now();
    const r = own.record;
    const patch: Partial<CallRecord> = {};
    if (r.queue === null && info.queue !== null) patch.queue = info.queue;
    if (r.did === null && info.did !== null) patch.did = info.did;
    if (r.number === '' && info.number !== '') patch.number = info.number;
    if (Object.keys(patch).length) this.patch(own, patch, out, 'updated');
  }

  private end(call: OwnCall, result: CallResult, durationSec: number | null, out: Updates, change: CallChange, extra: Partial<EndedCall> = {}): void {
    const r = call.record;
    const t = this.now();
    const next: EndedCall = {
      ...r,
      ...extra,
      status: 'ended',
      result,
      answeredAt: r.answeredAt,
      endedAt: iso(t),
      durationSec: durationSec ?? r.durationSec,
      // An unseen missed call drives the badge; only incoming calls can be "missed" for the user.
      seen: r.seen || !(result === 'missed' && r.direction === 'incoming'),
    };
    call.endedAtMs = t;
    this.replace(call, next);
    out.add(next, change);
  }

  private patch(call: OwnCall, patch: Partial<CallRecord>, out: Updates, change: CallChange): void {
    const next = { ...call.record, ...patch } as CallRecord;
    this.replace(call, next);
    out.add(next, change);
  }

  private replace(call: OwnCall, record: CallRecord): void {
    call.record = record;
  }

  private forget(call: OwnCall): void {
    this.own.delete(call.record.id);
    for (const a of call.aliases) if (this.alias.get(a) === call.record.id) this.alias.delete(a);
  }
}

/** Collects one update per record per event, keeping the most telling change. */
class Updates {
  private readonly byId = new Map<string, CallUpdate>();

  add(record: CallRecord, change: CallChange): void {
    const prev = this.byId.get(record.id);
    const keep = prev && rank(prev.change) > rank(change) ? prev.change : change;
    this.byId.set(record.id, { record, change: keep });
  }

  list(): CallUpdate[] {
    return [...this.byId.values()];
  }
}

const changeRank: Record<CallChange, number> = {
  updated: 0,
  recording: 1,
  dialing: 2,
  ringing: 2,
  answered: 3,
  ended: 4,
  'answered-elsewhere': 5,
  missed: 5,
  transferred: 6,
};
const rank = (c: CallChange) => changeRank[c];

const iso = (ms: number) => new Date(ms).toISOString();
