// OS notifications for ringing (optional) and missed calls (those a hub backfill brings as one summary).
// A click opens the call in the main window. The text shows the caller (it is the user's own screen);
// the log never does.
import { isMissedCall, isRangOut, outcomeLabels } from '../../shared/call-outcome';
import type { CallChange } from '../../shared/call-record';
import type { CallView, NavigateTarget } from '../../shared/ipc/contract';
import { formatPhone } from '../../shared/phone';
import type { Settings } from '../../shared/settings';

export interface NotificationLike {
  on(event: 'click', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  show(): void;
}

export interface NotifierDeps {
  isSupported: () => boolean;
  create: (options: { title: string; body: string; silent?: boolean }) => NotificationLike;
  settings: () => Settings;
  openCall: (target: NavigateTarget) => void;
  /** Default process.platform: on Linux the body is markup (see escapeNotificationMarkup). */
  platform?: NodeJS.Platform;
  /** Tests: how long backfilled missed calls are gathered before the summary. */
  awaySummaryDelayMs?: number;
}

/**
 * Linux notification servers read the body as markup (freedesktop notification spec: <b>, <i>,
 * <u>, <a href>, <img>) and Electron hands it to libnotify as is, so a caller id or contact name
 * like `<a href=…>` or `<img src=…>` would be rendered. Escaping & < > (what the spec and Ubuntu's
 * guidelines ask for) shows it as text; no tag can start without a `<`.
 */
export function escapeNotificationMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function callerText(record: CallView, country: string): string {
  const number = record.number === '' ? 'Unknown number' : formatPhone(record.number, country);
  const via = record.queue ? ` via queue ${record.queue}` : record.did ? ` on ${record.did}` : '';
  return `${record.contactName ? `${record.contactName} (${number})` : number}${via}`;
}

/** Backfilled missed calls this close together make one summary (a sync arrives in chunks). */
export const AWAY_SUMMARY_DELAY_MS = 1500;

export class CallNotifier {
  // Keep references until closed, or the notification may be garbage-collected and its click lost.
  private readonly live = new Set<NotificationLike>();
  /** Missed calls a hub backfill brought (ids: a call counts once), summed up in one notification. */
  private readonly away = new Map<string, CallView>();
  private awayTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly d: NotifierDeps) {}

  /**
   * `backfill`: the change came from a hub catch-up after the PC was off or offline. Missed calls then
   * make ONE "3 missed calls while you were away" notification, not one per call.
   */
  onCallUpdate(change: CallChange, record: CallView, backfill = false): void {
    if (backfill) {
      if (change === 'missed' && isMissedCall(record) && this.d.settings().notifications.missed) {
        this.away.set(record.id, record);
        if (this.awayTimer) clearTimeout(this.awayTimer);
        this.awayTimer = setTimeout(() => this.showAwaySummary(), this.d.awaySummaryDelayMs ?? AWAY_SUMMARY_DELAY_MS);
      }
      if (change !== 'ringing') return;
    }
    const s = this.d.settings();
    let title: string | null = null;
    let target: NavigateTarget = { view: 'calls', callId: record.id };
    if (change === 'ringing' && record.direction === 'incoming' && s.notifications.ringing) title = 'Incoming call';
    // The change "missed" of an own outgoing call is "Not answered", not a missed call (shared/call-outcome.ts).
    if (change === 'missed' && isMissedCall(record) && s.notifications.missed) {
      // A ring with no end seen says so, as the card and the log do (shared/call-outcome.ts).
      title = isRangOut(record) ? outcomeLabels['rang-out'] : 'Missed call';
      target = { view: 'log', callId: record.id };
    }
    if (!title || !this.d.isSupported()) return;
    const text = callerText(record, s.defaultCountry);
    const body = (this.d.platform ?? process.platform) === 'linux' ? escapeNotificationMarkup(text) : text;
    const n = this.d.create({ title, body, silent: change === 'ringing' });
    this.live.add(n);
    n.on('click', () => this.d.openCall(target));
    n.on('close', () => this.live.delete(n));
    n.show();
  }

  private showAwaySummary(): void {
    this.awayTimer = null;
    const calls = [...this.away.values()];
    this.away.clear();
    if (calls.length === 0 || !this.d.isSupported()) return;
    const s = this.d.settings();
    const title = calls.length === 1 ? 'Missed call while you were away' : `${calls.length} missed calls while you were away`;
    const text = calls.length === 1 ? callerText(calls[0]!, s.defaultCountry) : calls.slice(0, 3).map((c) => callerText(c, s.defaultCountry)).join(', ') + (calls.length > 3 ? ', …' : '');
    const body = (this.d.platform ?? process.platform) === 'linux' ? escapeNotificationMarkup(text) : text;
    const n = this.d.create({ title, body });
    this.live.add(n);
    n.on('click', () => this.d.openCall(calls.length === 1 ? { view: 'log', callId: calls[0]!.id } : { view: 'log' }));
    n.on('close', () => this.live.delete(n));
    n.show();
  }
}
