// What became of a call, as agents read it. The stored record keeps its shape (an agent's own
// unanswered outgoing call is direction "outgoing" + result "missed"), and this is the one place that
// says it is "not answered", not a missed call: the badge, `callpop log --missed`, the Missed filter,
// the popup's history and every label go through it.
// A missed call that Callpop ended itself because it rang with no news for the ring timeout (the
// record's `endedBy: 'ring-timeout'`; 3CX never says that a caller gave up) is "rang-out": still a
// missed call (badge, Missed filter, callbacks), named for what is known, the same on the card, the
// log, the details, the filter, the CSV and Settings.
import type { CallRecord } from './call-record';

export const callOutcomes = ['ringing', 'dialing', 'talking', 'answered', 'missed', 'rang-out', 'not-answered', 'answered-elsewhere'] as const;
export type CallOutcome = (typeof callOutcomes)[number];

/** The result filter of the log: a stored result, "rang-out" (missed ones Callpop ended), or "not-answered" (own outgoing calls nobody took). */
export const resultFilters = ['answered', 'missed', 'rang-out', 'not-answered', 'answered-elsewhere'] as const;
export type ResultFilter = (typeof resultFilters)[number];

type Fields = Pick<CallRecord, 'direction' | 'result'> & Partial<Pick<CallRecord, 'endedBy'>>;

/** A call someone made to this agent that nobody here took: counts as missed (badge, filter, history). */
export const isMissedCall = (r: Fields): boolean => r.result === 'missed' && r.direction === 'incoming';
/** The agent's own outgoing call that the other side did not take. */
export const isNotAnswered = (r: Fields): boolean => r.result === 'missed' && r.direction === 'outgoing';
/** A missed call that rang with no news for the ring timeout: Callpop ended it, the PBX never said. */
export const isRangOut = (r: Fields): boolean => isMissedCall(r) && r.endedBy === 'ring-timeout';

export function callOutcome(r: Fields & Pick<CallRecord, 'status'>): CallOutcome {
  if (r.status === 'ringing') return r.direction === 'incoming' ? 'ringing' : 'dialing';
  if (r.status === 'talking') return 'talking';
  if (r.result === 'missed') return r.direction === 'incoming' ? (r.endedBy === 'ring-timeout' ? 'rang-out' : 'missed') : 'not-answered';
  return r.result ?? 'answered';
}

export const outcomeLabels: Record<CallOutcome, string> = {
  ringing: 'Ringing',
  dialing: 'Dialing',
  talking: 'Talking',
  answered: 'Answered',
  missed: 'Missed',
  'rang-out': 'Missed (rang out, no end seen)',
  'not-answered': 'Not answered',
  'answered-elsewhere': 'Answered elsewhere',
};

export const outcomeLabel = (r: Fields & Pick<CallRecord, 'status'>): string => outcomeLabels[callOutcome(r)];

/** Whether a call passes the log's result filter. */
export function matchesResultFilter(r: Fields, filter: ResultFilter): boolean {
  if (filter === 'missed') return isMissedCall(r);
  if (filter === 'rang-out') return isRangOut(r);
  if (filter === 'not-answered') return isNotAnswered(r);
  return r.result === filter;
}
