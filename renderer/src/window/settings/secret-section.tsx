// The pieces a Settings section needs for a secret main keeps encrypted (safeStorage): a hook that loads
// what is saved (never the secret itself) and runs one change at a time, and the section's frame (title,
// help, form, the outcome line). Used by the recording credentials and the hub password.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { ActionResult } from '../../../../shared/ipc/contract';

/**
 * A secret kept by main (safeStorage) as a Settings section edits it: what is saved (never the secret
 * itself), one change at a time, and the line saying how the last one went. `saved` is null until loaded.
 */
export function useSavedSecret<V, A>(load: () => Promise<V>, store: (args: A) => Promise<ActionResult>, onSaved: () => void) {
  const [saved, setSaved] = useState<V | null>(null);
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const loadRef = useRef(load);

  useEffect(() => {
    let live = true;
    void loadRef
      .current()
      .then((v) => live && setSaved(v))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  const run = async (args: A, done: string): Promise<void> => {
    setBusy(true);
    try {
      const r = await store(args);
      if (r.ok) {
        setSaved(await load());
        onSaved();
        setNote({ text: done, error: false });
      } else setNote({ text: r.error, error: true });
    } catch (e) {
      setNote({ text: e instanceof Error ? e.message : String(e), error: true });
    } finally {
      setBusy(false);
    }
  };
  return { saved, note, busy, run };
}

/** A secret's section of Settings: title, help, its form (the fields), and the outcome line of the last change. */
export function SecretSection(p: { id: string; title: string; help: string; note: { text: string; error: boolean } | null; onSubmit: () => void; children: ReactNode }) {
  return (
    <div className="field credentials" role="group" aria-labelledby={`${p.id}-title`} aria-describedby={`${p.id}-help`}>
      <span id={`${p.id}-title`} className="label-like">
        {p.title}
      </span>
      <p id={`${p.id}-help`} className="help">
        {p.help}
      </p>
      <form
        className="cred-form"
        onSubmit={(e) => {
          e.preventDefault();
          p.onSubmit();
        }}
      >
        {p.children}
      </form>
      {p.note && (
        <p className={p.note.error ? 'error' : 'saved'} role={p.note.error ? 'alert' : 'status'}>
          {p.note.text}
        </p>
      )}
    </div>
  );
}
