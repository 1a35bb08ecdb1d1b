// The popup window: one card per ringing/live call, newest on top. A card follows its call and goes away
// when dismissed, or settings.popup.autoCloseSec after the call ended, was answered elsewhere or missed.
// Main decides which calls get a card (it sends only those, and the live ones again when this page
// loads), so the page never shows a card main does not know. The page reports its content height so
// main can size the window to the cards.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CallView } from '../../../shared/ipc/contract';
import { POPUP_MAX_HEIGHT, POPUP_MIN_HEIGHT } from '../../../shared/ipc/contract';
import { api } from '../common/api';
import { CallCard, displayNumber } from '../common/CallCard';
import { useDownloads, useSettingsView, useTheme } from '../common/hooks';

interface Card {
  call: CallView;
  /** When this page learnt the call was over (ms since epoch); it closes autoCloseSec later. */
  endedAt: number | null;
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

export function PopupApp() {
  const [view] = useSettingsView();
  const downloads = useDownloads();
  const stackRef = useReportHeight();
  const [cards, setCards] = useState<Card[]>([]);
  // Announced at render time, so the number is formatted with the settings even if they load later.
  const [announced, setAnnounced] = useState<CallView | null>(null);
  useTheme(view?.settings.theme);
  // Unknown until the settings have loaded: no card closes by itself before then.
  const autoCloseSec = view?.settings.popup.autoCloseSec ?? null;

  // Main closes every card when popups are paused or turned off: so does the page.
  useEffect(() => {
    const offStatus = api().onStatus((st) => st.popupsPaused && setCards([]));
    const offSettings = api().onSettings((v) => !v.settings.popup.enabled && setCards([]));
    return () => {
      offStatus();
      offSettings();
    };
  }, []);

  const dismiss = useCallback((callId: string) => {
    setCards((cs) => cs.filter((c) => c.call.id !== callId));
    void api().dismissPopup(callId);
  }, []);

  useEffect(() => {
    const off = api().onCallUpdate(({ change, record: call }) => {
      setCards((cs) => {
        const i = cs.findIndex((c) => c.call.id === call.id);
        if (i >= 0) {
          const next = cs.slice();
          const was = cs[i]!;
          next[i] = { call, endedAt: call.status !== 'ended' ? null : (was.endedAt ?? Date.now()) };
          return next;
        }
        // Main sends only the calls it shows a card for (an ended one too, when this page reloaded).
        return [{ call, endedAt: call.status === 'ended' ? Date.now() : null }, ...cs];
      });
      if (change === 'ringing' && call.direction === 'incoming') setAnnounced(call);
    });
    // Main then sends the live cards (and, after a restart, the core's live calls).
    void api().rendererReady('popup');
    return off;
  }, []);

  // One timer for the soonest auto-close (0 = until dismissed).
  useEffect(() => {
    if (!autoCloseSec) return;
    const closeAt = (c: Card) => (c.endedAt === null ? null : c.endedAt + autoCloseSec * 1000);
    const due = cards.map(closeAt).filter((t): t is number => t !== null);
    if (due.length === 0) return;
    const t = setTimeout(
      () => {
        const now = Date.now();
        const over = (c: Card) => (closeAt(c) ?? Infinity) <= now;
        const gone = cards.filter(over).map((c) => c.call.id);
        setCards((cs) => cs.filter((c) => !over(c)));
        for (const id of gone) void api().dismissPopup(id);
      },
      Math.max(0, Math.min(...due) - Date.now()),
    );
    return () => clearTimeout(t);
  }, [cards, autoCloseSec]);

  // Esc dismisses the focused card, else the newest one.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      const top = cards[0];
      if (top) dismiss(top.call.id);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [cards, dismiss]);

  const s = view?.settings;
  const country = s?.defaultCountry ?? 'US';
  const announcement = announced
    ? `Incoming call from ${announced.contactName ? `${announced.contactName}, ` : ''}${displayNumber(announced, country)}${announced.queue ? ` via queue ${announced.queue}` : ''}`
    : '';
  return (
    <main className="popup" aria-label="Calls">
      <div className="sr-only" aria-live="assertive" aria-atomic="true" role="status">
        {announcement}
      </div>
      <div className="stack" ref={stackRef}>
        {cards.map(({ call }) => (
          <CallCard
            key={call.id}
            call={call}
            country={country}
            crmEnabled={(s?.crmUrlTemplate ?? '') !== ''}
            downloads={downloads}
            onDismiss={() => dismiss(call.id)}
          />
        ))}
      </div>
    </main>
  );
}
