// PBX-wide call tracker: turns the 3CX WebAPI's single webhook stream into the calls of every
// tracked extension, in one pass per event. Pure: events in, call updates out; the clock is injected.
//
// What the PBX sends is uneven (see the add-on's documentation "3CX Webhooks Usage & Web API
// Examples"; not in this repository): the end event of a missed queue call names the queue, a
// RingAll end names only one of the ringing extensions, ids change between ringing and end (…_10
// then …_35), the MakeCall "started" event carries "MAKECALL" as the number, a blind transfer's
// transferrer gets no end event at all, and a GET recording is a bare URL naming no user. So the
// tracker keeps what the PBX said about each call id (CallKnowledge, one bounded store for the
// whole PBX) and a record per call of each tracked extension (ExtensionCalls, keyed by extension +
// call id: the two sides of a transfer share the call id). The desktop's single-extension
// CallTracker (./call-tracker.ts) is this tracker tracking one extension.
import type { CallChange, CallRecord, CallResult, CallUpdate, Direction, EndedCall, RingingCall, TalkingCall } from '../call-record';
import type { DialingEvent, EndedEvent, RecordingEvent, RingingEvent, StartedEvent, WebhookEvent } from '../webhook/event';
import { CallKnowledge, MAKECALL, type CallFacts } from './call-knowledge';
import { DUPLICATE_WINDOW_MS, DuplicateFilter } from './duplicates';
import { ExtensionCalls, type ExtensionCall } from './extension-calls';
import { endChange } from './what-changed';

export interface PbxTrackerOptions {
  /** Milliseconds since the epoch. */
  now: () => number;
  /** A ringing call with no event for this long is closed as missed. Default 3 min. */
  ringTimeoutMs?: number;
  /** An answered call with no end event is closed after this long, duration unknown. Default 12 h. */
  talkTimeoutMs?: number;
  /** A recording with an unknown id may join a call of the same number ended this recently. Default 10 min. */
  recordingWindowMs?: number;
  /**
   * Bound on remembered call ids PBX-wide (LRU), and on records held (all extensions). Past it the
   * oldest ended record is forgotten first; an open one is closed (missed / ended) and forgotten
   * only when nothing else is left. Default 50,000.
   */
  maxCalls?: number;
  /** Which extensions get records: omitted = every extension (the hub). Queues and IVRs never do. */
  tracks?: (extension: string) => boolean;
}

const MAX_RECORDINGS = 16;
const DEFAULT_MAX_CALLS = 50_000;
/** Events remembered for the duplicate check: a re-delivery comes within seconds, and 16k events are minutes of a busy PBX. */
const DUPLICATE_KEYS = 16_384;

const digits = (s: string) => s.replace(/\D+/g, '');
const iso = (ms: number) => new Date(ms).toISOString();

export class PbxTracker {
  private readonly now: () => number;
  private readonly ringTimeoutMs: number;
  private readonly talkTimeoutMs: number;
  private readonly recordingWindowMs: number;
  private readonly maxCalls: number;
  private readonly tracks: (extension: string) => boolean;

  private readonly knowledge: CallKnowledge;
  private readonly calls = new ExtensionCalls();
  private readonly duplicates: DuplicateFilter;

  constructor(options: PbxTrackerOptions) {
    this.now = options.now;
    this.ringTimeoutMs = options.ringTimeoutMs ?? 3 * 60_000;
    this.talkTimeoutMs = options.talkTimeoutMs ?? 12 * 3600_000;
    this.recordingWindowMs = options.recordingWindowMs ?? 10 * 60_000;
    this.maxCalls = Math.max(1, options.maxCalls ?? DEFAULT_MAX_CALLS);
    this.tracks = options.tracks ?? (() => true);
    this.knowledge = new CallKnowledge(this.maxCalls);
    this.duplicates = new DuplicateFilter(DUPLICATE_WINDOW_MS, DUPLICATE_KEYS);
  }

