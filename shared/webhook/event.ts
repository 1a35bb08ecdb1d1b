// A 3CX WebAPI webhook after parsing: one typed event whichever scheme (POST JSON or GET query)
// delivered it. Every string in here came from the network and is untrusted.

/** "230307142318_40-2" → { callId: "230307142318_40", leg: 2 }. */
export interface CallRef {
  /** The id as sent. */
  raw: string;
  /** The part before the last "-<digits>" (the whole id when there is none). */
  callId: string;
  /** The leg number after the dash; null when the id has none. */
  leg: number | null;
}

export type UserType = 'ext' | 'queue' | 'other';
export type CallDirection = 'incoming' | 'outgoing';

interface CallEventBase {
  ref: CallRef;
  /** Extension, queue, IVR or ring group number the event is about. */
  user: string;
  /** Other party; "" when withheld. May be "MAKECALL" on a MakeCall's started event. */
  callerId: string;
  /** DID without the "DID-" prefix; null when empty or absent. */
  did: string | null;
}

/** The call rings `user` (an extension, a queue, or the IVR / anything else). */
export interface RingingEvent extends CallEventBase {
  type: 'ringing';
  userType: UserType;
  /** The caller's name from the PBX ("Callername": only Call Control's translation sends it). */
  callerName?: string | null;
}

/** `user` dials out to callerId. */
export interface DialingEvent extends CallEventBase {
  type: 'dialing';
  callerName?: string | null;
}

/** incomingcall_started / outgoingcall_started (and their hangup-/pickup- aliases): `user` is talking. */
export interface StartedEvent extends CallEventBase {
  type: 'started';
  direction: CallDirection;
  /** Attended / Blind: `user` took the call over by a transfer. null for NotDef. */
  transferType: 'attended' | 'blind' | null;
}

/** incoming / outgoing: the call ended for `user` (or, for a missed call, for everyone it rang). */
export interface EndedEvent extends CallEventBase {
  type: 'ended';
  direction: CallDirection;
  finish: 'ok' | 'missed';
  /** The "Transfer" flag: this leg ended by joining a transfer. */
  transfer: boolean;
  /** Talk time in seconds; from "Duration" (POST) or the title's "(0:07)" (GET). */
  durationSec: number | null;
}

/** A recording is ready. The GET scheme sends only the URL, so user and callerId may be unknown. */
export interface RecordingEvent {
  type: 'recording';
  ref: CallRef;
  user: string | null;
  callerId: string | null;
  urls: string[];
}

/** Any other event name: accepted and ignored. */
export interface UnknownEvent {
  type: 'unknown';
  name: string;
}

export type WebhookEvent = RingingEvent | DialingEvent | StartedEvent | EndedEvent | RecordingEvent | UnknownEvent;
export type CallEvent = Exclude<WebhookEvent, UnknownEvent>;

/** One HTTP request as the listener hands it to the parser. */
export interface RawWebhook {
  method: 'GET' | 'POST';
  /** The raw query string without the leading "?" ("" when none). */
  query: string;
  /** The raw request body as text ("" for GET). */
  body: string;
  /** The Content-Type header, if any. */
  contentType?: string | undefined;
}

export type ParseResult = { ok: true; event: WebhookEvent } | { ok: false; error: string };
