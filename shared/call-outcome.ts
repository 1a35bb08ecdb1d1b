// What became of a call, as agents read it. The stored record keeps its shape (an agent's own
// unanswered outgoing call is direction "outgoing" + result "missed"), and this is the one place that
// says it is "not answered", not a missed call: the badge, `callpop log --missed`, the Missed filter,
// the popup's history and every label go through it.
import type { CallRecord } from './call-record';

export const callOutcomes = ['ringing', 'dialing', 'talking', 'answered', 'missed', 'not-answered', 'answered-elsewhere'] as const;
export type CallOutcome = (typeof callOutcomes)[number];

/** The result filter of the log: a stored result, or "not-answered" (own outgoing calls nobody took). */
export const resultFilters = ['answered', 'missed', 'not-answered', 'answered-elsewhere'] as const;
export type ResultFilter = (typeof resultFilters)[number];

type Fields = Pick<CallRecord, 'direction' | 'result'>;

/** A call someone made to this agent that nobody here took: counts as missed (badge, filter, history). */
export const isMissedCall = (r: Fields): boolean => r.result === 'missed' && r.direction === 'incoming';
/** The agent's own outgoing call that the other side did not take. */
export const isNotAnswered = (r: Fields): boolean => r.result === 'missed' && r.direction === 'outgoing';

export function callOutcome(r: Fields & Pick<CallRecord, 'status'>): CallOutcome {
  if (r.status === 'ringing') return r.direction === 'incoming' ? 'ringing' : 'dialing';
  if (r.status === 'talking') return 'talking';
  if (r.result === 'missed') return r.direction === 'incoming' ? 'missed' : 'not-answered';
  return r.result ?? 'answered';
}

export const outcomeLabels: Record<CallOutcome, string> = {
  ringing: 'Ringing',
  dialing: 'Dialing',
  talking: 'Talking',
  answered: 'Answered',
  missed: 'Missed',
  'not-answered': 'Not answered',
  'answered-elsewhere': 'Answered elsewhere',
};

export const outcomeLabel = (r: Fields & Pick<CallRecord, 'status'>): string => outcomeLabels[callOutcome(r)];

/** Whether a call passes the log's result filter. */
export function matchesResultFilter(r: Fields, filter: ResultFilter): boolean {
  if (filter === 'missed') return isMissedCall(r);
  if (filter === 'not-answered') return isNotAnswered(r);
  return r.result === filter;
}