  /** Apply one webhook; returns the records that changed, of every tracked extension concerned (record.extension says whose). */
  apply(event: WebhookEvent): CallUpdate[] {
    if (event.type === 'unknown') return [];
    if (this.duplicates.isDuplicate(event, this.now())) return [];

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
    this.bound(out);
    return out.list();
  }

  /** Close calls that timed out and forget ended ones past the recording window (call every few seconds). */
  tick(): CallUpdate[] {
    const now = this.now();
    const out = new Updates();
    // No end was seen: the record says so (endedBy), and every view names it "rang out".
    for (const c of this.calls.silentSince('ringing', now - this.ringTimeoutMs)) this.end(c, 'missed', null, out, 'missed', { endedBy: 'ring-timeout' });
    for (const c of this.calls.silentSince('talking', now - this.talkTimeoutMs)) this.end(c, 'answered', null, out, 'ended');
    for (const c of this.calls.endedBy(now - this.recordingWindowMs)) this.calls.forget(c);
    this.bound(out);
    return out.list();
  }

  /** Re-adopt calls still open in the log after a restart, and recently ended ones for late recordings. */
  restore(records: readonly CallRecord[]): void {
    const at = (r: CallRecord) => Date.parse(r.answeredAt ?? r.startedAt);
    // The time each status list is ordered by (last event; end), oldest first, so they stay in order.
    const order = (r: CallRecord) => (r.endedAt === null ? at(r) : Date.parse(r.endedAt));
    const fresh = records.filter((r) => this.tracks(r.extension) && !this.calls.of(r.extension, r.id)).sort((a, b) => order(a) - order(b));
    for (const record of fresh) {
      if (this.calls.of(record.extension, record.id)) continue;
      this.calls.add(record, at(record), record.endedAt === null ? null : Date.parse(record.endedAt));
    }
  }

  /** Ringing and talking calls (of one extension, or of all), newest first. */
  openCalls(extension?: string): CallRecord[] {
    return this.calls.open(extension);
  }

  /** calls: records held (all extensions, ended ones kept for late recordings); open: ringing or talking; known: call ids in the PBX-wide store. */
  get size(): { calls: number; open: number; known: number } {
    return { calls: this.calls.size, open: this.calls.openCount, known: this.knowledge.size };
  }

  // --- events -------------------------------------------------------------------------------

  private tracked(user: string): boolean {
    return this.knowledge.mayBeExtension(user) && this.tracks(user);
  }

  private onRinging(e: RingingEvent, out: Updates): void {
    const info = this.knowledge.touch(e.ref.callId, e.callerId, e.did);
    if (e.callerName && !info.name) info.name = e.callerName;
    if (e.userType === 'queue') info.queue = e.user;
    this.knowledge.noteUserType(e.user, e.userType);
    const holders = this.calls.holders(e.ref.callId);
    if (holders) for (const c of holders) this.enrich(c, info, out);
    const ext = e.user;
    // Already known (e.g. the consult ring after an attended transfer was taken).
    if (!this.tracked(ext) || holders?.some((c) => c.extension === ext)) return;

    const call = this.create(ext, e.ref.callId, {
      direction: 'incoming',
      number: cleanNumber(e.callerId, info),
      info,
      // Ringing on a leg someone already answered = a transfer from them to us.
      transferredFrom: answererOf(info, e.ref.leg, ext),
    });
    out.add(call, 'ringing');
    // Out of order: someone already answered a later leg, or the call already ended unanswered.
    if (e.ref.leg !== null && info.maxAnsweredLeg > e.ref.leg && info.lastAnswerer && info.lastAnswerer !== ext) {
      this.end(call, 'answered-elsewhere', null, out, 'answered-elsewhere', { answeredBy: info.lastAnswerer });
    } else if (info.endedMissed) {
      this.end(call, 'missed', null, out, 'missed');
    }
  }

