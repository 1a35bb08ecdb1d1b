// Settling missed calls (issue #20): a missed call is dealt with when the agent marks it seen, calls the
// number back, or talks with that number (an answered call either way). Then EVERY unseen missed call
// from that number is settled, not just the one clicked: five missed calls from one customer are one
// matter. The settled records are pushed as updates so the popup closes their cards and the badge drops.
import type { CallRecord } from '../../../shared/call-record';
import { isMissedCall } from '../../../shared/call-outcome';
import { numberMatchKey } from '../../../shared/phone';
import type { CallLogStore } from './store';

/** The unseen missed calls from `number` (any format of it), newest first. */
export function unseenMissedFrom(store: Pick<CallLogStore, 'iterate'>, number: string, defaultCountry: string): CallRecord[] {
  const key = numberMatchKey(number, defaultCountry);
  if (key === '') return [];
  return [...store.iterate({ text: number, result: 'missed', unseenOnly: true })].filter((r) => isMissedCall(r) && !r.seen && numberMatchKey(r.number, defaultCountry) === key);
}

/** Whether an update means the agent dealt with the number: they called it, or talked with it. */
export function settlesNumber(record: Pick<CallRecord, 'direction' | 'status' | 'result' | 'number'>): boolean {
  if (record.number === '') return false;
  if (record.direction === 'outgoing') return true;
  return record.result === 'answered';
}
