// A call as a card: who, how it came in, this number's history, the live state, recordings, actions.
// Used by the popup (one per ringing/live call) and by the main window's active-call section.
// All caller data is rendered as text nodes: it is untrusted.
import { useEffect, useState } from 'react';
import type { CallView, DownloadProgress, NumberHistory } from '../../../shared/ipc/contract';
import { LruMap } from '../../../shared/lru';
import { formatPhone } from '../../../shared/phone';
import { api } from './api';
import { findDownload, useNow } from './hooks';
import { callState, stoppedRinging, colleague, isMissedCall, lineLabel } from './format';
import { Recording } from './Recording';
import { isTestCallId } from '../../../shared/test-call-id';
import { AddContact, HistoryList, NoteField, callBackAndMarkSeen, canAddContact } from './CallContext';
import { CallbackClaimNote, claimBeforeCallBack } from './callbacks';

interface Props {
  call: CallView;
  country: string;
  crmEnabled: boolean;
  downloads: Map<string, DownloadProgress>;
  onDismiss?: (() => void) | undefined;
  /** End a live call the PBX never ended (a ghost): shows "Clear" on talking cards. */
  onClear?: (() => void) | undefined;
  /** The popup saw no news of this ringing call for the ring timeout: "Stopped ringing?". */
  stale?: boolean | undefined;
  headingLevel?: 2 | 3;
}

// Formatted numbers by country + number: libphonenumber's parse is the costliest part of rendering a
// card, and the popup renders every open card again on each call update.
const formatted = new LruMap<string, string>(512);

export function displayNumber(c: Pick<CallView, 'number'>, country: string): string {
  if (c.number === '') return 'Withheld number';
  const key = `${country}\n${c.number}`;
  let text = formatted.get(key);
  if (text === undefined) formatted.set(key, (text = formatPhone(c.number, country)));
  return text;
}

export function useNumberHistory(number: string, callId: string): NumberHistory | null {
  const [h, setH] = useState<NumberHistory | null>(null);
  useEffect(() => {
    if (number === '') return;
    let live = true;
    // Asked in a task of its own: the popup commits a new card in the push's task (flushSync, which also
    // runs this effect there), and starting an IPC request must not hold up the card's first paint.
    const t = setTimeout(() => {
      void api()
        .numberHistory({ number, excludeCallId: callId })
        .then((r) => live && setH(r))
        .catch(() => undefined);
    }, 0);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [number, callId]);
  return h;
}


export function CallCard({ call, country, crmEnabled, downloads, onDismiss, onClear, stale = false, headingLevel = 2 }: Props) {
  // Live cards tick: how long it has rung, how long the talk lasts.
  const now = useNow(call.status !== 'ended' && !stale);
  const history = useNumberHistory(call.number, call.id);
  const [note, setNote] = useState<string | null>(null);
  const state = stale ? stoppedRinging : callState(call, now);
  const number = displayNumber(call, country);
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  const via = [
    call.queue ? `Queue ${lineLabel(call.queue, call.queueName)}` : null,
    call.did ? `DID ${lineLabel(call.did, call.didName)}` : null,
    call.transferredFrom ? `Transferred from ${colleague(call, call.transferredFrom)}` : null,
  ]
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
  const callBack = async () => {
    // Hub mode: a missed queue call's callback is claimed first (refused = a colleague is on it).
    const claim = await claimBeforeCallBack(call);
    if (!claim.ok) return setNote(claim.error);
    const r = await callBackAndMarkSeen(call);
    setNote(r.ok ? 'Calling…' : r.error);
  };
  const withheld = call.number === '';
  const missed = call.status === 'ended' && isMissedCall(call);

  return (
    <article
      className={`card tone-${state.tone}`}
      data-call-id={call.id}
      data-status={call.status}
      aria-label={`${call.direction === 'incoming' ? 'Call from' : 'Call to'} ${call.contactName ?? number}: ${state.label}`}
      tabIndex={0}
    >
      <header className="card-head">
        <span className={`dir dir-${call.direction}`} aria-hidden="true">
          {call.direction === 'incoming' ? '↙' : '↗'}
        </span>
        <div className="who">
          <Heading className="name">{call.contactName ?? number}</Heading>
          {call.contactName && <p className="number">{number}</p>}
          {isTestCallId(call.id) && (
            <p className="test-badge" title="A test call (Settings → Send test call): not counted in history or missed calls">
              TEST
            </p>
          )}
          {call.contactCompany && <p className="company">{call.contactCompany}</p>}
        </div>
        {onDismiss && (
          <button type="button" className="icon dismiss" onClick={onDismiss} aria-label="Dismiss" title="Dismiss (D)">
            ✕
          </button>
        )}
      </header>
      <p className={`state state-${state.tone}`}>
        <span className="dot" aria-hidden="true" />
        <span className="state-label">{state.label}</span>
      </p>
      {via && <p className="via">{via}</p>}
      <CallbackClaimNote call={call} />
      <HistoryList h={history} />
      <NoteField key={call.id} call={call} />
      {call.recordings.length > 0 && (
        <div className="recordings" aria-label="Recordings">
          {call.recordings.map((url) => (
            <Recording key={url} callId={call.id} url={url} progress={findDownload(downloads, call.id, url)} />
          ))}
        </div>
      )}
      <div className="actions">
        {!withheld && call.status === 'ended' && (
          <button type="button" className={missed ? 'primary' : undefined} onClick={() => void callBack()}>
            Call back
          </button>
        )}
        {/* A withheld number has nothing to look up or copy. */}
        {crmEnabled && !withheld && (
          <button type="button" className={missed ? undefined : 'primary'} onClick={() => void crm()}>
            Open in CRM
          </button>
        )}
        {!withheld && (
          <button type="button" onClick={() => void copy()}>
            Copy number
          </button>
        )}
        {canAddContact(call) && <AddContact number={call.number} />}
        {/* A ringing call that goes quiet ends by the ring timeout; a talking one could hang on for hours. */}
        {onClear && call.status === 'talking' && (
          <button type="button" onClick={onClear} title="The call is over but the phone system never said so: end it here">
            Clear
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
