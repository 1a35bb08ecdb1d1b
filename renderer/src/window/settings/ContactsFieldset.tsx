// Settings → Contacts: how many are loaded, import a CSV or vCard file, clear them all (confirmed first).
import { useEffect, useState } from 'react';
import { api } from '../../common/api';
import type { NoteSetter } from './fields';

export function ContactsFieldset({ onNote }: { onNote: NoteSetter }) {
  const [confirmClear, setConfirmClear] = useState(false);
  const [contactCount, setContactCount] = useState<number | null>(null);

  useEffect(() => {
    let live = true;
    void api()
      .contactsSummary()
      .then((r) => live && setContactCount((cur) => cur ?? r.count))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);

  const importContacts = async () => {
    const r = await api().importContacts();
    if (r.ok) {
      setContactCount(r.total);
      onNote({ text: `Imported ${r.imported} contacts (${r.total} in total).`, error: false });
    } else if (!r.canceled) onNote({ text: `Import failed: ${r.error}`, error: true });
  };
  const clearContacts = async () => {
    setConfirmClear(false);
    await api().clearContacts();
    setContactCount(0);
    onNote({ text: 'Contacts cleared.', error: false });
  };

  return (
    <fieldset>
      <legend>Contacts</legend>
      <p className="help">
        Import a CSV or vCard file; numbers match in any common format. {contactCount !== null ? `${contactCount} contacts loaded.` : ''}
      </p>
      <div className="url-row">
        <button type="button" onClick={() => void importContacts()}>
          Import contacts…
        </button>
        {!confirmClear ? (
          <button type="button" onClick={() => setConfirmClear(true)}>
            Clear contacts…
          </button>
        ) : (
          <span className="confirm" role="group" aria-label="Confirm clearing contacts">
            <span>Remove all imported contacts?</span>
            <button type="button" className="danger" onClick={() => void clearContacts()} autoFocus>
              Clear
            </button>
            <button type="button" onClick={() => setConfirmClear(false)}>
              Cancel
            </button>
          </span>
        )}
      </div>
    </fieldset>
  );
}
