// One line of a call list (today's calls, the log): time, direction, caller (name, number, company),
// queue, result with transfer / answered-by, talk time (live while talking), recording, and row actions
// (Call back) that show on hover and on keyboard focus. The column headers line up with it.
import { useEffect, useState } from 'react';
import type { KeyboardEvent, Ref } from 'react';
import type { CallView, DownloadProgress } from '../../../shared/ipc/contract';
import { displayNumber } from '../common/CallCard';
import { isTestCallId } from '../../../shared/test-call-id';
import { callBackAndMarkSeen } from '../common/CallContext';
import { formatClock, formatDuration, handoverText, isMissedCall, labelParts, resultLabel } from '../common/format';
import { findDownload, useNow } from '../common/hooks';

/** How long "Calling…" stays in the row after Call back. */
const CALLING_SHOWN_MS = 4000;

export function CallListHeader() {
  return (
    <div className="call-row-wrap list-head" aria-hidden="true">
      <div className="call-row-head">
        <span className="col-time">Time</span>
        <span className="col-dir" />
        <span className="col-who">Caller</span>
        <span className="col-queue">Queue</span>
        <span className="col-result">Result</span>
        <span className="col-dur">Talk</span>
        <span className="col-rec">Rec</span>
      </div>
      <span className="row-actions" />
    </div>
  );
}

function CallRowContent({ call, country, downloads }: { call: CallView; country: string; downloads?: Map<string, DownloadProgress> | undefined }) {
  // A download of one of its recordings failed (and was not redone since): the badge says so.
  const recFailed = downloads !== undefined && call.recordings.some((url) => findDownload(downloads, call.id, url)?.state === 'failed');
  const now = useNow(call.status === 'talking');
  const number = displayNumber(call, country);
  const missed = call.status === 'ended' && isMissedCall(call);
  const talkSec = call.status === 'talking' ? Math.max(0, (now - Date.parse(call.answeredAt)) / 1000) : call.durationSec;
  const handover = handoverText(call);
  const result = labelParts(resultLabel(call));
  // Several missed calls from this number that day, shown as one row (the log's groupMissed).
  const group = call.missedGroup && call.missedGroup.count > 1 ? call.missedGroup : null;
  const sub = [call.contactName ? number : null, call.contactCompany].filter(Boolean).join(' · ');
  return (
    <>
      <span className="col-time">{formatClock(call.startedAt)}</span>
      <span className={`col-dir dir-${call.direction}`} title={call.direction === 'incoming' ? 'Incoming' : 'Outgoing'}>
        <span aria-hidden="true">{call.direction === 'incoming' ? '↙' : '↗'}</span>
        <span className="sr-only">{call.direction === 'incoming' ? 'Incoming' : 'Outgoing'}</span>
      </span>
      <span className="col-who">
        <span className="who-main">
          {call.contactName ?? number}
          {call.note && (
            <span className="note-mark" title={`Note: ${call.note}`}>
              {' '}
              <span aria-hidden="true">✎</span>
              <span className="sr-only">has a note</span>
            </span>
          )}
          {isTestCallId(call.id) && (
            <>
              {' '}
              <span className="test-badge">TEST</span>
            </>
          )}
        </span>
        {sub && <span className="who-sub">{sub}</span>}
      </span>
      <span className="col-queue" title={call.queue ?? undefined}>
        {call.queue ? (call.queueName ?? call.queue) : ''}
        {call.queue && <span className="sr-only"> queue</span>}
      </span>
      <span className={`col-result ${missed ? 'is-missed' : ''} status-${call.status}`}>
        <span className="result-main">
          {group ? `${group.count} missed calls` : result.head}
          {missed && (group ? group.unseen > 0 : !call.seen) && <span className="unseen-dot" title="Not seen yet" aria-label="not seen" />}
        </span>
        {/* "Missed (rang out, no end seen)": the why on a line of its own, so the column keeps its width. */}
        {!group && result.why && (
          <span className="who-sub result-why" title={result.why}>
            {' '}
            {result.why}
          </span>
        )}
        {group && <span className="who-sub">last {formatClock(call.startedAt)}</span>}
        {handover && <span className="who-sub">{handover}</span>}
      </span>
      <span className={`col-dur ${call.status === 'talking' ? 'live' : ''}`}>{formatDuration(talkSec)}</span>
      <span className="col-rec">
        {call.recordings.length > 0 &&
          (recFailed ? (
            <span className="rec-badge failed" title="The recording could not be downloaded: open the call to see why">
              <span aria-hidden="true">✕</span> Rec<span className="sr-only">ording: download failed</span>
            </span>
          ) : (
            <span className="rec-badge" title="Recording available">
              <span aria-hidden="true">●</span> Rec<span className="sr-only">ording</span>
            </span>
          ))}
      </span>
    </>
  );
}

interface RowProps {
  call: CallView;
  country: string;
  selected?: boolean;
  onOpen: () => void;
  onKeyDown?: (e: KeyboardEvent<HTMLButtonElement>) => void;
  buttonRef?: Ref<HTMLButtonElement>;
  onMessage?: (text: string, error: boolean) => void;
  /** Recording downloads, for the Rec badge's failed state. */
  downloads?: Map<string, DownloadProgress> | undefined;
}

export function CallRow({ call, country, selected = false, onOpen, onKeyDown, buttonRef, onMessage, downloads }: RowProps) {
  const who = call.contactName ?? displayNumber(call, country);
  const missed = call.status === 'ended' && isMissedCall(call);
  // "Calling…" shows in place of the button for a moment: nothing above the list appears and moves it.
  const [calling, setCalling] = useState(false);
  useEffect(() => {
    if (!calling) return;
    const t = setTimeout(() => setCalling(false), CALLING_SHOWN_MS);
    return () => clearTimeout(t);
  }, [calling]);
  const callBack = async () => {
    const r = await callBackAndMarkSeen(call);
    if (r.ok) setCalling(true);
    onMessage?.(r.ok ? `Calling ${who}…` : r.error, !r.ok);
  };
  return (
    <div className={`call-row-wrap ${selected ? 'selected' : ''} ${missed ? 'missed' : ''}`}>
      <button
        type="button"
        ref={buttonRef}
        className={`call-row ${selected ? 'selected' : ''}`}
        aria-current={selected ? 'true' : undefined}
        onClick={onOpen}
        onKeyDown={onKeyDown}
      >
        <CallRowContent call={call} country={country} downloads={downloads} />
      </button>
      <span className={`row-actions ${calling ? 'busy' : ''}`}>
        {calling && (
          <span className="row-state" role="status">
            Calling…
          </span>
        )}
        {!calling && call.number !== '' && (
          <button type="button" className={missed ? 'primary' : undefined} onClick={() => void callBack()} aria-label={`Call back ${who}`}>
            Call back
          </button>
        )}
      </span>
    </div>
  );
}
