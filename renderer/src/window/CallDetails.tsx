// Details of one logged call: times, duration, routing, transfer, recordings, and actions.
import { useEffect, useRef, useState } from 'react';
import { isTestCallId } from '../../../shared/test-call-id';
import { recordingFileName } from '../../../shared/recording-file-name';
import type { CallView, DownloadProgress } from '../../../shared/ipc/contract';
import type { Settings } from '../../../shared/settings';
import { api } from '../common/api';
import { displayNumber, useNumberHistory } from '../common/CallCard';
import { findDownload } from '../common/hooks';
import { AddContact, HistoryList, NoteField, callBackAndMarkSeen, canAddContact } from '../common/CallContext';
import { colleague, formatClockSec, formatDay, formatDuration, lineLabel, resultLabel } from '../common/format';
import { useNow } from '../common/hooks';
import { Recording } from '../common/Recording';

interface Props {
  call: CallView;
  settings: Settings;
  downloads: Map<string, DownloadProgress>;
  onClose: () => void;
  onDeleted: () => void;
}

export function CallDetails({ call, settings, downloads, onClose, onDeleted }: Props) {
  const [confirming, setConfirming] = useState(false);
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);
  const history = useNumberHistory(call.number, call.id);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const number = displayNumber(call, settings.defaultCountry);
  const now = useNow(call.status === 'talking');
  const withheld = call.number === '';

  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  const act = async (p: Promise<{ ok: true } | { ok: false; error: string }>, done: string) => {
    const r = await p;
    setNote(r.ok ? { text: done, error: false } : { text: r.error, error: true });
  };
  const remove = async () => {
    await api().deleteCalls([call.id]);
    onDeleted();
  };

  const rows: [string, string][] = [
    ['Direction', call.direction === 'incoming' ? 'Incoming' : 'Outgoing'],
    ['Result', resultLabel(call)],
    ['Date', formatDay(call.startedAt)],
    ['Started', formatClockSec(call.startedAt)],
    ['Answered', formatClockSec(call.answeredAt)],
    ['Ended', formatClockSec(call.endedAt)],
    ['Duration', formatDuration(call.status === 'talking' ? Math.max(0, (now - Date.parse(call.answeredAt)) / 1000) : call.durationSec)],
    ['Queue', lineLabel(call.queue, call.queueName) ?? '–'],
    ['DID', lineLabel(call.did, call.didName) ?? '–'],
  ];
  if (call.contactCompany) rows.splice(0, 0, ['Company', call.contactCompany]);
  if (call.answeredBy) rows.push(['Answered by', colleague(call, call.answeredBy)]);
  if (call.transferredFrom) rows.push(['Transferred from', colleague(call, call.transferredFrom)]);
  if (call.transferredTo) rows.push(['Transferred to', `${colleague(call, call.transferredTo)}${call.transferType ? ` (${call.transferType})` : ''}`]);

  return (
    <aside
      className="details"
      aria-labelledby="details-heading"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <header className="details-head">
        <div>
          <h2 id="details-heading" ref={headingRef} tabIndex={-1}>
            {call.contactName ?? number}
          </h2>
          {call.contactName && <p className="number">{number}</p>}
          {isTestCallId(call.id) && <p className="test-badge">TEST</p>}
        </div>
        <button type="button" className="icon" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </header>
      <dl className="facts">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <section aria-labelledby="note-heading">
        <h3 id="note-heading">Note</h3>
        <NoteField key={call.id} call={call} />
      </section>
      {history && history.count > 0 && (
        <section aria-labelledby="history-heading">
          <h3 id="history-heading">This number</h3>
          <HistoryList h={history} />
        </section>
      )}
      <section aria-labelledby="rec-heading">
        <h3 id="rec-heading">Recordings</h3>
        {call.recordings.length === 0 ? (
          <p className="muted">No recording announced.</p>
        ) : (
          call.recordings.map((url, i) => <Recording key={url} callId={call.id} url={url} progress={findDownload(downloads, call.id, url)} label={recordingFileName(call, i)} player />)
        )}
      </section>
      <div className="actions">
        {!withheld && (
          <button type="button" className="primary" onClick={() => void act(callBackAndMarkSeen(call), 'Calling…')}>
            Call back
          </button>
        )}
        {settings.crmUrlTemplate !== '' && !withheld && (
          <button type="button" onClick={() => void act(api().openInCrm(call.id), 'Opened in CRM')}>
            Open in CRM
          </button>
        )}
        {canAddContact(call) && <AddContact number={call.number} />}
        {!withheld && (
          <button
            type="button"
            onClick={() =>
              void api()
                .copyText(call.number)
                .then(() => setNote({ text: 'Number copied', error: false }))
            }
          >
            Copy number
          </button>
        )}
        {!confirming ? (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Delete
          </button>
        ) : (
          <span className="confirm" role="group" aria-label="Confirm delete">
            <span>Delete this call from the log?</span>
            <button type="button" className="danger" onClick={() => void remove()} autoFocus>
              Yes, delete
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        )}
      </div>
      {note && (
        <p className={note.error ? 'error' : 'note'} role={note.error ? 'alert' : 'status'}>
          {note.text}
        </p>
      )}
    </aside>
  );
}
