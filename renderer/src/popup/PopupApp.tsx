// The popup window: one card per ringing/live call. Live cards (ringing, talking) sit above ended ones,
// newest first. A card follows its call and goes away when dismissed, or settings.popup.autoCloseSec
// after the call ended (a missed call's card stays unless autoCloseMissed), never while the agent is
// using it (cards.ts closeDue: the one place that decides; main hears it as a dismissal). A ringing
// call with no news for the ring timeout is "Missed (rang out, no end seen)" (the PBX never says a
// caller gave up; the tracker ends it as missed) and stays like any missed call.
// Main decides which calls get a card (it sends only those, and the live ones again when this page
// loads), so the page never shows a card main does not know. The page reports its content height so
// main can size the window to the cards.
// Keyboard: the global shortcut focuses the newest card (push:focusCard); keys.ts maps the keys.
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { flushSync } from 'react-dom';
import type { CallView, DownloadProgress } from '../../../shared/ipc/contract';
import { POPUP_MAX_HEIGHT, POPUP_MIN_HEIGHT } from '../../../shared/ipc/contract';
import { api } from '../common/api';
import { CallCard, displayNumber } from '../common/CallCard';
import { useDownloads, useSettingsView, useTheme } from '../common/hooks';
import { applyUpdate, closeAt, closeDue, groupMissed, isMissedCard, markStale, nextStaleAt, ordered, settled, type Card, type CloseRule } from './cards';
import { isMissedCall } from '../../../shared/call-outcome';
import { numberMatchKey } from '../../../shared/phone';
import { LruMap } from '../../../shared/lru';
import { formatClock } from '../common/format';
import { buttonKeys, cardKeyAction, isTyping } from './keys';

/**
 * Whether the agent is using a card: the focus is in it (while this window has the focus), or it shows
 * an open form (a note, a contact), unsaved text or an error. Such a card does not close by itself.
 */
function inUse(stack: HTMLElement | null, callId: string): boolean {
  const card = [...(stack?.querySelectorAll<HTMLElement>('article.card') ?? [])].find((el) => el.dataset.callId === callId);
  if (!card) return false;
  if (document.hasFocus() && card.contains(document.activeElement)) return true;
  return card.querySelector('form, [data-unsaved], [role="alert"]') !== null;
}

/** Reports the element's height (plus the popup's padding) to main whenever it changes. */
function useReportHeight() {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    const main = el?.parentElement;
    if (!el || !main) return;
    let last = -1;
    const report = () => {
      const cs = getComputedStyle(main);
      const padding = parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom);
      const h = Math.min(POPUP_MAX_HEIGHT, Math.max(POPUP_MIN_HEIGHT, Math.ceil(el.getBoundingClientRect().height + padding)));
      if (h === last) return;
      last = h;
      void api().resizePopup(h);
    };
    const ro = new ResizeObserver(report);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return ref;
}

// Caller keys by country + number: libphonenumber's parse is costly and every push renders the stack again.
const callerKeys = new LruMap<string, string>(512);
function callerKey(number: string, country: string): string {
  const k = `${country}\n${number}`;
  let key = callerKeys.get(k);
  if (key === undefined) callerKeys.set(k, (key = numberMatchKey(number, country)));
  return key;
}

const buttonOf = (card: Element, labels: readonly string[]) => [...card.querySelectorAll('button')].find((b) => labels.includes(b.textContent?.trim() ?? '')) ?? null;

