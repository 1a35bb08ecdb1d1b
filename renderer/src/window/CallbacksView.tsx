// The main window's Callbacks list (hub mode): the missed callers this extension's queues (and the
// extension itself) still have to call back, shared with the colleagues through the hub. Claim says
// "I am on it" to everyone, Call back claims and dials, Done closes it (with an optional note). Items
// done today stay listed, with who did it and how. Nothing shows outside hub mode.
import { useState } from 'react';
import { formatPhone } from '../../../shared/phone';
import type { CallbackItem } from '../../../shared/team-protocol';
import { api } from '../common/api';
import { useCallbacks } from '../common/callbacks';
import { formatClock } from '../common/format';

const doneHow = { 'called-back': 'called back', 'called-again': 'the caller called again', marked: 'marked done' } as const;

function stateText(i: CallbackItem, mine: string | null): string {
  if (i.state === 'claimed' && i.claimedBy) return `${i.claimedBy.ext === mine ? 'You are' : `${i.claimedBy.name} is`} calling back since ${formatClock(i.claimedBy.at)}`;
  if (i.state === 'done' && i.doneBy) return `Done by ${i.doneBy.ext === mine ? 'you' : i.doneBy.name} at ${formatClock(i.doneBy.at)} (${doneHow[i.doneBy.how]})${i.note ? `: ${i.note}` : ''}`;
  return 'Nobody is calling back yet';
}

function Item({ item, mine, country }: { item: CallbackItem; mine: string | null; country: string }) {
  const [note, setNote] = useState<string | null>(null);
  const [doneNote, setDoneNote] = useState<string | null>(null);
  const heldByOther = item.state === 'claimed' && item.claimedBy?.ext !== mine;
  const act = async (action: 'claim' | 'release' | 'done', text?: string) => {
    const r = await api().actOnCallback({ id: item.id, action, ...(text ? { note: text } : {}) });
    setNote(r.ok ? null : r.error);
    return r.ok;
  };
  const callBack = async () => {
    if (item.state === 'open' && !(await act('claim'))) return;
    const r = await api().callBack(item.number);
    setNote(r.ok ? 'Calling…' : r.error);
  };
  const label = `${formatPhone(item.number, country)}, ${item.attempts === 1 ? '1 missed call' : `${item.attempts} missed calls`}`;
  return (
    <li className={`callback-item cb-${item.state}`} aria-label={label}>
      <div className="cb-who">
        <strong className="number">{formatPhone(item.number, country)}</strong>
        <span className="muted">
          {' '}
          · {item.queue ? `queue ${item.queue}` : 'to you'} · {item.attempts === 1 ? 'missed at' : `${item.attempts} missed calls, first at`} {formatClock(item.firstMissedAt)}
        </span>
      </div>
      <p className="cb-state">{stateText(item, mine)}</p>
      {item.state !== 'done' && (
        <div className="actions">
          <button type="button" className="primary" disabled={heldByOther} onClick={() => void callBack()}>
            Call back
          </button>
          {item.state === 'open' && (
            <button type="button" onClick={() => void act('claim')}>
              Claim
            </button>
          )}
          {item.state === 'claimed' && !heldByOther && (
            <button type="button" onClick={() => void act('release')}>
              Release
            </button>
          )}
          {doneNote === null ? (
            <button type="button" onClick={() => setDoneNote('')}>
              Done
            </button>
          ) : (
            <form
              className="cb-done"
              onSubmit={(e) => {
                e.preventDefault();
                void act('done', doneNote.trim()).then((ok) => ok && setDoneNote(null));
              }}
            >
              <input aria-label="Note (optional)" placeholder="Note (optional)" maxLength={500} value={doneNote} onChange={(e) => setDoneNote(e.target.value)} autoFocus />
              <button type="submit">Mark done</button>
              <button type="button" className="link" onClick={() => setDoneNote(null)}>
                Cancel
              </button>
            </form>
          )}
        </div>
      )}
      {note && (
        <p className="note" role="status">
          {note}
        </p>
      )}
    </li>
  );
}

export function CallbacksView({ country }: { country: string }) {
  const { items, extension } = useCallbacks();
  if (extension === null || items.length === 0) return null;
  const open = items.filter((i) => i.state !== 'done').length;
  return (
    <section className="callbacks-view" aria-labelledby="callbacks-heading" data-testid="callbacks">
      <h2 id="callbacks-heading">
        Callbacks <span className="muted">{open === 1 ? '1 to call back' : `${open} to call back`}</span>
      </h2>
      <ul className="callback-items">
        {items.map((i) => (
          <Item key={i.id} item={i} mine={extension} country={country} />
        ))}
      </ul>
    </section>
  );
}
