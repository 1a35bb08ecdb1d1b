// The main window: Calls (live + today), Log, Settings. push:navigate switches the view.
import { useEffect, useState } from 'react';
import { hubNeedsAttention, hubStatusText, refusalText } from '../../../shared/hub-status';
import { isHubState, isPbxState } from '../../../shared/ipc/contract';
import { pbxNeedsAttention, pbxStatusText } from '../../../shared/pbx-status';
import type { NavigateTarget } from '../../../shared/ipc/contract';
import { api } from '../common/api';
import { useDownloads, useNow, useSettingsView, useStatus, useTheme } from '../common/hooks';
import { formatAgo, pbxSilent } from './pbx-activity';
import { CallbacksView } from './CallbacksView';
import { CallsView } from './CallsView';
import { LogView } from './LogView';
import { SettingsPage } from './SettingsPage';

type Tab = NavigateTarget['view'];
const tabs: { id: Tab; label: string }[] = [
  { id: 'calls', label: 'Calls' },
  { id: 'log', label: 'Log' },
  { id: 'settings', label: 'Settings' },
];

export function MainApp() {
  const [target, setTarget] = useState<NavigateTarget>({ view: 'calls' });
  const [view, setView] = useSettingsView();
  const status = useStatus();
  const downloads = useDownloads();
  useTheme(view?.settings.theme);

  useEffect(() => {
    const off = api().onNavigate((t) => setTarget(t));
    void api().rendererReady('main');
    return off;
  }, []);

  // Ctrl+F (Cmd+F) anywhere, or "/" when not typing: the log's search takes the focus.
  const [searchFocus, setSearchFocus] = useState(0);
  // The first run's form (with the hub sign-in) is on screen: the hub banner points at it, not elsewhere.
  const [firstRunShown, setFirstRunShown] = useState(false);
  const hereInFirstRun = target.view === 'settings' && firstRunShown;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const find = e.key.toLowerCase() === 'f' && (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey;
      const el = document.activeElement as HTMLElement | null;
      const typing = el !== null && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
      const slash = e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typing;
      if (!find && !slash) return;
      e.preventDefault();
      setTarget((t) => (t.view === 'log' ? t : { view: 'log' }));
      setSearchFocus((n) => n + 1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const service = status?.service;
  const hub = service && isHubState(service) ? service : null;
  const pbx = service && isPbxState(service) ? service : null;
  const serviceText =
    !service || service.state === 'starting'
      ? 'Starting…'
      : hub
        ? hubStatusText(hub)
        : pbx
        ? pbxStatusText(pbx)
        : service.state === 'listening'
        ? `Listening on port ${service.port}`
        : service.state === 'error'
          ? `Error: ${service.message}`
          : service.state === 'restarting'
            ? `Restarting (attempt ${service.attempt}): ${service.message}`
            : 'Stopped';
  const missed = status?.missedUnseen ?? 0;
  const now = useNow(true, 15_000);
  // When this window first saw the service listening: the quiet time counts from here until an event comes.
  const listening = service?.state === 'listening';
  const [since, setSince] = useState<{ listening: boolean; at: number | null }>({ listening: false, at: null });
  if (since.listening !== listening) setSince({ listening, at: listening ? now : null });
  const lastEventMs = service?.state === 'listening' && service.lastEventAt ? Date.parse(service.lastEventAt) : null;
  const extension = view?.settings.extension ?? '';
  const quiet = service?.state === 'listening' && extension !== '' && pbxSilent(lastEventMs ?? since.at, now);

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">Callpop</span>
        <nav aria-label="Sections">
          <ul role="tablist" className="tabs">
            {tabs.map((t) => (
              <li key={t.id} role="presentation">
                <button
                  type="button"
                  role="tab"
                  id={`tab-${t.id}`}
                  aria-selected={target.view === t.id}
                  aria-controls={`panel-${t.id}`}
                  // Roving tabindex (WAI-ARIA tabs): Tab reaches the selected tab, arrows move between tabs.
                  tabIndex={target.view === t.id ? 0 : -1}
                  className="tab"
                  onClick={() => setTarget({ view: t.id })}
                  onKeyDown={(e) => {
                    const i = tabs.findIndex((x) => x.id === t.id);
                    const next = e.key === 'ArrowRight' ? (i + 1) % tabs.length : e.key === 'ArrowLeft' ? (i - 1 + tabs.length) % tabs.length : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : -1;
                    if (next < 0) return;
                    e.preventDefault();
                    const id = tabs[next]!.id;
                    setTarget({ view: id });
                    document.getElementById(`tab-${id}`)?.focus();
                  }}
                >
                  {t.label}
                  {t.id === 'log' && missed > 0 && (
                    <span className="badge" aria-label={`${missed} unseen missed`}>
                      {missed}
                    </span>
                  )}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <span className="tracking" data-testid="tracking">
          {extension !== '' && <span className="tracking-ext">Ext {extension}</span>}
          {service?.state === 'listening' && (
            <span className={`last-event ${quiet ? 'is-quiet' : ''}`} title={service.lastEventAt ?? undefined}>
              {lastEventMs !== null ? `last event ${formatAgo(lastEventMs, now)}` : 'no events yet'}
            </span>
          )}
        </span>
        <span className={`service service-${hub ? (hubNeedsAttention(hub) ? 'error' : 'listening') : pbx ? (pbxNeedsAttention(pbx) ? 'error' : 'listening') : (service?.state ?? 'starting')}`} role="status" data-testid="service-status">
          {serviceText}
          {status?.popupsPaused ? ' · popups paused' : ''}
        </span>
      </header>
      {quiet && (
        <p className="banner warning-banner" role="alert">
          <span>
            Nothing from the PBX {lastEventMs !== null ? `since ${formatAgo(lastEventMs, now)}` : 'since Callpop started'} during office hours. Check that the
            3CX WebAPI add-on is running and that WEBHOOK_URL in WebhooksApi.ini points here.
          </span>
          {target.view !== 'settings' && (
            <button type="button" onClick={() => setTarget({ view: 'settings' })}>
              Open Settings
            </button>
          )}
        </p>
      )}
      {service?.state === 'listening' && service.notice && (
        <p className="banner notice-banner" role="status">
          <span>{service.notice}</span>
          {target.view !== 'settings' && (
            <button type="button" onClick={() => setTarget({ view: 'settings' })}>
              Open Settings
            </button>
          )}
        </p>
      )}
      {hub && (hub.state === 'hub-refused' || hub.state === 'hub-setup') && (
        <p className="banner error notice-banner" role="alert" data-testid="hub-banner">
          <span>
            {hub.state === 'hub-refused' && hub.about === 'extension'
              ? `${hereInFirstRun ? refusalText(hub.reason).replace('in Settings', 'in the sign-in form below') : refusalText(hub.reason)} Callpop does not retry until it changes.`
              : hub.state === 'hub-refused'
              ? `${refusalText(hub.reason)} ${hereInFirstRun ? 'Type the password again in the sign-in form below' : 'Enter the password again in Settings → Connection'}; Callpop does not retry until then.`
              : hereInFirstRun
                ? hub.message.replaceAll('Settings → Connection', 'the sign-in form below')
                : hub.message}
          </span>
          {target.view !== 'settings' && (
            <button type="button" onClick={() => setTarget({ view: 'settings' })}>
              Open Settings
            </button>
          )}
        </p>
      )}
      {status?.policyError && (
        <p className="banner error" role="alert">
          Machine policy ignored: {status.policyError}
        </p>
      )}
      <main id={`panel-${target.view}`} role="tabpanel" aria-labelledby={`tab-${target.view}`} className="panel">
        {!view ? (
          <p className="muted pad">Loading…</p>
        ) : target.view === 'calls' ? (
          <>
            <CallbacksView country={view.settings.defaultCountry} />
            <CallsView settings={view.settings} downloads={downloads} onOpenCall={(callId) => setTarget({ view: 'log', callId })} />
          </>
        ) : target.view === 'log' ? (
          <LogView settings={view.settings} downloads={downloads} missedUnseen={missed} openCallId={target.callId} openTarget={target} focusSearch={searchFocus} />
        ) : (
          <SettingsPage view={view} status={status} onView={setView} onFirstRun={setFirstRunShown} />
        )}
      </main>
    </div>
  );
}
