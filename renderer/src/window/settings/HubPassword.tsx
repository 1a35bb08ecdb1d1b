// Settings → Connection (Callpop hub): the hub password (kept encrypted by main).
import { useState } from 'react';
import { api } from '../../common/api';
import { SecretSection, useSavedSecret } from './secret-section';

/**
 * The hub password: kept encrypted by the OS (main, safeStorage), never sent back here; the field only
 * says whether one is saved. A PC IT preset (address and agent by policy) asks for this alone, once.
 */
export function HubPassword() {
  const [password, setPassword] = useState('');
  const { saved, note, busy, run } = useSavedSecret(
    () => api().getHubPassword(),
    (args: { password: string } | { clear: true }) => api().setHubPassword(args),
    () => setPassword(''),
  );

  if (!saved) return null;
  const disabled = !saved.available || busy;

  return (
    <SecretSection
      id="hub-pass"
      title="Hub password"
      help={saved.available ? 'Stored encrypted by the system and never shown again.' : 'This system offers no secure password storage (no keyring), so Callpop cannot save the hub password here.'}
      note={note}
      onSubmit={() => {
        if (password !== '') void run({ password }, 'Hub password saved.');
      }}
    >
      <label htmlFor="hub-pass">Password</label>
      <input
        id="hub-pass"
        type="password"
        autoComplete="new-password"
        value={password}
        disabled={disabled}
        placeholder={saved.hasPassword ? 'Saved (type a new one to replace it)' : ''}
        onChange={(e) => setPassword(e.target.value)}
      />
      <div className="url-row">
        <button type="submit" disabled={disabled || password === ''}>
          Save password
        </button>
        <button type="button" onClick={() => void run({ clear: true }, 'Hub password cleared.')} disabled={disabled || !saved.hasPassword}>
          Clear password
        </button>
        {saved.hasPassword && <span className="muted">Password saved</span>}
      </div>
    </SecretSection>
  );
}
