// One call of this user's extension, as kept in the personal log and shown in the UI.
// The status/result pairing is a discriminated union so that e.g. a ringing call with a result,
// or an ended call without one, cannot be written down.
import { z } from 'zod';

export const directions = ['incoming', 'outgoing'] as const;
export const callResults = ['answered', 'missed', 'answered-elsewhere'] as const;
export const transferTypes = ['attended', 'blind'] as const;
/**
 * Why Callpop, not the PBX, ended a call: `ring-timeout` = it rang with no news for the ring timeout
 * (3CX never says that a caller gave up), so the end was not seen. New values are additive.
 */
export const endedByValues = ['ring-timeout'] as const;

export type Direction = (typeof directions)[number];
export type CallResult = (typeof callResults)[number];
export type TransferType = (typeof transferTypes)[number];
export type EndedBy = (typeof endedByValues)[number];

const isoTime = z.iso.datetime({ offset: true });
const shortText = z.string().max(256);

const base = {
  /** The 3CX call id of the first event seen for the call ("230307142318_40"). */
  id: z.string().min(1).max(64),
  direction: z.enum(directions),
  /** The other party as sent by the PBX; "" when withheld. Never "MAKECALL". */
  number: shortText,
  /** This user's extension. */
  extension: z.string().min(1).max(32),
  /** Queue or ring group the call came through. */
  queue: z.string().max(32).nullable(),
  /** DID without the "DID-" prefix. */
  did: z.string().max(64).nullable(),
  startedAt: isoTime,
  /** Talk time reported by the PBX. */
  durationSec: z.number().int().nonnegative().nullable(),
  transferType: z.enum(transferTypes).nullable(),
  transferredTo: z.string().max(32).nullable(),
  transferredFrom: z.string().max(32).nullable(),
  /** For answered-elsewhere: the extension that picked up. */
  answeredBy: z.string().max(32).nullable(),
  /** The caller's name as the PBX knows it (3CX Call Control's party_caller_name); absent with the WebAPI. */
  callerName: z.string().max(256).nullable().optional(),
  /** Recording URLs announced for this user's legs of the call (untrusted input). */
  recordings: z.array(z.string().max(2048)).max(16),
  /** The user has looked at this call (drives the missed-calls badge). */
  seen: z.boolean(),
  /**
   * Set when Callpop ended the call without an end event from the PBX (absent or null: the PBX said).
   * Optional: logs, hubs and clients from before it have no such field, and readers ignore it.
   */
  endedBy: z.enum(endedByValues).nullable().optional(),
};

export const callRecordSchema = z.discriminatedUnion('status', [
  z.object({ ...base, status: z.literal('ringing'), result: z.null(), answeredAt: z.null(), endedAt: z.null() }),
  z.object({ ...base, status: z.literal('talking'), result: z.literal('answered'), answeredAt: isoTime, endedAt: z.null() }),
  z.object({
    ...base,
    status: z.literal('ended'),
    result: z.enum(callResults),
    // null when the PBX reported the end of an answered call without its start
    answeredAt: isoTime.nullable(),
    endedAt: isoTime,
  }),
]);

export type CallRecord = z.infer<typeof callRecordSchema>;
export type RingingCall = Extract<CallRecord, { status: 'ringing' }>;
export type TalkingCall = Extract<CallRecord, { status: 'talking' }>;
export type EndedCall = Extract<CallRecord, { status: 'ended' }>;
export type CallStatus = CallRecord['status'];

/** What made a record change; drives popups and notifications. */
export const callChanges = [
  'ringing',
  'dialing',
  'answered',
  'transferred',
  'answered-elsewhere',
  'missed',
  'ended',
  'recording',
  'updated',
] as const;
export type CallChange = (typeof callChanges)[number];

/**
 * A call change: the one name it has from the tracker (or a hub, or any call feed) to the popup card.
 * Where it crosses a process it gains fields, never a new name: the hub's `seq` (HubCallUpdate, below),
 * the UI's names for the record (`CallUpdate<CallView>`, the `push:callUpdate` payload). On the hub's
 * wire it is CallChangeMessage (shared/hub-protocol.ts): versioned, zod-checked and with `prevSeq`,
 * because it comes from the network; once checked it is a HubCallUpdate again.
 */
export interface CallUpdate<R extends CallRecord = CallRecord> {
  change: CallChange;
  record: R;
  /**
   * Came from a catch-up after a (re)connect, not as it happened. A caught-up call never has the
   * change `ringing`/`dialing` unless it is still ringing and fresh, so whatever pops on `ringing`
   * pops nothing stale; missed calls that arrive with it are the "missed while you were away" ones.
   */
  backfill?: boolean;
}

/** A CallUpdate as a hub numbered it: what the hub publishes (Hub.onChange) and a hub client applies. */
export interface HubCallUpdate extends CallUpdate {
  /** The hub log's sequence number of this change. */
  seq: number;
}

/** The column order used by CSV export and `callpop log --csv`. */
export const callRecordColumns = [
  'id',
  'direction',
  'result',
  'status',
  'number',
  'extension',
  'queue',
  'did',
  'startedAt',
  'answeredAt',
  'endedAt',
  'durationSec',
  'transferType',
  'transferredTo',
  'transferredFrom',
  'answeredBy',
  'recordings',
  'seen',
  // Last, so the earlier columns of a CSV keep their places (and the call log leaves it off a row
  // without it: main/core/call-log/entry.ts).
  'endedBy',
] as const satisfies readonly (keyof CallRecord)[];
