// The popup window: one card per ringing/live call, newest on top. A card follows its call and goes away
// when dismissed, or settings.popup.autoCloseSec after the call ended, was answered elsewhere or missed.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CallChange } from '../../../shared/call-record';
import type { CallView } from '../../../shared/ipc/contract';
import { api } from '../common/api';
import { CallCard, displayNumber } from '../common/CallCard';
import { useDownloads, useSettingsView, useStatus, useTheme } from '../common/hooks';

interface Card {
  call: CallView;
  /** When the card should close by itself (ms since epoch), once the call is over. */
  closeAt: number | null;
}

/** Calls from other extensions (short all-digit numbers) for the "external callers only" option. */
const isInternal = (number: string) => /^\d{1,6}$/.test(number.trim());

export function PopupApp() {
  const [view] = useSettingsView();
  const status = useStatus();
  const downloads = useDownloads();
  const [cards, setCards] = useState<Card[]>([]);
  // Announced at render time, so the number is formatted with the settings even if they load later.
  const [announced, setAnnounced] = useState<CallView | null>(null);
  const settingsRef = useRef(view?.settings);
  const pausedRef = useRef(status?.popupsPaused ?? false);
  useTheme(view?.settings.theme);

  useEffect(() => {
    settingsRef.current = view?.settings;
    pausedRef.current = status?.popupsPaused ?? false;
  }, [view, status]);

  const dismiss = useCallback((callId: string) => {
    setCards((cs) => cs.filter((c) => c.call.id !== callId));
    void api().dismissPopup(callId);
  }, []);

  useEffect(() => {
    const autoClose = (call: CallView): number | null => {
      if (call.status !== 'ended') return null;
      const sec = settingsRef.current?.popup.autoCloseSec ?? 8;
      return sec > 0 ? Date.now() + sec * 1000 : null;
    };
    const wantsCard = (call: CallView, change: CallChange | 'active') => {
      const s = settingsRef.current;
      if (pausedRef.current || s?.popup.enabled === false) return false;
      if (s?.popup.externalOnly && isInternal(call.number)) return false;
      return call.direction === 'incoming' && call.status !== 'ended' && (change === 'ringing' || change === 'answered' || change === 'transferred' || change === 'active');
    };
    const upsert = (call: CallView, change: CallChange | 'active') => {
      setCards((cs) => {
        const i = cs.findIndex((c) => c.call.id === call.id);
        if (i >= 0) {
          // The snapshot of active calls is older than any push already applied.
          if (change === 'active') return cs;
          const next = cs.slice();
          next[i] = { call, closeAt: autoClose(call) };
          return next;
        }
        if (!wantsCard(call, change)) return cs;
        return [{ call, closeAt: null }, ...cs];
      });
      if (change === 'ringing' && call.direction === 'incoming') setAnnounced(call);
    };
    const pushed = new Set<string>();
    const off = api().onCallUpdate(({ change, record }) => {
      pushed.add(record.id);
      upsert(record, change);
    });
    void api()
      .activeCalls()
      .then((calls) => {
        for (const c of [...calls].reverse()) if (!pushed.has(c.id)) upsert(c, 'active');
      });
    void api().rendererReady('popup');
    return off;
  }, []);

  // One timer for the soonest auto-close.
  useEffect(() => {
    const due = cards.map((c) => c.closeAt).filter((t): t is number => t !== null);
    if (due.length === 0) return;
    const t = setTimeout(
      () => {
        const now = Date.now();
        const gone = cards.filter((c) => c.closeAt !== null && c.closeAt <= now).map((c) => c.call.id);
        setCards((cs) => cs.filter((c) => c.closeAt === null || c.closeAt > now));
        for (const id of gone) void api().dismissPopup(id);
      },
      Math.max(0, Math.min(...due) - Date.now()),
    );
    return () => clearTimeout(t);
  }, [cards]);

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
    </main>
  );
}
