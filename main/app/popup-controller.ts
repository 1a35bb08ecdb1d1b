// Which calls get a card in the popup window, and when the window is shown or hidden. Main decides
// (so the popup renderer just shows the calls it is sent): a card opens when a call of this
// extension starts ringing (the core only pushes those) or is transferred to it, follows the call, and closes on dismiss or
// `autoCloseSec` after the call ended (answered elsewhere, missed, hung up). No cards → hidden.
import type { CallView } from '../../shared/ipc/contract';
import type { CallChange } from '../../shared/call-record';
import type { Settings } from '../../shared/settings';
import { isInternalNumber } from './window-options';

export interface PopupWindowOps {
  /** Show without taking focus, in the configured corner. */
  show(): void;
  hide(): void;
  /** Send one call update to the popup page. */
  send(update: { change: CallChange; record: CallView }): void;
}

/**
 * Changes that open a card for a live incoming call (the same rule as the popup page): ringing, and
 * answered/transferred for a call whose ringing this extension never saw (e.g. a transfer to it).
 */
const opensCard = new Set<CallChange>(['ringing', 'answered', 'transferred']);

export interface PopupControllerOptions {
  settings: () => Settings;
  window: PopupWindowOps;
}

export class PopupController {
  private readonly cards = new Map<string, ReturnType<typeof setTimeout> | null>();
  private pausedFlag = false;

  constructor(private readonly o: PopupControllerOptions) {}

  get paused(): boolean {
    return this.pausedFlag;
  }

  get openCards(): string[] {
    return [...this.cards.keys()];
  }

  /** Whether a newly ringing call should pop, given the settings. */
  shouldPop(record: CallView): boolean {
    const { popup } = this.o.settings();
    if (!popup.enabled || this.pausedFlag) return false;
    if (record.direction !== 'incoming' || record.status === 'ended') return false;
    if (popup.externalOnly && isInternalNumber(record.number)) return false;
    return true;
  }

  onCallUpdate(update: { change: CallChange; record: CallView }): void {
    const { record } = update;
    if (!this.cards.has(record.id)) {
      if (!opensCard.has(update.change) || !this.shouldPop(record)) return;
      this.cards.set(record.id, null);
      this.o.window.send(update);
      this.o.window.show();
      return;
    }
    this.o.window.send(update);
    if (record.status === 'ended' && this.cards.get(record.id) === null) {
      const sec = this.o.settings().popup.autoCloseSec;
      if (sec > 0) this.cards.set(record.id, setTimeout(() => this.close(record.id), sec * 1000));
    }
  }

  dismiss(callId: string): void {
    this.close(callId);
  }

  setPaused(paused: boolean): void {
    this.pausedFlag = paused;
    if (paused) this.clear();
  }

  /** Popups turned off in Settings: close what is open. */
  settingsChanged(): void {
    if (!this.o.settings().popup.enabled) this.clear();
  }

  private clear(): void {
    for (const id of [...this.cards.keys()]) this.close(id);
  }

  private close(callId: string): void {
    if (!this.cards.has(callId)) return;
    const timer = this.cards.get(callId);
    if (timer) clearTimeout(timer);
    this.cards.delete(callId);
    if (this.cards.size === 0) this.o.window.hide();
  }
}
