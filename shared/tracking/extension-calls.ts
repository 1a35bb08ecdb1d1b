// The calls of each tracked extension, as records, with the indexes the rules need so that no
// event ever walks all extensions or all calls: by 3CX call id (each id → the calls held under it,
// one per extension), by number (the fallback for ids that do not line up), by extension, and by
// status in time order (timeouts and forgetting walk only what expired). Arrays where a list is
// almost always one or two long: a Map or Set per call id or number would cost far more memory.
import type { CallRecord } from '../call-record';

/** One call of one extension while the tracker still needs it. */
export interface ExtensionCall {
  readonly extension: string;
  record: CallRecord;
  /** Every 3CX call id that turned out to be this call (the record id first). */
  readonly aliases: string[];
  /** Last time any event concerned the call (for the ring/talk timeouts). */
  lastEventAt: number;
  /** When the record ended (for forgetting it after the recording window). */
  endedAtMs: number | null;
  /** The digits of the number it is indexed under (the record's number may be filled in later); null once forgotten. */
  numberKey: string | null;
}

const digits = (s: string): string => s.replace(/\D+/g, '');

/**
 * key → the calls under it. Almost every key holds one call, kept as is: an array per key costs
 * ~60 bytes more, for each of the 50,000 calls a hub may hold, in each of two indexes.
 */
class CallIndex {
  private readonly m = new Map<string, ExtensionCall | ExtensionCall[]>();

  get(key: string): readonly ExtensionCall[] | undefined {
    const v = this.m.get(key);
    return v === undefined ? undefined : Array.isArray(v) ? v : [v];
  }

  /** Adds `call` under `key`, replacing a call for the same extension when `sameExtension`. */
  add(key: string, call: ExtensionCall, sameExtension = false): void {
    const v = this.m.get(key);
    if (v === undefined) return void this.m.set(key, call);
    const list = Array.isArray(v) ? v : [v];
    const i = sameExtension ? list.findIndex((c) => c.extension === call.extension) : -1;
    if (i < 0) list.push(call);
    else list[i] = call;
    this.m.set(key, list.length === 1 ? list[0]! : list);
  }

  remove(key: string, call: ExtensionCall): void {
    const v = this.m.get(key);
    if (v === call) return void this.m.delete(key);
    if (!Array.isArray(v)) return;
    const i = v.indexOf(call);
    if (i < 0) return;
    v.splice(i, 1);
    if (v.length === 1) this.m.set(key, v[0]!);
  }
}

export class ExtensionCalls {
  // Insertion order = time order: ringing/talking by last event, ended by end time. A touched call
  // is moved to the end, so the expired ones are always at the front.
  private readonly ringing = new Set<ExtensionCall>();
  private readonly talking = new Set<ExtensionCall>();
  private readonly ended = new Set<ExtensionCall>();
  /** 3CX call id → the calls held under it (at most one per extension). */
  private readonly byCallId = new CallIndex();
  /** digits of the number → calls (any extension). */
  private readonly byNumber = new CallIndex();
  private readonly byExtension = new Map<string, Set<ExtensionCall>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get openCount(): number {
    return this.ringing.size + this.talking.size;
  }

  /** The calls held under this call id, one per extension. */
  holders(callId: string): readonly ExtensionCall[] | undefined {
    return this.byCallId.get(callId);
  }

  of(extension: string, callId: string): ExtensionCall | undefined {
    return this.byCallId.get(callId)?.find((c) => c.extension === extension);
  }

  add(record: CallRecord, lastEventAt: number, endedAtMs: number | null): ExtensionCall {
    // [id], not [] then push: V8 sizes an array literal exactly, while a push onto an empty array
    // reserves 17 slots (~130 bytes more per call, held as long as the call).
    const call: ExtensionCall = { extension: record.extension, record, aliases: [record.id], lastEventAt, endedAtMs, numberKey: null };
    this.count++;
    this.statusSet(record).add(call);
    this.link(call, record.id);
    this.index(call);
    let own = this.byExtension.get(call.extension);
    if (!own) this.byExtension.set(call.extension, (own = new Set()));
    own.add(call);
    return call;
  }

  /** From now on `callId` names this call for its extension. */
  link(call: ExtensionCall, callId: string): void {
    if (!call.aliases.includes(callId)) call.aliases.push(callId);
    this.byCallId.add(callId, call, true);
  }

