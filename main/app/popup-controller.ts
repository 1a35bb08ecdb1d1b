// Which calls get a card in the popup window, and when the window is shown or hidden. Main decides
// (so the popup renderer just shows the calls it is sent): a card opens when a call of this
// extension starts ringing (the core only pushes those) or is transferred to it, follows the call, and
// closes when the page dismisses it: by the agent, or by itself `autoCloseSec` after the call ended.
// That delay is decided by the page alone (renderer/src/popup/cards.ts), the only one that knows
// whether the agent is using the card (typing a note, reading an error). No cards → hidden.
// When the popup page (re)loads, restore() re-sends every open card and adds the core's live calls
// (after an app restart), so the page and the window's visibility never disagree.
import type { CallView } from '../../shared/ipc/contract';
import type { CallChange, CallUpdate } from '../../shared/call-record';
import type { Settings } from '../../shared/settings';
import { isInternalNumber } from './window-options';

export interface PopupWindowOps {
  /** Show without taking focus, in the configured corner. */
  show(): void;
  hide(): void;
  /** Send one call update to the popup page; the page opens a card for any live call it is sent. */
  send(update: { change: CallChange; record: CallView; backfill?: boolean | undefined }): void;
}

/**
 * Changes that open a card for a live incoming call (the same rule as the popup page): ringing, and
 * answered/transferred for a call whose ringing this extension never saw (e.g. a transfer to it).
 */
const opensCard = new Set<CallChange>(['ringing', 'answered', 'transferred']);
/** More closed ids than live calls anyone has at once. */
const MAX_CLOSED = 256;

export interface PopupControllerOptions {
  settings: () => Settings;
  window: PopupWindowOps;
}

/** Main's memory of a card the popup shows (the page keeps the card's own state: renderer/src/popup/cards.ts). */
interface Card {
  /** The last update sent for this call (re-sent when the page reloads). */
  last: CallUpdate<CallView>;
}

export class PopupController {
  private readonly cards = new Map<string, Card>();
  private pausedFlag = false;
  /** Recently closed cards (dismissed, paused, …): a page reload does not bring them back. */
  private readonly closed = new Set<string>();
  /** Updates seen while a restore's snapshot was in flight: newer than the snapshot. */
  private readonly restoring = new Set<Map<string, CallUpdate<CallView>>>();

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

  onCallUpdate(update: CallUpdate<CallView>): void {
    const { record } = update;
    for (const seen of this.restoring) seen.set(record.id, update);
    const card = this.cards.get(record.id);
    if (!card) {
      if (!opensCard.has(update.change) || !this.shouldPop(record)) return;
      // Caught up after a (re)connect: only a call still ringing (the hub client marks a ring older than a
      // minute as a plain update) pops; one answered meanwhile stopped ringing long ago for the agent.
      if (update.backfill && update.change !== 'ringing') return;
      this.cards.set(record.id, { last: update });
      this.o.window.send(update);
      this.o.window.show();
      return;
    }
    card.last = update;
    this.o.window.send(update);
  }

  /**
   * The popup page (re)loaded: send it every open card, plus a card for each live call of the core
   * that should pop (after an app restart, the calls that were ringing or talking), and show the
   * window when there is any. A call updated while the snapshot was in flight uses that update.
   */
  async restore(activeCalls: () => Promise<CallView[]>): Promise<void> {
    const seen = new Map<string, CallUpdate<CallView>>();
    this.restoring.add(seen);
    let calls: CallView[];
    try {
      calls = await activeCalls();
    } finally {
      this.restoring.delete(seen);
    }
    for (const call of calls) {
      if (this.cards.has(call.id) || this.closed.has(call.id)) continue;
      const record = seen.get(call.id)?.record ?? call;
      if (!this.shouldPop(record)) continue;
      this.cards.set(call.id, { last: { change: record.status === 'ringing' ? 'ringing' : 'answered', record } });
    }
    for (const [id, card] of [...this.cards]) {
      // Updated while the snapshot was in flight: the page was already sent that update live.
      if (seen.has(id)) continue;
      // Every open card again, ended ones included: pushes queued before the page was ready reach
      // it anyway (the page keeps one card per call), and an ended card may still be wanted (its
      // recording's Download button, a note) until the page closes it.
      this.o.window.send(card.last);
    }
    if (this.cards.size > 0) this.o.window.show();
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
    this.cards.delete(callId);
    this.closed.add(callId);
    if (this.closed.size > MAX_CLOSED) this.closed.delete(this.closed.values().next().value!);
    if (this.cards.size === 0) this.o.window.hide();
  }
}
