// Settings: every field of shared/settings.ts, one fieldset per file under settings/ (the field
// machinery, shared by all of them, is settings/fields.tsx). This page only composes them: the agent's
// own settings (popups, notifications, theme) come first; Connection (this PC's listener or a Callpop
// hub) after them. It keeps what spans fieldsets: the banner line, the test call and the first run.
import { useEffect, useState } from 'react';
import type { AppStatus, SettingsView } from '../../../shared/ipc/contract';
import { api } from '../common/api';
import { ConnectionFieldset } from './settings/ConnectionFieldset';
import { ContactsFieldset } from './settings/ContactsFieldset';
import { useSettingsFields } from './settings/fields';
import { FirstRunFieldset } from './settings/FirstRunFieldset';
import { GeneralFieldset } from './settings/GeneralFieldset';
import { IntegrationsFieldset } from './settings/IntegrationsFieldset';
import { LineNamesFieldset } from './settings/LineNamesFieldset';
import { NotificationsFieldset } from './settings/NotificationsFieldset';
import { PopupsFieldset } from './settings/PopupsFieldset';
import { RecordingsFieldset } from './settings/RecordingsFieldset';

interface Props {
  view: SettingsView;
  status: AppStatus | null;
  onView: (v: SettingsView) => void;
  /** Whether the first run's form is on the page (the window's hub banner then points at it). */
  onFirstRun?: (shown: boolean) => void;
}

export function SettingsPage({ view, status, onView, onFirstRun }: Props) {
  const s = view.settings;
  const { field, save } = useSettingsFields(view, onView);
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);
  // No extension when Settings opened (the first run): it is asked first, at the top, for as long as the page is open.
  const [firstRun] = useState(() => view.settings.extension === '' && !view.locked.extension);
  useEffect(() => {
    onFirstRun?.(firstRun);
    return () => onFirstRun?.(false);
  }, [firstRun, onFirstRun]);

  const testCall = async () => {
    const r = await api().sendTestCall();
    setNote(r.ok ? { text: 'Test call sent: a popup should appear now.', error: false } : { text: `Test call failed: ${r.error}`, error: true });
  };

  return (
    <div className="settings pad">
      <div className="settings-top">
        <h2>Settings</h2>
        {/* The test call posts to this PC's own listener; on a hub, calling the extension is the test. */}
        {s.source === 'listener' && !firstRun && (
          <button type="button" className="primary" onClick={() => void testCall()}>
            Send test call
          </button>
        )}
      </div>
      {note && (
        <p className={note.error ? 'banner error' : 'banner'} role={note.error ? 'alert' : 'status'}>
          {note.text}
        </p>
      )}

      {firstRun && <FirstRunFieldset view={view} field={field} onTestCall={() => void testCall()} />}
      <RecordingsFieldset field={field} />
      <PopupsFieldset view={view} field={field} status={status} />
      <NotificationsFieldset field={field} />
      <LineNamesFieldset field={field} />
      <IntegrationsFieldset field={field} />
      <ContactsFieldset onNote={setNote} />
      <GeneralFieldset view={view} field={field} />
      <ConnectionFieldset view={view} field={field} status={status} firstRun={firstRun} save={save} onView={onView} onNote={setNote} />
    </div>
  );
}