  /** An event concerned the call: it lives on. */
  touch(call: ExtensionCall, now: number): void {
    call.lastEventAt = now;
    if (call.record.status === 'ended') return;
    const set = this.statusSet(call.record);
    set.delete(call);
    set.add(call);
  }

  /** Replace the call's record (endedAtMs: when it ended, if it just did). */
  replace(call: ExtensionCall, record: CallRecord, endedAtMs?: number): void {
    const before = call.record;
    call.record = record;
    if (endedAtMs !== undefined) call.endedAtMs = endedAtMs;
    if (call.numberKey === null) return; // forgotten already
    if (before.status !== record.status) {
      this.statusSet(before).delete(call);
      this.statusSet(record).add(call);
    }
    if (before.number !== record.number) {
      this.unindex(call);
      this.index(call);
    }
  }

  forget(call: ExtensionCall): void {
    if (call.numberKey === null) return;
    this.count--;
    this.statusSet(call.record).delete(call);
    for (const id of call.aliases) this.byCallId.remove(id, call);
    this.unindex(call);
    call.numberKey = null;
    const own = this.byExtension.get(call.extension);
    own?.delete(call);
    if (own?.size === 0) this.byExtension.delete(call.extension);
  }

  /** The extension's latest call (by start) with this number (any number when null) that `accept`s. */
  latestByNumber(extension: string, number: string | null, accept: (c: ExtensionCall) => boolean): ExtensionCall | undefined {
    const mine = this.byExtension.get(extension);
    if (!mine) return undefined;
    // Whichever list is shorter: the extension's calls, or every call with the number (e.g. withheld).
    const want = number === null ? null : digits(number);
    const same = want === null ? undefined : this.byNumber.get(want);
    if (want !== null && !same) return undefined;
    const pool = same && same.length < mine.size ? same : mine;
    let best: ExtensionCall | undefined;
    for (const c of pool) {
      if (c.extension !== extension || (want !== null && c.numberKey !== want) || !accept(c)) continue;
      if (!best || c.record.startedAt > best.record.startedAt) best = c;
    }
    return best;
  }

  /** Every held call with this number (digits compared), of any extension. */
  withNumber(number: string): readonly ExtensionCall[] {
    return this.byNumber.get(digits(number)) ?? [];
  }

  /** Ringing or talking calls, of one extension or all, newest first. */
  open(extension?: string): CallRecord[] {
    const pool = extension === undefined ? [...this.ringing, ...this.talking] : [...(this.byExtension.get(extension) ?? [])];
    return pool
      .map((c) => c.record)
      .filter((r) => r.status !== 'ended')
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** Open calls whose last event is at or before `cutoff`, oldest first. */
  silentSince(status: 'ringing' | 'talking', cutoff: number): ExtensionCall[] {
    return takeWhile(status === 'ringing' ? this.ringing : this.talking, (c) => c.lastEventAt <= cutoff);
  }

  /** Ended calls that ended at or before `cutoff`, oldest first. */
  endedBy(cutoff: number): ExtensionCall[] {
    return takeWhile(this.ended, (c) => c.endedAtMs !== null && c.endedAtMs <= cutoff);
  }

  /** The call to give up first when there are too many: the oldest ended, else the most silent ringing, else talking. */
  oldest(): ExtensionCall | undefined {
    for (const set of [this.ended, this.ringing, this.talking]) for (const c of set) return c;
    return undefined;
  }

  private statusSet(r: CallRecord): Set<ExtensionCall> {
    return r.status === 'ringing' ? this.ringing : r.status === 'talking' ? this.talking : this.ended;
  }

  private index(call: ExtensionCall): void {
    const key = digits(call.record.number);
    call.numberKey = key;
    this.byNumber.add(key, call);
  }

  private unindex(call: ExtensionCall): void {
    if (call.numberKey !== null) this.byNumber.remove(call.numberKey, call);
  }
}

function takeWhile(set: Set<ExtensionCall>, ok: (c: ExtensionCall) => boolean): ExtensionCall[] {
  const out: ExtensionCall[] = [];
  for (const c of set) {
    if (!ok(c)) break;
    out.push(c);
  }
  return out;
}