export function PopupApp() {
  const [view] = useSettingsView();
  const downloads = useDownloads();
  const stackRef = useReportHeight();
  const [cards, setCards] = useState<Card[]>([]);
  // Announced at render time, so the number is formatted with the settings even if they load later.
  const [announced, setAnnounced] = useState<CallView | null>(null);
  /** The key hint of the card the keyboard is on (the keys of the buttons it shows), or null. */
  const [hint, setHint] = useState<string[] | null>(null);
  useTheme(view?.settings.theme);
  // Unknown until the settings have loaded: no card closes by itself before then.
  const autoCloseSec = view?.settings.popup.autoCloseSec ?? null;
  const autoCloseMissed = view?.settings.popup.autoCloseMissed ?? false;
  const closeRule = useMemo<CloseRule | null>(() => (autoCloseSec === null ? null : { autoCloseSec, autoCloseMissed }), [autoCloseSec, autoCloseMissed]);
  const ringTimeoutMs = view ? view.settings.ringTimeoutSec * 1000 : null;
  // Read by the update listener, which is subscribed once.
  const ringTimeoutRef = useRef<number | null>(null);
  useEffect(() => {
    ringTimeoutRef.current = ringTimeoutMs;
  }, [ringTimeoutMs]);

  // Main closes every card when popups are paused or turned off: so does the page.
  useEffect(() => {
    const offStatus = api().onStatus((st) => st.popupsPaused && setCards([]));
    const offSettings = api().onSettings((v) => !v.settings.popup.enabled && setCards([]));
    return () => {
      offStatus();
      offSettings();
    };
  }, []);

  const dismiss = useCallback((callIds: readonly string[]) => {
    setCards((cs) => cs.filter((c) => !callIds.includes(c.call.id)));
    for (const id of callIds) void api().dismissPopup(id);
  }, []);

  useEffect(() => {
    const off = api().onCallUpdate(({ change, record: call }) => {
      // Committed in this message's task: a push is not an input event, so React would otherwise render
      // it in a later scheduler task, behind whatever else (frames, IPC replies) is queued by then.
      flushSync(() => {
        setCards((cs) => applyUpdate(cs, call, Date.now(), ringTimeoutRef.current).filter((c) => !settled(c)));
        if (change === 'ringing' && call.direction === 'incoming') setAnnounced(call);
      });
      // A missed call the agent dealt with elsewhere (Mark all seen, Call back, talked with the number) leaves.
      if (call.status === 'ended' && call.seen && isMissedCall(call)) void api().dismissPopup(call.id);
    });
    // Main then sends the live cards (and, after a restart, the core's live calls).
    void api().rendererReady('popup');
    return off;
  }, []);

  // A ringing call silent for the ring timeout: rang out (one timer for the soonest).
  useEffect(() => {
    if (ringTimeoutMs === null) return;
    const due = nextStaleAt(cards, ringTimeoutMs);
    if (due === null) return;
    const t = setTimeout(() => setCards((cs) => markStale(cs, ringTimeoutMs, Date.now())), Math.max(0, due - Date.now()));
    return () => clearTimeout(t);
  }, [cards, ringTimeoutMs]);

  // One timer for the soonest close (cards.ts decides when; nowhere else does). A card in use stays.
  useEffect(() => {
    if (closeRule === null) return;
    const due = cards.map((c) => closeAt(c, closeRule)).filter((t): t is number => t !== null);
    if (due.length === 0) return;
    const t = setTimeout(
      () => {
        const { close, next } = closeDue(cards, closeRule, Date.now(), (id) => inUse(stackRef.current, id));
        setCards(next);
        for (const id of close) void api().dismissPopup(id);
      },
      Math.max(0, Math.min(...due) - Date.now()),
    );
    return () => clearTimeout(t);
  }, [cards, closeRule, stackRef]);

  const s = view?.settings;
  const country = s?.defaultCountry ?? 'US';
  // Missed calls from one caller are one card (its newest); dismissing it dismisses them all.
  const shown = groupMissed(ordered(cards), (c) => callerKey(c.call.number, country));
  const groupOf = (callId: string): string[] => shown.find((e) => e.card.call.id === callId)?.group.map((c) => c.call.id) ?? [callId];
  const missedIds = cards.filter(isMissedCard).map((c) => c.call.id);
  const cardEls = useCallback(() => [...(stackRef.current?.querySelectorAll<HTMLElement>('article.card') ?? [])], [stackRef]);

  // The global shortcut: the newest card (the top one) takes the focus.
  useEffect(
    () =>
      api().onFocusCard(() => {
        window.focus();
        cardEls()[0]?.focus();
      }),
    [cardEls],
  );

  // Keys on the focused card; Esc gives the focus back to where it was (main returns it).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented) return;
      const active = document.activeElement;
      if (e.key !== 'Escape' && isTyping(active)) return;
      const card = active instanceof HTMLElement ? active.closest<HTMLElement>('article.card') : null;
      const action = cardKeyAction(e, card !== null && active === card);
      if (!action) return;
      if (action.kind === 'back') {
        e.preventDefault();
        if (active instanceof HTMLElement) active.blur();
        void api().returnPopupFocus();
        return;
      }
      if (!card) return;
      const id = card.dataset.callId ?? '';
      const call = cards.find((c) => c.call.id === id)?.call;
      if (!call) return;
      e.preventDefault();
      switch (action.kind) {
        case 'open':
          // That caller's calls in the log, this one open (issue #20: Enter opened the Calls view).
          void api().openMain({ view: 'log', callId: call.id, ...(call.number !== '' ? { search: call.number } : {}) });
          return;
        case 'button':
          buttonOf(card, action.labels)?.click();
          return;
        case 'dismiss': {
          // The keyboard stays in the stack: on the next card, else the one before.
          const els = cardEls();
          const i = els.indexOf(card);
          const next = els[i + 1] ?? els[i - 1];
          dismiss(groupOf(id));
          next?.focus();
          return;
        }
        case 'move': {
          const els = cardEls();
          const i = els.indexOf(card);
          const to = action.by === 'first' ? 0 : action.by === 'last' ? els.length - 1 : Math.min(els.length - 1, Math.max(0, i + action.by));
          els[to]?.focus();
          return;
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- groupOf reads `shown`, which follows `cards`
  }, [cards, dismiss, cardEls]);

  // Which card the keyboard is on and which of the keyed buttons it shows, for the hint line.
  useEffect(() => {
    const el = stackRef.current;
    if (!el) return;
    const update = () => {
      const card = document.activeElement instanceof HTMLElement ? document.activeElement.closest<HTMLElement>('article.card') : null;
      setHint(card && el.contains(card) ? buttonKeys.filter((k) => buttonOf(card, k.labels)).map((k) => k.key) : null);
    };
    const later = () => setTimeout(update, 0);
    update();
    el.addEventListener('focusin', update);
    el.addEventListener('focusout', later);
    return () => {
      el.removeEventListener('focusin', update);
      el.removeEventListener('focusout', later);
    };
  }, [stackRef, cards]);

  const announcement = announced
    ? `Incoming call from ${announced.contactName ? `${announced.contactName}, ` : ''}${displayNumber(announced, country)}${announced.queue ? ` via queue ${announced.queue}` : ''}`
    : '';
  return (
    <main className="popup" aria-label="Calls">
      <div className="sr-only" aria-live="assertive" aria-atomic="true" role="status">
        {announcement}
      </div>
      <div className="stack" ref={stackRef}>
        {shown.map(({ card: { call, staleAt, newsAt }, group }) => (
          <PopupCard
            key={call.id}
            call={call}
            country={country}
            crmEnabled={(s?.crmUrlTemplate ?? '') !== ''}
            downloads={downloads}
            stale={staleAt !== null}
            newsAt={newsAt}
            group={group.length > 1 ? group.map((c) => c.call.id) : null}
            dismiss={dismiss}
          />
        ))}
        {missedIds.length > 1 && (
          <button type="button" className="dismiss-all" onClick={() => dismiss(missedIds)}>
            Dismiss all missed ({missedIds.length})
          </button>
        )}
        {hint !== null && <KeyHint labels={hint} />}
      </div>
    </main>
  );
}

