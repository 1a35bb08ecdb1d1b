// Subscriptions to main's pushes as React state. Each hook fetches once and then follows pushes;
// every subscription is dropped on unmount.
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { AppStatus, DownloadProgress, SettingsView } from '../../../shared/ipc/contract';
import { api } from './api';

/** The settings as main last reported them; the setter takes an update's answer before its push arrives. */
export function useSettingsView(): [SettingsView | null, (v: SettingsView) => void] {
  const [view, setView] = useState<SettingsView | null>(null);
  useEffect(() => {
    let live = true;
    const off = api().onSettings((v) => setView(v));
    void api()
      .getSettings()
      .then((v) => live && setView((cur) => cur ?? v));
    return () => {
      live = false;
      off();
    };
  }, []);
  return [view, setView];
}

export function useStatus(): AppStatus | null {
  const [status, setStatus] = useState<AppStatus | null>(null);
  useEffect(() => {
    let live = true;
    const off = api().onStatus((s) => setStatus(s));
    const offLog = api().onLogChanged(({ missedUnseen }) => setStatus((s) => (s ? { ...s, missedUnseen } : s)));
    void api()
      .getStatus()
      .then((s) => live && setStatus((cur) => cur ?? s));
    return () => {
      live = false;
      off();
      offLog();
    };
  }, []);
  return status;
}

const downloadKey = (callId: string, url: string) => `${callId}\n${url}`;

/** Latest progress of each recording download, keyed by call id + URL. */
export function useDownloads(): Map<string, DownloadProgress> {
  const [map, setMap] = useState<Map<string, DownloadProgress>>(() => new Map());
  useEffect(() => {
    let live = true;
    const put = (d: DownloadProgress) =>
      setMap((m) => {
        const next = new Map(m);
        next.set(downloadKey(d.callId, d.url), d);
        return next;
      });
    const off = api().onDownload(put);
    void api()
      .listDownloads()
      .then((list) => {
        if (!live) return;
        setMap((m) => {
          const next = new Map(m);
          for (const d of list) if (!next.has(downloadKey(d.callId, d.url))) next.set(downloadKey(d.callId, d.url), d);
          return next;
        });
      });
    return () => {
      live = false;
      off();
    };
  }, []);
  return map;
}
export const findDownload = (m: Map<string, DownloadProgress>, callId: string, url: string) => m.get(downloadKey(callId, url));

// One MediaQueryList, not a new one per render: useSyncExternalStore reads it on every render of a
// window's root (in the popup, every call update).
let darkList: MediaQueryList | null = null;
const darkQuery = () => (darkList ??= window.matchMedia('(prefers-color-scheme: dark)'));
function subscribeDark(cb: () => void) {
  const q = darkQuery();
  q.addEventListener('change', cb);
  return () => q.removeEventListener('change', cb);
}

/** Applies settings.theme to <html data-theme>; "system" follows prefers-color-scheme live. */
export function useTheme(theme: 'system' | 'light' | 'dark' | undefined): void {
  const systemDark = useSyncExternalStore(subscribeDark, () => darkQuery().matches);
  const resolved = theme === 'light' || theme === 'dark' ? theme : systemDark ? 'dark' : 'light';
  useEffect(() => {
    document.documentElement.dataset.theme = resolved;
  }, [resolved]);
}

/** Current time, ticking every `ms` while `active`. */
export function useNow(active: boolean, ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return now;
}

/** `value`, settled for `ms` (search box). */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