  private onDialing(e: DialingEvent, out: Updates): void {
    const info = this.knowledge.touch(e.ref.callId, e.callerId, e.did);
    if (e.callerName && !info.name) info.name = e.callerName;
    const holders = this.calls.holders(e.ref.callId);
    if (holders) for (const c of holders) this.enrich(c, info, out);
    if (!this.tracked(e.user) || holders?.some((c) => c.extension === e.user)) return;
    const call = this.create(e.user, e.ref.callId, { direction: 'outgoing', number: cleanNumber(e.callerId, info), info, transferredFrom: null });
    out.add(call, 'dialing');
  }

  private onStarted(e: StartedEvent, out: Updates): void {
    const info = this.knowledge.touch(e.ref.callId, e.callerId, e.did);
    // Whoever answered the previous leg hands the call over in a transfer.
    const transferrer = e.transferType ? answererOf(info, e.ref.leg === null ? null : e.ref.leg - 1, e.user) : null;
    if (e.ref.leg !== null) {
      (info.legAnswerers ??= new Map()).set(e.ref.leg, e.user);
      info.maxAnsweredLeg = Math.max(info.maxAnsweredLeg, e.ref.leg);
    }
    info.lastAnswerer = e.user;

    const concerned = this.resolve(e, info, out);
    if (this.tracked(e.user)) this.startedHere(e.user, concerned.get(e.user), e, info, transferrer, out);
    for (const [ext, own] of concerned) if (ext !== e.user) this.startedElsewhere(ext, own, e, transferrer, out);
  }

  /** `ext` picked up (or took the call over by a transfer). */
  private startedHere(ext: string, own: ExtensionCall | undefined, e: StartedEvent, info: CallFacts, transferrer: string | null, out: Updates): void {
    if (!own) {
      const call = this.create(ext, e.ref.callId, { direction: e.direction, number: cleanNumber(e.callerId, info), info, transferredFrom: transferrer });
      const record = call.record;
      this.calls.replace(call, { ...record, status: 'talking', result: 'answered', answeredAt: iso(this.now()), endedAt: null, transferType: e.transferType } as TalkingCall);
      out.add(call, 'answered');
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
      this.calls.replace(own, next);
      out.add(own, 'answered');
    } else if (e.transferType && r.transferredFrom === null && transferrer) {
      this.patch(own, { transferType: e.transferType, transferredFrom: transferrer }, out, 'updated');
    }
  }

  /** Someone else (e.user) picked up a call `ext` holds. */
  private startedElsewhere(ext: string, own: ExtensionCall, e: StartedEvent, transferrer: string | null, out: Updates): void {
    const r = own.record;
    if (r.direction !== 'incoming') return;
    if (r.status === 'ringing') {
      // Rang here, a colleague picked up (RingAll, queue, or a transfer that went elsewhere).
      this.end(own, 'answered-elsewhere', null, out, 'answered-elsewhere', { answeredBy: e.user });
    } else if (r.status === 'talking' && e.transferType && transferrer === ext) {
      // This extension transferred the call to e.user.
      this.patch(own, { transferType: e.transferType, transferredTo: e.user }, out, 'transferred');
      // A blind transferrer gets no end event: its part of the call ends now.
      if (e.transferType === 'blind') this.end(own, 'answered', null, out, 'transferred');
    }
  }

  private onEnded(e: EndedEvent, out: Updates): void {
    const info = this.knowledge.touch(e.ref.callId, e.callerId, e.did);
    if (e.finish === 'missed' && info.lastAnswerer === null) info.endedMissed = true;
    // Who was on a leg that ended "Ok": a recording of that leg is theirs (when no started event named the leg).
    if (e.finish === 'ok' && e.ref.leg !== null && !info.legEnders?.has(e.ref.leg)) (info.legEnders ??= new Map()).set(e.ref.leg, e.user);

    const concerned = this.resolve(e, info, out);
    if (this.tracked(e.user)) this.endedHere(e.user, concerned.get(e.user), e, info, out);
    for (const [ext, own] of concerned) {
      if (ext === e.user) continue;
      // The end names the queue, or one of several ringing extensions: it ends the call for every
      // extension it rang. A colleague's end never ends another extension's own conversation.
      const r = own.record;
      if (r.direction !== 'incoming' || r.status !== 'ringing') continue;
      if (e.finish === 'missed') this.end(own, 'missed', null, out, 'missed');
      else this.end(own, 'answered-elsewhere', null, out, 'answered-elsewhere', { answeredBy: info.lastAnswerer ?? e.user });
    }
  }

