// Settings → Recordings: the recording links' user name and password (kept encrypted by main).
import { useState } from 'react';
import { api } from '../../common/api';
import { SecretSection, useSavedSecret } from './secret-section';

/**
 * User name and password for a PBX that protects recording URLs with Basic authentication. The
 * password is kept encrypted by the OS (main, safeStorage) and never read back: the field only says
 * whether one is saved; leaving it empty keeps the saved one.
 */
export function RecordingCredentials() {
  const [username, setUsername] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const { saved, note, busy, run } = useSavedSecret(
    () => api().getRecordingCredentials(),
    (args: Parameters<ReturnType<typeof api>['setRecordingCredentials']>[0]) => api().setRecordingCredentials(args),
    () => {
      setUsername(null);
      setPassword('');
    },
  );

  if (!saved) return null;
  const disabled = !saved.available || busy;
  const user = username ?? saved.username;
  const save = () => void run(password === '' ? { username: user } : { username: user, password }, 'Recording credentials saved.');
  const clear = () => void run({ clear: true }, 'Recording credentials cleared.');

  return (
    <SecretSection
      id="rec-cred"
      title="Recording credentials"
      help={
        saved.available
          ? 'Only if the PBX asks for a user name and password for recording links (HTTP 401). The password is stored encrypted by the system and never shown again.'
          : 'This system offers no secure password storage (no keyring), so Callpop cannot save recording credentials here.'
      }
      note={note}
      onSubmit={save}
    >
      <label htmlFor="rec-cred-user">User name</label>
      <input id="rec-cred-user" type="text" autoComplete="off" spellCheck={false} value={user} disabled={disabled} onChange={(e) => setUsername(e.target.value)} />
      <label htmlFor="rec-cred-pass">Password</label>
      <input
        id="rec-cred-pass"
        type="password"
        autoComplete="new-password"
        value={password}
        disabled={disabled}
        placeholder={saved.hasPassword ? 'Saved (leave empty to keep)' : ''}
        onChange={(e) => setPassword(e.target.value)}
      />
      <div className="url-row">
        <button type="submit" disabled={disabled || (user === saved.username && password === '')}>
          Save credentials
        </button>
        <button type="button" onClick={clear} disabled={disabled || (saved.username === '' && !saved.hasPassword)}>
          Clear credentials
        </button>
        {saved.hasPassword && <span className="muted">Password saved</span>}
      </div>
    </SecretSection>
  );
}