/**
 * A card of the stack, rendered again only when its own call (or the settings, downloads) changed:
 * each push is committed in its own task (flushSync), so the other open cards must not be redone.
 */
const PopupCard = memo(function PopupCard(p: {
  call: CallView;
  country: string;
  crmEnabled: boolean;
  downloads: Map<string, DownloadProgress>;
  stale: boolean;
  newsAt: number;
  /** The missed calls from this caller this card stands for (newest first), or null for a card of its own. */
  group: string[] | null;
  dismiss: (callIds: readonly string[]) => void;
}) {
  const { call, dismiss, group } = p;
  return (
    <CallCard
      call={call}
      country={p.country}
      crmEnabled={p.crmEnabled}
      downloads={p.downloads}
      stale={p.stale}
      newsAt={p.newsAt}
      summary={group ? `${group.length} missed calls, last ${formatClock(call.startedAt)}` : undefined}
      onDismiss={() => dismiss(group ?? [call.id])}
      onClear={() => void api().clearCall(call.id)}
    />
  );
});

/** The keys for the focused card, only those whose button it shows. */
function KeyHint({ labels }: { labels: string[] }) {
  const keys = buttonKeys.filter((k) => labels.includes(k.key));
  return (
    <p className="key-hint" aria-label="Keyboard shortcuts">
      <kbd>Enter</kbd> open
      {keys.map((k) => (
        <span key={k.key}>
          {' · '}
          <kbd>{k.key}</kbd> {k.hint}
        </span>
      ))}
      {' · '}
      <kbd>D</kbd> dismiss · <kbd>↑↓</kbd> next · <kbd>Esc</kbd> back
    </p>
  );
}