  private endedHere(ext: string, own: ExtensionCall | undefined, e: EndedEvent, info: CallFacts, out: Updates): void {
    if (!own) {
      // An end we cannot place: keep it as a record of its own rather than lose it.
      const call = this.create(ext, e.ref.callId, { direction: e.direction, number: cleanNumber(e.callerId, info), info, transferredFrom: null });
      const result: CallResult = e.finish === 'ok' ? 'answered' : 'missed';
      this.end(call, result, e.durationSec, out, endChange(result));
      return;
    }
    const r = own.record;
    if (r.status === 'ringing') {
      const result: CallResult = e.finish === 'ok' ? 'answered' : 'missed';
      this.end(own, result, e.durationSec, out, endChange(result));
    } else if (r.status === 'talking') {
      this.end(own, 'answered', e.durationSec, out, 'ended');
    } else if (r.endedBy === 'ring-timeout' && r.result === 'missed' && e.finish === 'missed') {
      // The PBX's own end came after all (a ring longer than the timeout): now it is seen. (The end time
      // stays: the ended calls are held in the order they ended.)
      const { endedBy: _timedOut, ...seen } = r;
      this.calls.replace(own, seen);
      out.add(own, 'updated');
    } else if (r.result === 'answered' && r.durationSec === null && e.durationSec !== null) {
      this.patch(own, { durationSec: e.durationSec }, out, 'updated');
    }
  }

  private onRecording(e: RecordingEvent, out: Updates): void {
    // A leg's recording belongs to whoever answered that leg. The GET scheme names no user: ask the
    // PBX-wide knowledge; when it cannot tell, the recording goes to nobody rather than to the wrong
    // extension (a colleague's conversation must not be downloadable by the transferrer).
    const owner = e.user ?? this.knowledge.recordingOwner(e.ref);
    if (owner === null || !this.tracked(owner)) return;
    let own = this.calls.of(owner, e.ref.callId);
    if (!own && e.callerId) {
      const since = this.now() - this.recordingWindowMs;
      own = this.calls.latestByNumber(owner, e.callerId, (c) => c.record.status !== 'ended' || (c.endedAtMs !== null && c.endedAtMs >= since));
      if (own) this.calls.link(own, e.ref.callId);
    }
    if (!own) return;
    const fresh = e.urls.filter((u) => !own.record.recordings.includes(u));
    if (fresh.length === 0) return;
    const recordings = [...own.record.recordings, ...fresh].slice(0, MAX_RECORDINGS);
    this.patch(own, { recordings }, out, 'recording');
  }

  // --- helpers ------------------------------------------------------------------------------

