// The calls of each tracked extension, as records, with the indexes the rules need so that no
// event ever walks all extensions or all calls: by 3CX call id (each id → the extensions holding a
// record under it), by extension + number (the fallback for ids that do not line up), and by
// status in time order (timeouts and forgetting walk only what expired).
import type { CallRecord } from '../call-record';

/** One call of one extension while the tracker still needs it. */
export interface ExtensionCall {
  readonly extension: string;
  record: CallRecord;
  /** Every 3CX call id that turned out to be this call (the record id first). */
  readonly aliases: Set<string>;
  /** Last time any event concerned the call (for the ring/talk timeouts). */
  lastEventAt: number;
  /** When the record ended (for forgetting it after the recording window). */
  endedAtMs: number | null;
}

const digits = (s: string): string => s.replace(/\D+/g, '');

export class ExtensionCalls {
  // Insertion order = time order: ringing/talking by last event, ended by end time. A touched call
  // is moved to the end, so the expired ones are always at the front.
  private readonly ringing = new Map<ExtensionCall, true>();
  private readonly talking = new Map<ExtensionCall, true>();
  private readonly ended = new Map<ExtensionCall, true>();
  /** 3CX call id → extension → call. */
  private readonly byCallId = new Map<string, Map<string, ExtensionCall>>();
  /** digits of the number → extension → calls. */
  private readonly byNumber = new Map<string, Map<string, Set<ExtensionCall>>>();
  private readonly byExtension = new Map<string, Set<ExtensionCall>>();
  /** The number each call is indexed under (its record's number changes when enriched). */
  private readonly numberKey = new Map<ExtensionCall, string>();

  get size(): number {
    return this.numberKey.size;
  }

  get openCount(): number {
    return this.ringing.size + this.talking.size;
  }

  /** Extension → call for every extension holding a record under this call id. */
  holders(callId: string): ReadonlyMap<string, ExtensionCall> | undefined {
    return this.byCallId.get(callId);
  }

  of(extension: string, callId: string): ExtensionCall | undefined {
    return this.byCallId.get(callId)?.get(extension);
  }

  add(record: CallRecord, lastEventAt: number, endedAtMs: number | null): ExtensionCall {
    const call: ExtensionCall = { extension: record.extension, record, aliases: new Set(), lastEventAt, endedAtMs };
    this.statusMap(record).set(call, true);
    this.link(call, record.id);
    this.index(call);
    let own = this.byExtension.get(call.extension);
    if (!own) this.byExtension.set(call.extension, (own = new Set()));
    own.add(call);
    return call;
  }

  link(call: ExtensionCall, callId: string): void {
    call.aliases.add(callId);
    let exts = this.byCallId.get(callId);
    if (!exts) this.byCallId.set(callId, (exts = new Map()));
    exts.set(call.extension, call);
  }

  /** An event concerned the call: it lives on. */
  touch(call: ExtensionCall, now: number): void {
    call.lastEventAt = now;
    if (call.record.status === 'ended') return;
    const m = this.statusMap(call.record);
    m.delete(call);
    m.set(call, true);
  }

  /** Replace the call's record (endedAtMs: when it ended, if it just did). */
  replace(call: ExtensionCall, record: CallRecord, endedAtMs?: number): void {
    const before = call.record;
    call.record = record;
    if (endedAtMs !== undefined) call.endedAtMs = endedAtMs;
    if (before.status !== record.status) {
      this.statusMap(before).delete(call);
      this.statusMap(record).set(call, true);
    }
    if (before.number !== record.number) {
      this.unindex(call);
      this.index(call);
    }
  }

  forget(call: ExtensionCall): void {
    if (!this.numberKey.has(call)) return;
    this.statusMap(call.record).delete(call);
    for (const id of call.aliases) {
      const exts = this.byCallId.get(id);
      if (exts?.get(call.extension) !== call) continue;
      exts.delete(call.extension);
      if (exts.size === 0) this.byCallId.delete(id);
    }
    this.unindex(call);
    const own = this.byExtension.get(call.extension);
    own?.delete(call);
    if (own?.size === 0) this.byExtension.delete(call.extension);
  }

  /** The extension's latest call (by start) with this number (any number when null) that `accept`s. */
  latestByNumber(extension: string, number: string | null, accept: (c: ExtensionCall) => boolean): ExtensionCall | undefined {
    const pool = number === null ? this.byExtension.get(extension) : this.byNumber.get(digits(number))?.get(extension);
    return pool ? latestOf(pool, accept) : undefined;
  }

  /** Extension → its calls with this number (digits compared). */
  extensionsWithNumber(number: string): ReadonlyMap<string, ReadonlySet<ExtensionCall>> | undefined {
    return this.byNumber.get(digits(number));
  }

  /** Ringing or talking calls, of one extension or all, newest first. */
  open(extension?: string): CallRecord[] {
    const pool = extension === undefined ? [...this.ringing.keys(), ...this.talking.keys()] : [...(this.byExtension.get(extension) ?? [])];
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
    for (const m of [this.ended, this.ringing, this.talking]) for (const c of m.keys()) return c;
    return undefined;
  }

  private statusMap(r: CallRecord): Map<ExtensionCall, true> {
    return r.status === 'ringing' ? this.ringing : r.status === 'talking' ? this.talking : this.ended;
  }

  private index(call: ExtensionCall): void {
    const key = digits(call.record.number);
    this.numberKey.set(call, key);
    let exts = this.byNumber.get(key);
    if (!exts) this.byNumber.set(key, (exts = new Map()));
    let set = exts.get(call.extension);
    if (!set) exts.set(call.extension, (set = new Set()));
    set.add(call);
  }

  private unindex(call: ExtensionCall): void {
    const key = this.numberKey.get(call);
    if (key === undefined) return;
    this.numberKey.delete(call);
    const exts = this.byNumber.get(key);
    const set = exts?.get(call.extension);
    if (!exts || !set) return;
    set.delete(call);
    if (set.size === 0) exts.delete(call.extension);
    if (exts.size === 0) this.byNumber.delete(key);
  }
}

/** The latest call (by start) of `pool` that `accept`s. */
export function latestOf(pool: Iterable<ExtensionCall>, accept: (c: ExtensionCall) => boolean): ExtensionCall | undefined {
  let best: ExtensionCall | undefined;
  for (const c of pool) if (accept(c) && (!best || c.record.startedAt > best.record.startedAt)) best = c;
  return best;
}

function takeWhile(m: Map<ExtensionCall, true>, ok: (c: ExtensionCall) => boolean): ExtensionCall[] {
  const out: ExtensionCall[] = [];
  for (const c of m.keys()) {
    if (!ok(c)) break;
    out.push(c);
  }
  return out;
}
