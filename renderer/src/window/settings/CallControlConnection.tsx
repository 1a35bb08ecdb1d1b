// Settings → Connection, when calls come from 3CX's own Call Control API (no WebAPI add-on): the PBX's
// URL, the API client's ID and key, an optional key file and CA file, and the connection's status line.
// The key goes to the core once (it writes it into its own 0600 file) and is never shown again.
import { useState } from 'react';
import type { AppStatus, CallControlSecretView } from '../../../../shared/ipc/contract';
import { isPbxState } from '../../../../shared/ipc/contract';
import { pbxNeedsAttention, pbxStatusText } from '../../../../shared/pbx-status';
import { api } from '../../common/api';
import type { FieldsetProps } from './fields';
import { SecretSection, useSavedSecret } from './secret-section';

export function CallControlConnection({ view, field, status }: FieldsetProps & { status: AppStatus | null }) {
  const service = status?.service;
  const pbx = service && isPbxState(service) ? service : null;
  const problem = service?.state === 'error' || (pbx !== null && pbxNeedsAttention(pbx));
  return (
    <>
      {field({ path: 'callControlPbx', label: 'PBX URL', kind: 'text', placeholder: 'https://pbx.example.com', help: 'Your 3CX (v20 Update 2 or later, Enterprise licence). https:// only.' })}
      {field({ path: 'callControlClientId', label: 'Client ID', kind: 'text', placeholder: '900', help: '3CX Admin Console → Integrations → API: the client (with "Call Control Access Enabled" and your extension monitored).' })}
      {/* Asked again when the key file changes: with one, the key is read from it and cannot be typed here. */}
      <CallControlKey key={view.settings.callControlSecretFile} />
      {field({ path: 'callControlSecretFile', label: 'API key file', kind: 'text', placeholder: 'C:\\ProgramData\\Callpop\\cc-key.txt', help: 'Only if IT gave you a file holding the key: its full path. Empty = the key saved above.' })}
      {field({ path: 'callControlCaFile', label: 'PBX CA certificate file', kind: 'text', placeholder: 'C:\\certs\\pbx-ca.pem', help: 'Only for a PBX with a self-signed or private certificate: the full path of its PEM CA.' })}
      <div className="field webhook" aria-label="Call Control connection">
        <span className="label-like">Status</span>
        <p className={`help ${problem ? 'error' : ''}`} data-testid="pbx-status" role="status">
          {pbx ? pbxStatusText(pbx) : service?.state === 'error' ? service.message : 'Starting…'}
        </p>
        <p className="help">One API client serves one Callpop: 3CX keeps one valid sign-in per client, so give each PC its own.</p>
      </div>
    </>
  );
}

/** The API key: saved by the core in a file only this user can read, never sent back; the field only says whether one is saved. */
function CallControlKey() {
  const [key, setKey] = useState('');
  const { saved, note, busy, run } = useSavedSecret<CallControlSecretView, { secret: string } | { clear: true }>(
    () => api().getCallControlSecret(),
    (args) => api().setCallControlSecret(args),
    () => setKey(''),
  );

  if (!saved) return null;
  const disabled = saved.file !== null || busy;
  return (
    <SecretSection
      id="cc-key"
      title="API key"
      help={saved.file !== null ? `Read from ${saved.file}.` : 'Shown once by 3CX when the client is added. Kept in a file only your user account can read, and never shown again.'}
      note={note}
      onSubmit={() => {
        if (key.trim() !== '') void run({ secret: key }, 'API key saved.');
      }}
    >
      <label htmlFor="cc-key">Key</label>
      <input
        id="cc-key"
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        value={key}
        disabled={disabled}
        placeholder={saved.saved ? 'Saved (type a new one to replace it)' : ''}
        onChange={(e) => setKey(e.target.value)}
      />
      <div className="url-row">
        <button type="submit" disabled={disabled || key.trim() === ''}>
          Save key
        </button>
        <button type="button" onClick={() => void run({ clear: true }, 'API key cleared.')} disabled={disabled || !saved.saved}>
          Clear key
        </button>
        {saved.saved && <span className="muted">Key saved</span>}
      </div>
    </SecretSection>
  );
}