  /**
   * The calls a started/ended event is about, per extension: by id, else (ids do not always line
   * up) each extension's latest open call in the same direction with the same number. The event's
   * own user may also match a withheld number, or any open outgoing call for "MAKECALL"; other
   * extensions only by a real number. Each found call is enriched (and kept alive).
   */
  private resolve(e: StartedEvent | EndedEvent, info: CallFacts, out: Updates): Map<string, ExtensionCall> {
    const found = new Map<string, ExtensionCall>();
    for (const c of this.calls.holders(e.ref.callId) ?? []) found.set(c.extension, c);
    const openSameWay = (c: ExtensionCall) => c.record.status !== 'ended' && c.record.direction === e.direction;
    if (!found.has(e.user) && this.tracked(e.user)) {
      const anyOutgoing = e.callerId === MAKECALL && e.direction === 'outgoing';
      const own = this.calls.latestByNumber(e.user, anyOutgoing ? null : e.callerId, openSameWay);
      if (own) {
        this.calls.link(own, e.ref.callId);
        found.set(e.user, own);
      }
    }
    if (e.callerId !== MAKECALL && digits(e.callerId) !== '') {
      // Each other extension's latest open call with this number, in one pass over the calls with it.
      const best = new Map<string, ExtensionCall>();
      for (const c of this.calls.withNumber(e.callerId)) {
        if (c.extension === e.user || found.has(c.extension) || !openSameWay(c)) continue;
        const b = best.get(c.extension);
        if (!b || c.record.startedAt > b.record.startedAt) best.set(c.extension, c);
      }
      for (const [ext, c] of best) {
        this.calls.link(c, e.ref.callId);
        found.set(ext, c);
      }
    }
    for (const c of found.values()) this.enrich(c, info, out);
    return found;
  }

  private create(extension: string, callId: string, o: { direction: Direction; number: string; info: CallFacts; transferredFrom: string | null }): ExtensionCall {
    const record: RingingCall = {
      id: callId,
      direction: o.direction,
      status: 'ringing',
      result: null,
      number: o.number,
      extension,
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
      ...(o.info.name ? { callerName: o.info.name } : {}),
    };
    return this.calls.add(record, this.now(), null);
  }

  /** Fill what the record lacks from what the PBX told us since (queue, DID, number). */
  private enrich(own: ExtensionCall, info: CallFacts, out: Updates): void {
    this.calls.touch(own, this.now());
    const r = own.record;
    const patch: Partial<CallRecord> = {};
    if (r.queue === null && info.queue !== null) patch.queue = info.queue;
    if (r.did === null && info.did !== null) patch.did = info.did;
    if (r.number === '' && info.number !== '') patch.number = info.number;
    if (Object.keys(patch).length) this.patch(own, patch, out, 'updated');
  }

  private end(call: ExtensionCall, result: CallResult, durationSec: number | null, out: Updates, change: CallChange, extra: Partial<EndedCall> = {}): void {
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
    this.calls.replace(call, next, t);
    out.add(call, change);
  }

  private patch(call: ExtensionCall, patch: Partial<CallRecord>, out: Updates, change: CallChange): void {
    this.calls.replace(call, { ...call.record, ...patch } as CallRecord);
    out.add(call, change);
  }

  /** Past maxCalls records, give up the oldest: an open one is closed first so no log keeps it open forever. */
  private bound(out: Updates): void {
    while (this.calls.size > this.maxCalls) {
      const c = this.calls.oldest();
      if (!c) return;
      if (c.record.status === 'ringing') this.end(c, 'missed', null, out, 'missed', { endedBy: 'ring-timeout' });
      else if (c.record.status === 'talking') this.end(c, 'answered', null, out, 'ended');
      this.calls.forget(c);
    }
  }
}

function answererOf(info: CallFacts, leg: number | null, notThis: string): string | null {
  const a = (leg !== null ? info.legAnswerers?.get(leg) : undefined) ?? info.lastAnswerer;
  return a && a !== notThis ? a : null;
}

function cleanNumber(callerId: string, info: CallFacts): string {
  return callerId === MAKECALL ? info.number : callerId || info.number;
}

/** Collects one update per record per event, keeping the most telling change. */
class Updates {
  /** Made on the first update: most webhooks concern no tracked extension. */
  private byCall: Map<ExtensionCall, CallUpdate> | null = null;

  add(call: ExtensionCall, change: CallChange): void {
    const byCall = (this.byCall ??= new Map());
    const prev = byCall.get(call);
    const keep = prev && rank(prev.change) > rank(change) ? prev.change : change;
    byCall.set(call, { record: call.record, change: keep });
  }

  list(): CallUpdate[] {
    return this.byCall ? [...this.byCall.values()] : [];
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
