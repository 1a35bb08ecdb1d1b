// Settings → Recordings: where recordings come from (the PBX host, its certificate), where they go, and
// the recording links' credentials.
import type { FieldRenderer } from './fields';
import { RecordingCredentials } from './RecordingCredentials';

export function RecordingsFieldset({ field }: { field: FieldRenderer }) {
  return (
    <fieldset>
      <legend>Recordings</legend>
      {field({ path: 'pbxHost', label: 'PBX address', kind: 'text', placeholder: 'pbx.example.com:5001', help: 'Recordings are only downloaded from this host.' })}
      {field({
        path: 'recordingFingerprint',
        label: 'Certificate fingerprint (SHA-256)',
        kind: 'text',
        help: 'Only for a PBX with a self-signed certificate: trust exactly that certificate.',
      })}
      {field({ path: 'downloadDir', label: 'Download folder', kind: 'text', placeholder: 'Your Downloads folder', help: 'Empty = the system Downloads folder.' })}
      {field({ path: 'autoDownloadRecordings', label: 'Download every recording automatically', kind: 'bool' })}

      <RecordingCredentials />
    </fieldset>
  );
}
