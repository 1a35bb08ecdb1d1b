// Settings → Connection: the agent's extension, where calls come from (the source radio buttons), and the
// chosen source's own part (HubConnection, CallControlConnection, ListenerConnection).
import { useState } from 'react';
import type { AppStatus, SettingsView } from '../../../../shared/ipc/contract';
import { callSources } from '../../../../shared/settings';
import type { CallSource, SettingsPatch } from '../../../../shared/settings';
import type { FieldsetProps, NoteSetter } from './fields';
import { CallControlConnection } from './CallControlConnection';
import { HubConnection } from './HubConnection';
import { ListenerConnection } from './ListenerConnection';

interface Props extends FieldsetProps {
  status: AppStatus | null;
  firstRun: boolean;
  save: (path: string, patch: SettingsPatch) => Promise<void>;
  onView: (v: SettingsView) => void;
  onNote: NoteSetter;
}

/** Each source's radio label and what it means, one line each. */
const sourceWords: Record<CallSource, { label: string; help: string }> = {
  listener: { label: 'This PC receives the webhooks', help: 'The PBX posts to this PC: for one agent whose PC the PBX can reach.' },
  hub: {
    label: 'Callpop hub',
    help: 'A Callpop hub receives the PBX’s webhooks for everyone; this PC connects to it (works at home and behind NAT). Your call log stays as it is.',
  },
  'call-control': {
    label: '3CX Call Control (no WebAPI add-on)',
    help: 'This PC asks 3CX itself (v20 Call Control API): no add-on, exact ring ends, nothing to open in a firewall. Your call log stays as it is.',
  },
};

export function ConnectionFieldset({ view, field, status, firstRun, save, onView, onNote }: Props) {
  const s = view.settings;
  // Kept here, not in the listener's part, so an open confirmation survives a look at another source.
  const [confirmRegen, setConfirmRegen] = useState(false);
  return (
    <fieldset data-testid="connection">
      <legend>Connection</legend>
      {/* On the first run it is asked at the top instead (one field per setting on the page). */}
      {field({ path: 'extension', label: 'Your extension', kind: 'text', placeholder: '117', help: 'Popups and the log follow the calls of this extension.', hidden: firstRun })}
      <div className="field webhook source-choice" role="radiogroup" aria-labelledby="source-title" data-field="source">
        <span id="source-title" className="label-like">
          Calls come from
        </span>
        {callSources.map((v) => (
          <label key={v} className="radio">
            <input
              type="radio"
              name="source"
              value={v}
              checked={s.source === v}
              disabled={Boolean(view.locked.source)}
              onChange={() => void save('source', { source: v })}
            />{' '}
            {sourceWords[v].label}
          </label>
        ))}
        <p className="help">{sourceWords[s.source].help}</p>
        {view.locked.source && <p className="help locked">Set by your administrator: {view.locked.source}</p>}
      </div>
      {s.source === 'hub' ? (
        <HubConnection field={field} status={status} />
      ) : s.source === 'call-control' ? (
        <CallControlConnection view={view} field={field} status={status} />
      ) : (
        <ListenerConnection view={view} field={field} status={status} onView={onView} onNote={onNote} confirmRegen={confirmRegen} setConfirmRegen={setConfirmRegen} />
      )}
    </fieldset>
  );
}
