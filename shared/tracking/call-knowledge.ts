// What the PBX told us about each call id, whoever it concerned: the one PBX-wide store the
// per-extension views read (queue, DID, number, who answered which leg). Bounded by an LRU, so
// calls that never end cannot grow it.
import { LruMap } from '../lru';
import type { CallRef, UserType } from '../webhook/event';

export const MAKECALL = 'MAKECALL';

export interface CallFacts {
  /** The other party's number, from the first event that carried one ("MAKECALL" is not one). */
  number: string;
  /** The caller's name from the PBX, when a source sends one (Call Control). */
  name?: string;
  queue: string | null;
  did: string | null;
  /** leg → extension that answered it (from "started" events). null until one did (most ids never get one: saves memory). */
  legAnswerers: Map<number, string> | null;
  /** leg → extension whose end of that leg was "Ok" (a recording's owner when no started event named the leg). */
  legEnders: Map<number, string> | null;
  lastAnswerer: string | null;
  /** Highest leg someone answered: a ringing of an older leg arriving later is stale. */
  maxAnsweredLeg: number;
  endedMissed: boolean;
}

export class CallKnowledge {
  private readonly calls: LruMap<string, CallFacts>;
  /** Users the PBX named as a queue or IVR ("Usertype"): never an extension with calls of its own. */
  private readonly notExtensions: LruMap<string, true>;

  constructor(maxCalls: number) {
    this.calls = new LruMap(maxCalls);
    this.notExtensions = new LruMap(4096);
  }

  /** The facts of a call id, created on first sight; fills the number and DID from the event. */
  touch(callId: string, callerId: string, did: string | null): CallFacts {
    let info = this.calls.get(callId);
    if (!info) {
      info = {
        number: '',
        queue: null,
        did: null,
        legAnswerers: null,
        legEnders: null,
        lastAnswerer: null,
        maxAnsweredLeg: -1,
        endedMissed: false,
      };
      this.calls.addMissing(callId, info);
    }
    if (!info.number && callerId && callerId !== MAKECALL) info.number = callerId;
    if (did) info.did = did;
    return info;
  }

  peek(callId: string): CallFacts | undefined {
    return this.calls.get(callId);
  }

  /** Who a recording of this leg belongs to: whoever answered the leg; null when that cannot be told. */
  recordingOwner(ref: CallRef): string | null {
    if (ref.leg === null) return null;
    const info = this.calls.get(ref.callId);
    return info?.legAnswerers?.get(ref.leg) ?? info?.legEnders?.get(ref.leg) ?? null;
  }

  /** A ringing event says what kind of user it rings; an extension named a queue once may ring as an extension later. */
  noteUserType(user: string, type: UserType): void {
    if (type === 'ext') this.notExtensions.delete(user);
    else this.notExtensions.set(user, true);
  }

  mayBeExtension(user: string): boolean {
    return !this.notExtensions.has(user);
  }

  get size(): number {
    return this.calls.size;
  }
}
