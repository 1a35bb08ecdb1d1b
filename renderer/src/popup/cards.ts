// The popup's cards as pure state: which calls show, in what order, when a ringing call that went
// quiet is taken for rang out ("Missed (rang out, no end seen)"), and when a card closes by itself. That last rule lives here
// and nowhere else (main's PopupController only hears of it as a dismissal): only this page knows
// whether a card is in use (focus, an open form, unsaved text, an error shown), which keeps it open.
// No DOM, no timers: PopupApp drives it with Date.now().
import type { CallView } from '../../../shared/ipc/contract';
import { isMissedCall } from '../../../shared/call-outcome';

export interface Card {
  call: CallView;
  /** When this page learnt the call was over (ms since epoch); auto-close counts from here. */
  endedAt: number | null;
  /** When this page last had news of the call: a ringing call silent for the ring timeout is stale. */
  newsAt: number;
  /** When this page took it for rang out (no news for the ring timeout; it stays like a missed call); null while it is not. */
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
 * long; the page may hear of it a moment before its own timer) is, or stays, rang out.
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

/** Settings → Popups: close a finished call after autoCloseSec (0 = never); missed ones only with autoCloseMissed. */
export interface CloseRule {
  autoCloseSec: number;
  autoCloseMissed: boolean;
}

/**
 * When the card closes by itself (ms since epoch), or null when it waits to be dismissed. A call that
 * stopped ringing unanswered (the PBX said missed, or the ring timeout took it for missed) is a missed
 * call: it waits for the agent away from the desk unless Settings says otherwise.
 */
export function closeAt(c: Card, rule: CloseRule): number | null {
  if (rule.autoCloseSec <= 0 || c.endedAt === null) return null;
  if ((c.staleAt !== null || isMissedCall(c.call)) && !rule.autoCloseMissed) return null;
  return c.endedAt + rule.autoCloseSec * 1000;
}

/**
 * The cards due to close at `now`, split by `inUse` (the card has the focus, an open form, unsaved text
 * or an error shown). Cards in use stay and count their delay again from `now`, so a card the agent
 * just left still gives them the whole delay to come back.
 */
export function closeDue(cards: readonly Card[], rule: CloseRule, now: number, inUse: (callId: string) => boolean): { close: string[]; next: Card[] } {
  const close: string[] = [];
  const next = cards.flatMap((c) => {
    const at = closeAt(c, rule);
    if (at === null || at > now) return [c];
    if (inUse(c.call.id)) return [{ ...c, endedAt: now }];
    close.push(c.call.id);
    return [];
  });
  return { close, next };
}

/** A missed call the agent dealt with (marked seen, called back, talked with the number): its card goes. */
export const settled = (c: Card): boolean => c.call.status === 'ended' && isMissedCall(c.call) && c.call.seen;

/** Missed or taken for rang out: the cards grouped by caller and cleared by "Dismiss all missed". */
export const isMissedCard = (c: Card): boolean => c.staleAt !== null || (c.call.status === 'ended' && isMissedCall(c.call));

/**
 * One entry per card to show, missed calls from one caller gathered into one (issue #20: 13 cards, one
 * number five times). `key` gives a caller's key ("" = cannot be matched, e.g. withheld: never grouped).
 * Each entry is shown as its newest card; `group` is every card it stands for, newest first.
 */
export function groupMissed(shown: readonly Card[], key: (c: Card) => string): { card: Card; group: Card[] }[] {
  const out: { card: Card; group: Card[] }[] = [];
  const byKey = new Map<string, Card[]>();
  for (const c of shown) {
    const k = isMissedCard(c) ? key(c) : '';
    const group = k !== '' ? byKey.get(k) : undefined;
    if (group) {
      group.push(c);
      continue;
    }
    const g = [c];
    if (k !== '') byKey.set(k, g);
    out.push({ card: c, group: g });
  }
  return out;
}
