// OS notifications for ringing (optional) and missed calls. A click opens the call in the main
// window. The text shows the caller (it is the user's own screen); the log never does.
import type { CallChange } from '../../shared/call-record';
import { isMissedCall } from '../../shared/call-outcome';
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

export class CallNotifier {
  // Keep references until closed, or the notification may be garbage-collected and its click lost.
  private readonly live = new Set<NotificationLike>();

  constructor(private readonly d: NotifierDeps) {}

  onCallUpdate(change: CallChange, record: CallView): void {
    const s = this.d.settings();
    let title: string | null = null;
    let target: NavigateTarget = { view: 'calls', callId: record.id };
    if (change === 'ringing' && record.direction === 'incoming' && s.notifications.ringing) title = 'Incoming call';
    // The change "missed" of an own outgoing call is "Not answered", not a missed call (shared/call-outcome.ts).
    if (change === 'missed' && isMissedCall(record) && s.notifications.missed) {
      title = 'Missed call';
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
}
