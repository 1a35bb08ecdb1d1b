// Call records for tests: one complete record (every field of shared/call-record.ts) with what a test
// names changed. The default is an incoming call to 117 that rang and was missed.
import type { CallRecord, RingingCall } from '../../shared/call-record';

/** Any of the record's fields, each with any value its variants allow (the result is cast: tests build odd records on purpose). */
type Fields = { [K in keyof CallRecord]?: CallRecord[K] };

export function callRecord(over: Fields & { id: string }): CallRecord {
  return {
    direction: 'incoming',
    number: '05551239988',
    extension: '117',
    queue: null,
    did: null,
    startedAt: '2026-11-24T10:00:00.000Z',
    durationSec: null,
    transferType: null,
    transferredTo: null,
    transferredFrom: null,
    answeredBy: null,
    recordings: [],
    seen: false,
    status: 'ended',
    result: 'missed',
    answeredAt: null,
    endedAt: '2026-11-24T10:00:30.000Z',
    ...over,
  } as CallRecord;
}

/** A call that is ringing now (no result, no answer, no end). */
export function ringingRecord(over: Partial<RingingCall> & { id: string }): RingingCall {
  return callRecord({ status: 'ringing', result: null, answeredAt: null, endedAt: null, ...over }) as RingingCall;
}
