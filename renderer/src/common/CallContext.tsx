// Caller context shared by the popup card and the log's details: the last calls with this number,
// the agent's note on a call, "Add contact" for an unknown number, and Call back (which marks a missed
// call seen). All caller data is rendered as text nodes: it is untrusted.
import { useState } from 'react';
import type { CallView, NumberHistory } from '../../../shared/ipc/contract';
import { noteMaxLength } from '../../../shared/ipc/schemas';
import { isMissedCall } from '../../../shared/call-outcome';
import { api } from './api';
import { useNoteDraft } from './drafts';
import { formatDuration, formatWhen, resultLabel } from './format';

type Result = { ok: true } | { ok: false; error: string };

/** Call back, then mark the call and every other missed call from that number seen: the agent dealt with them. */
export async function callBackAndMarkSeen(call: Pick<CallView, 'id' | 'number' | 'seen'>): Promise<Result> {
  const r = await api().callBack(call.number);
  if (r.ok) await api().markSeen([call.id], call.number);
  return r;
}

/** Whether a number could be someone's contact (not withheld, not an extension). */
export const canAddContact = (call: Pick<CallView, 'number' | 'contactName'>): boolean =>
  call.contactName === null && call.number !== '' && call.number.replace(/\D/g, '').length > 4;

/** "3 earlier calls, 1 missed" and the last three as a short list (with their notes). */
export function HistoryList({ h }: { h: NumberHistory | null }) {
  if (!h) return null;
  if (h.count === 0) return <p className="history">First call from this number</p>;
  const recent = h.recent ?? (h.last ? [h.last] : []);
  const note = h.lastNote && !recent.some((r) => r.id === h.lastNote?.callId && r.note) ? h.lastNote : null;
  return (
    <div className="history">
      <p>
        {/* Opens the caller's calls in the log; each entry opens that call. */}
        <button type="button" className="link" onClick={() => void api().openMain({ view: 'log', search: h.number })} title="Show all calls with this number in the log">
          {h.count} earlier call{h.count === 1 ? '' : 's'}
          {h.missed > 0 ? `, ${h.missed} missed` : ''}
        </button>
      </p>
      <ul className="history-list" aria-label="Last calls with this number">
        {recent.map((r) => (
          <li key={r.id}>
            <button type="button" className="history-entry" onClick={() => void api().openMain({ view: 'log', callId: r.id })}>
              <span className="when">{formatWhen(r.startedAt)}</span>{' '}
              <span className={isMissedCall(r) ? 'is-missed' : undefined}>
                {resultLabel(r)}
                {r.durationSec ? ` ${formatDuration(r.durationSec)}` : ''}
              </span>
              {r.note && <span className="history-note"> “{r.note}”</span>}
            </button>
          </li>
        ))}
      </ul>
      {note && (
        <p className="history-note">
          Note from {formatWhen(note.at)}: “{note.text}”
        </p>
      )}
    </div>
  );
}

/**
 * The agent's note on a call: shown when there is one, edited inline. What is typed is kept as a draft
 * (drafts.ts) on every key until it is saved or discarded, in whichever window the call is open; a
 * draft reopens the editor. Esc closes the editor and keeps the draft.
 */
export function NoteField({ call, onSaved }: { call: Pick<CallView, 'id' | 'note'>; onSaved?: (text: string) => void }) {
  const [draft, setDraft] = useNoteDraft(call.id);
  const [editing, setEditing] = useState(draft !== null);
  const [saved, setSaved] = useState<string | null>(null);
  const current = saved ?? call.note ?? '';
  const [text, setText] = useState(draft ?? current);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    const r = await api().setNote(call.id, text);
    if (!r.ok) return setError(r.error);
    setError(null);
    setSaved(text.trim());
    setDraft(null);
    setEditing(false);
    onSaved?.(text.trim());
  };
  if (!editing) {
    return (
      <div className="call-note" data-unsaved={draft !== null ? '' : undefined}>
        {draft !== null ? (
          <p className="note-text note-draft">Unsaved note: {draft}</p>
        ) : (
          current !== '' && <p className="note-text">Note: {current}</p>
        )}
        <button
          type="button"
          className="link"
          onClick={() => {
            setText(draft ?? current);
            setEditing(true);
          }}
        >
          {draft !== null ? 'Continue note' : current !== '' ? 'Edit note' : 'Add note'}
        </button>
      </div>
    );
  }
  return (
    <form
      className="call-note editing"
      data-unsaved={draft !== null ? '' : undefined}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label className="sr-only" htmlFor={`note-${call.id}`}>
        Note on this call
      </label>
      <input
        id={`note-${call.id}`}
        type="text"
        value={text}
        maxLength={noteMaxLength}
        placeholder="Short note, e.g. wants a quote by Friday"
        autoFocus
        onChange={(e) => {
          setText(e.target.value);
          setDraft(e.target.value === current ? null : e.target.value);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            setEditing(false);
          }
        }}
      />
      <button type="submit" className="primary">
        Save note
      </button>
      {draft !== null && (
        <button
          type="button"
          onClick={() => {
            setDraft(null);
            setText(current);
            setEditing(false);
          }}
        >
          Discard
        </button>
      )}
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

/** "Add contact": a name typed inline, saved to the contacts file (the caller is named from then on). */
export function AddContact({ number, onAdded }: { number: string; onAdded?: (name: string) => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  if (done) return <span className="note" role="status">Saved as {done}</span>;
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Add contact
      </button>
    );
  }
  const save = async () => {
    const r = await api().addContact({ name, number });
    if (!r.ok) return setError(r.error);
    setDone(name.trim());
    onAdded?.(name.trim());
  };
  return (
    <form
      className="add-contact"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label className="sr-only" htmlFor={`contact-${number}`}>
        Contact name
      </label>
      <input
        id={`contact-${number}`}
        type="text"
        value={name}
        maxLength={200}
        placeholder="Name"
        autoFocus
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            setOpen(false);
          }
        }}
      />
      <button type="submit" className="primary" disabled={name.trim() === ''}>
        Save contact
      </button>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
