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
import { recordingFileName } from '../../../shared/recording-file-name';
import { AddContact, HistoryList, NoteField, callBackAndMarkSeen, canAddContact } from './CallContext';
import { CallActions } from './CallActions';
import { CallbackClaimNote, claimBeforeCallBack } from './callbacks';

interface Props {
  call: CallView;
  country: string;
  crmEnabled: boolean;
  downloads: Map<string, DownloadProgress>;
  onDismiss?: (() => void) | undefined;
  /** End a live call the PBX never ended (a ghost): "Clear…" on a talking card after CLEAR_AFTER_SILENCE_MS without news, confirmed first. */
  onClear?: (() => void) | undefined;
  /** When this page last had news of the call (ms); the call's answer time when not given. */
  newsAt?: number | undefined;
  /** The popup saw no news of this ringing call for the ring timeout: "Missed (rang out, no end seen)". */
  stale?: boolean | undefined;
  /** Shown instead of the state, e.g. "5 missed calls, last 10:42" for the popup's card of a caller's missed calls. */
  summary?: string | undefined;
  headingLevel?: 2 | 3;
}

/**
 * Clear is offered on a talking call only after this long without a word from the PBX about it. 3CX
 * sends nothing while a call is in progress (only its end), so silence alone does not mean a lost end:
 * a call that has been quiet for 20 minutes is a long call as often as a ghost, hence the question.
 */
export const CLEAR_AFTER_SILENCE_MS = 20 * 60_000;

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


export function CallCard({ call, country, crmEnabled, downloads, onDismiss, onClear, newsAt, stale = false, summary, headingLevel = 2 }: Props) {
  // Live cards tick: how long it has rung, how long the talk lasts.
  const now = useNow(call.status !== 'ended' && !stale);
  const history = useNumberHistory(call.number, call.id);
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    if (note === null) return;
    const t = setTimeout(() => setNote(null), 5000);
    return () => clearTimeout(t);
  }, [note]);
  const [confirmClear, setConfirmClear] = useState(false);
  const silentFor = call.status === 'talking' ? now - Math.max(Date.parse(call.answeredAt), newsAt ?? 0) : 0;
  const canClear = onClear !== undefined && call.status === 'talking' && silentFor >= CLEAR_AFTER_SILENCE_MS;
  const base = stale ? stoppedRinging : callState(call, now);
  const state = summary ? { ...base, label: summary } : base;
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
          <Heading className="name">
            {/* The caller's calls in the log, this one open (as Enter on a popup card); a withheld number has none to list. */}
            <button type="button" className="name-link" title="Show this caller's calls in the log" onClick={() => void api().openMain({ view: 'log', callId: call.id, ...(call.number !== '' ? { search: call.number } : {}) })}>
              {call.contactName ?? number}
            </button>
          </Heading>
          {call.contactName && <p className="number">{number}</p>}
          {isTestCallId(call.id) && (
            <p className="test-badge" title="A test call (Settings → Send test call): not counted in history or missed calls">
              TEST
            </p>
          )}
          {call.contactCompany && <p className="company">{call.contactCompany}</p>}
        </div>
      </header>
      <p className={`state state-${state.tone}`}>
        <span className="dot" aria-hidden="true" />
        <span className="state-label">{state.label}</span>
        {/* What a click did ("Calling…", "Number copied"), on the state line: the card does not grow and
            nothing below it moves (issue #20). Cleared after a moment. */}
        {note && (
          <span className="note card-flash" role="status" title={note}>
            {note}
          </span>
        )}
      </p>
      {via && <p className="via">{via}</p>}
      <CallbackClaimNote call={call} />
      <HistoryList h={history} />
      <NoteField key={call.id} call={call} />
      {call.recordings.length > 0 && (
        <div className="recordings" aria-label="Recordings">
          {call.recordings.map((url, i) => (
            <Recording key={url} callId={call.id} url={url} progress={findDownload(downloads, call.id, url)} label={recordingFileName(call, i)} />
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
        <CallActions call={call} />
        {/* A ringing call that goes quiet ends by the ring timeout; a talking one could hang on for hours. */}
        {canClear && !confirmClear && (
          <button type="button" onClick={() => setConfirmClear(true)} title="The phone system has said nothing about this call for a long time: if it is over, end it here">
            Clear…
          </button>
        )}
        {canClear && confirmClear && (
          <span className="confirm" role="group" aria-label="Confirm clear">
            <span>Has this call ended? The phone system has said nothing about it for {Math.floor(silentFor / 60_000)} min.</span>
            <button type="button" className="danger" onClick={onClear}>
              Yes, clear it
            </button>
            <button type="button" onClick={() => setConfirmClear(false)}>
              Keep
            </button>
          </span>
        )}
      </div>
      {/* Last in the tab order (the card's own actions first), shown at the top right. */}
      {onDismiss && (
        <button type="button" className="icon dismiss" onClick={onDismiss} aria-label="Dismiss" title="Dismiss (D)">
          ✕
        </button>
      )}
    </article>
  );
}
