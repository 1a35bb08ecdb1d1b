// A call as a card: who, how it came in, this number's history, the live state, recordings, actions.
// Used by the popup (one per ringing/live call) and by the main window's active-call section.
// All caller data is rendered as text nodes: it is untrusted.
import { useEffect, useState } from 'react';
import type { CallView, DownloadProgress, NumberHistory } from '../../../shared/ipc/contract';
import { formatPhone } from '../../../shared/phone';
import { api } from './api';
import { findDownload, useNow } from './hooks';
import { callState, formatWhen } from './format';
import { Recording } from './Recording';

interface Props {
  call: CallView;
  country: string;
  crmEnabled: boolean;
  downloads: Map<string, DownloadProgress>;
  onDismiss?: (() => void) | undefined;
  headingLevel?: 2 | 3;
}

export function displayNumber(c: Pick<CallView, 'number'>, country: string): string {
  return c.number === '' ? 'Withheld number' : formatPhone(c.number, country);
}

export function useNumberHistory(number: string, callId: string): NumberHistory | null {
  const [h, setH] = useState<NumberHistory | null>(null);
  useEffect(() => {
    if (number === '') return;
    let live = true;
    void api()
      .numberHistory({ number, excludeCallId: callId })
      .then((r) => live && setH(r))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [number, callId]);
  return h;
}

function HistoryLine({ h }: { h: NumberHistory | null }) {
  if (!h) return null;
  if (h.count === 0) return <p className="history">First call from this number</p>;
  const last = h.last;
  const lastText = last ? `last ${formatWhen(last.startedAt)}${last.status === 'ended' && last.result === 'missed' ? ' (missed)' : ''}` : '';
  return (
    <p className="history">
      {h.count} earlier call{h.count === 1 ? '' : 's'}
      {h.missed > 0 ? `, ${h.missed} missed` : ''}
      {lastText ? ` · ${lastText}` : ''}
    </p>
  );
}

export function CallCard({ call, country, crmEnabled, downloads, onDismiss, headingLevel = 2 }: Props) {
  const now = useNow(call.status === 'talking');
  const history = useNumberHistory(call.number, call.id);
  const [note, setNote] = useState<string | null>(null);
  const state = callState(call, now);
  const number = displayNumber(call, country);
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  const via = [call.queue ? `Queue ${call.queue}` : null, call.did ? `DID ${call.did}` : null, call.transferredFrom ? `Transferred from ${call.transferredFrom}` : null]
    .filter(Boolean)
    .join(' · ');

  const copy = async () => {
    await api().copyText(call.number);
    setNote('Number copied');
  };
  const crm = async () => {
    const r = await api().openInCrm(call.id);
    setNote(r.ok ? 'Opened in CRM' : r.error);
  };

  return (
    <article
      className={`card tone-${state.tone}`}
      data-call-id={call.id}
      data-status={call.status}
      aria-label={`${call.direction === 'incoming' ? 'Call from' : 'Call to'} ${call.contactName ?? number}: ${state.label}`}
      tabIndex={0}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && onDismiss) {
          e.stopPropagation();
          onDismiss();
        }
      }}
    >
      <header className="card-head">
        <span className={`dir dir-${call.direction}`} aria-hidden="true">
          {call.direction === 'incoming' ? '↙' : '↗'}
        </span>
        <div className="who">
          <Heading className="name">{call.contactName ?? number}</Heading>
          {call.contactName && <p className="number">{number}</p>}
        </div>
        {onDismiss && (
          <button type="button" className="icon dismiss" onClick={onDismiss} aria-label="Dismiss" title="Dismiss (Esc)">
            ✕
          </button>
        )}
      </header>
      <p className={`state state-${state.tone}`}>
        <span className="dot" aria-hidden="true" />
        <span className="state-label">{state.label}</span>
      </p>
      {via && <p className="via">{via}</p>}
      <HistoryLine h={history} />
      {call.recordings.length > 0 && (
        <div className="recordings" aria-label="Recordings">
          {call.recordings.map((url) => (
            <Recording key={url} callId={call.id} url={url} progress={findDownload(downloads, call.id, url)} />
          ))}
        </div>
      )}
      <div className="actions">
        {crmEnabled && (
          <button type="button" className="primary" onClick={() => void crm()}>
            Open in CRM
          </button>
        )}
        {call.number !== '' && (
          <button type="button" onClick={() => void copy()}>
            Copy number
          </button>
        )}
        {note && (
          <span className="note" role="status">
            {note}
          </span>
        )}
      </div>
    </article>
  );
}
