// Calls: the active call(s) live, and today's calls from the log.
import { useEffect, useRef, useState } from 'react';
import type { CallView, DownloadProgress } from '../../../shared/ipc/contract';
import type { Settings } from '../../../shared/settings';
import { api } from '../common/api';
import { CallCard } from '../common/CallCard';
import { startOfToday } from '../common/format';
import { CallListHeader, CallRow } from './CallRow';
import { useToast } from './Toast';

interface Props {
  settings: Settings;
  downloads: Map<string, DownloadProgress>;
  onOpenCall: (callId: string) => void;
}

export function CallsView({ settings, downloads, onOpenCall }: Props) {
  const [active, setActive] = useState<CallView[]>([]);
  const [today, setToday] = useState<{ total: number; records: CallView[] } | null>(null);
  // Messages after a click float in a toast: nothing above the list may appear and move it.
  const { toast, show: showMessage } = useToast();
  const refresh = useRef<() => void>(() => undefined);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = async () => {
      const page = await api().queryLog({ from: startOfToday(), offset: 0, limit: 500 });
      if (live) setToday({ total: page.total, records: page.records });
    };
    // Coalesce bursts of updates into one reload.
    refresh.current = () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void load();
      }, 300);
    };
    void load();
    // Pushes are newer than the snapshot: a call a push already told us about keeps the push's state.
    const pushed = new Set<string>();
    void api()
      .activeCalls()
      .then((calls) => live && setActive((cs) => [...cs, ...calls.filter((c) => !pushed.has(c.id))]));
    const offCall = api().onCallUpdate(({ record }) => {
      pushed.add(record.id);
      setActive((cs) => {
        const rest = cs.filter((c) => c.id !== record.id);
        return record.status === 'ended' ? rest : [record, ...rest];
      });
      refresh.current();
    });
    const offLog = api().onLogChanged(() => refresh.current());
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
      offCall();
      offLog();
    };
  }, []);

  const crmEnabled = settings.crmUrlTemplate !== '';
  return (
    <div className="calls-view pad">
      <section aria-labelledby="active-heading">
        <h2 id="active-heading">Active {active.length === 1 ? 'call' : 'calls'}</h2>
        {active.length === 0 ? (
          <p className="muted">No call right now.</p>
        ) : (
          <div className="active-cards">
            {active.map((c) => (
              <CallCard
                key={c.id}
                call={c}
                country={settings.defaultCountry}
                crmEnabled={crmEnabled}
                downloads={downloads}
                headingLevel={3}
                onClear={() => void api().clearCall(c.id)}
              />
            ))}
          </div>
        )}
      </section>
      <section aria-labelledby="today-heading">
        <h2 id="today-heading">
          Today{today ? <span className="count"> · {today.total} call{today.total === 1 ? '' : 's'}</span> : null}
        </h2>
        {today && today.records.length === 0 && <p className="muted">No calls yet today.</p>}
        {today && today.records.length > 0 && (
          <div className="call-list">
            <CallListHeader />
            <ul aria-label="Today's calls">
              {today.records.map((c) => (
                <li key={c.id}>
                  <CallRow call={c} country={settings.defaultCountry} downloads={downloads} onOpen={() => onOpenCall(c.id)} onMessage={(text, error) => error && showMessage(text, true)} />
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>
      {toast}
    </div>
  );
}
