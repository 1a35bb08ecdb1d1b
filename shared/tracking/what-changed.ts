// What a change to a call means for the user, decided once for everything that learns of a call
// other than event by event: a hub client catching up on records (the backfill), the end of a call
// nothing will end any more (endAbandoned: the extension changed, the agent cleared a ghost call), and
// the change an end with a given result is (the trackers use it for the PBX's own ends).
import { sameCallExceptSeen } from '../call-record-equal';
import type { CallChange, CallRecord, CallResult, CallUpdate, EndedCall } from '../call-record';

/** A caught-up ring older than this is not popped (issue 9: "began ringing more than a minute ago"). */
export const staleRingMs = 60_000;

/** The change an end with this result is (a missed call, one a colleague took, or just the end). */
export function endChange(result: CallResult): CallChange {
  return result === 'missed' ? 'missed' : result === 'answered-elsewhere' ? 'answered-elsewhere' : 'ended';
}

/** The two records say the same but for `seen` (which the user changes on this PC, not the PBX). */
export const sameExceptSeen = sameCallExceptSeen;

/**
 * What a record's arrival means, given what the log had (`prev`), when only records are known (a
 * backfill): a ring pops only while it is fresh, so nothing stale pops.
 */
export function changeBetween(prev: CallRecord | undefined, r: CallRecord, nowMs: number): CallChange {
  if (r.status === 'ringing') {
    if (prev?.status === 'ringing') return 'updated';
    const fresh = nowMs - Date.parse(r.startedAt) <= staleRingMs;
    return fresh ? (r.direction === 'incoming' ? 'ringing' : 'dialing') : 'updated';
  }
  if (r.status === 'talking') return prev?.status === 'talking' ? 'updated' : 'answered';
  if (prev?.status === 'ended') return r.recordings.length > prev.recordings.length ? 'recording' : 'updated';
  return endChange(r.result);
}

/**
 * A call still open that nothing will end any more (the tracker was rebuilt for another extension, or
 * the agent cleared a ghost call) ends now, as the tracker's silence timeout would (ringing → missed,
 * talking → answered with an unknown duration). It stays in the log; now is the last moment it was
 * known to be going on.
 */
export function endAbandoned(r: CallRecord, nowMs: number): CallUpdate | null {
  if (r.status === 'ended') return null;
  const missed = r.status === 'ringing';
  const record: EndedCall = {
    ...r,
    status: 'ended',
    result: missed ? 'missed' : 'answered',
    endedAt: new Date(Math.max(nowMs, Date.parse(r.answeredAt ?? r.startedAt))).toISOString(),
    seen: r.seen || !(missed && r.direction === 'incoming'),
    // A ring nothing will end: no end was seen, as with the ring timeout.
    ...(missed ? { endedBy: 'ring-timeout' as const } : {}),
  };
  return { change: endChange(record.result), record };
}
