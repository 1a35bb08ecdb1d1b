// One line of a call list (today's calls, the log).
import type { CallView } from '../../../shared/ipc/contract';
import { displayNumber } from '../common/CallCard';
import { formatClock, formatDuration, resultLabel } from '../common/format';

export function CallRowContent({ call, country }: { call: CallView; country: string }) {
  const number = displayNumber(call, country);
  const missed = call.status === 'ended' && call.result === 'missed' && call.direction === 'incoming';
  return (
    <>
      <span className="col-time">{formatClock(call.startedAt)}</span>
      <span className={`col-dir dir-${call.direction}`} title={call.direction === 'incoming' ? 'Incoming' : 'Outgoing'}>
        <span aria-hidden="true">{call.direction === 'incoming' ? '↙' : '↗'}</span>
        <span className="sr-only">{call.direction === 'incoming' ? 'Incoming' : 'Outgoing'}</span>
      </span>
      <span className="col-who">
        <span className="who-main">{call.contactName ?? number}</span>
        {call.contactName && <span className="who-sub">{number}</span>}
      </span>
      <span className={`col-result ${missed ? 'is-missed' : ''}`}>
        {resultLabel(call)}
        {missed && !call.seen && <span className="unseen-dot" title="Not seen yet" aria-label="not seen" />}
      </span>
      <span className="col-dur">{formatDuration(call.durationSec)}</span>
      <span className="col-rec" title={call.recordings.length ? 'Has recording' : undefined}>
        {call.recordings.length ? <span aria-label="has recording">●</span> : null}
      </span>
    </>
  );
}
