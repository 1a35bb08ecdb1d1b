// The popup's cards as pure state: which calls show, in what order, and when a ringing call that went
// quiet is taken for "stopped ringing?". No DOM, no timers: PopupApp drives it with Date.now().
import type { CallView } from '../../../shared/ipc/contract';

export interface Card {
  call: CallView;
  /** When this page learnt the call was over (ms since epoch); auto-close counts from here. */
  endedAt: number | null;
  /** When this page last had news of the call: a ringing call silent for the ring timeout is stale. */
  newsAt: number;
  /** When it was taken for "stopped ringing?" (it then leaves); null while it is not. */
  staleAt: number | null;
}

const TIMEOUT_SLACK_MS = 1000;

const live = (c: Card) => c.call.status !== 'ended' && c.staleAt === null;

/** Live cards (ringing, talking) above ended or stale ones; newest first within each group. */
export function ordered(cards: readonly Card[]): Card[] {
  return [...cards.filter(live), ...cards.filter((c) => !live(c))];
}

/**
 * One update from main. A ringing card ended as missed by the tracker's ring timeout (no news for that
 * long; the page may hear of it a moment before its own timer) is, or stays, "stopped ringing?".
 */
export function applyUpdate(cards: readonly Card[], call: CallView, now: number, ringTimeoutMs: number | null = null): Card[] {
  const i = cards.findIndex((c) => c.call.id === call.id);
  const endedAt = (was: Card | null) => (call.status !== 'ended' ? null : (was?.endedAt ?? now));
  if (i < 0) return [{ call, endedAt: endedAt(null), newsAt: now, staleAt: null }, ...cards];
  const was = cards[i]!;
  const endedMissed = was.call.status === 'ringing' && call.status === 'ended' && call.result === 'missed';
  // The tracker counts from its last event, this page from when it heard of it: a second of slack.
  const silent = ringTimeoutMs !== null && now - was.newsAt >= ringTimeoutMs - TIMEOUT_SLACK_MS;
  const timedOut = endedMissed && (was.staleAt !== null || silent);
  const next = cards.slice();
  next[i] = { call, endedAt: endedAt(was), newsAt: now, staleAt: timedOut ? (was.staleAt ?? now) : null };
  return next;
}

/** When the next ringing card goes stale (ms), or null. */
export function nextStaleAt(cards: readonly Card[], ringTimeoutMs: number): number | null {
  const due = cards.filter((c) => c.call.status === 'ringing' && c.staleAt === null).map((c) => c.newsAt + ringTimeoutMs);
  return due.length > 0 ? Math.min(...due) : null;
}

/** Ringing cards silent for the ring timeout by `now` become stale. */
export function markStale(cards: readonly Card[], ringTimeoutMs: number, now: number): Card[] {
  return cards.map((c) => (c.call.status === 'ringing' && c.staleAt === null && c.newsAt + ringTimeoutMs <= now ? { ...c, staleAt: now } : c));
}
