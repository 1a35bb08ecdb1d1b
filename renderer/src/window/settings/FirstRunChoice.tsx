// The first run's two ways in (issue #20 item 4), in words an agent knows: "Your extension" (this PC
// gets the PBX's calls itself: the extension, then the test call) or "Sign in to your team's hub" (the
// sign-in form in place, ./HubSignIn.tsx, then a call to the extension as the test). The extension's
// field is the page's own (passed in), so its checking and "Saved" are the same as everywhere in Settings.
import { useState, type ReactNode } from 'react';
import type { SettingsView } from '../../../../shared/ipc/contract';
import { api } from '../../common/api';
import { HubSignIn } from './HubSignIn';

interface Props {
  view: SettingsView;
  onView?: (v: SettingsView) => void;
  /** The "Your extension" field (focused when shown). */
  extensionField: ReactNode;
  onTestCall: () => void;
}

type Way = 'extension' | 'hub';

export function FirstRunChoice({ view, onView, extensionField, onTestCall }: Props) {
  const s = view.settings;
  // A PC set up for a hub (by policy or before) starts on the sign-in.
  const [way, setWay] = useState<Way>(() => (s.source === 'hub' ? 'hub' : 'extension'));
  const hubLocked = Boolean(view.locked.source) && s.source !== 'hub';
  const listenerLocked = Boolean(view.locked.source) && s.source !== 'listener';
  const choose = (value: Way) => {
    setWay(value);
    // Back from a hub tried before: this PC takes the calls again (the hub form saves "hub" itself).
    if (value === 'extension' && s.source === 'hub' && !view.locked.source) {
      void api()
        .updateSettings({ source: 'listener' })
        .then((r) => r.ok && onView?.(r.view));
    }
  };
  const choice = (value: Way, label: string, help: string, disabled: boolean) => (
    <label className={`first-run-way ${way === value ? 'chosen' : ''}`}>
      <input type="radio" name="first-run-way" value={value} checked={way === value} disabled={disabled} onChange={() => choose(value)} />
      <span>
        <strong>{label}</strong>
        <span className="help">{help}</span>
      </span>
    </label>
  );
  return (
    <fieldset className="first-run">
      <legend>Welcome to Callpop</legend>
      <p className="help">Callpop shows the calls of your desk phone. Start with one of these:</p>
      <div className="first-run-ways" role="radiogroup" aria-label="How Callpop gets your calls">
        {choice('extension', 'Your extension', 'The phone system sends your calls to this PC.', listenerLocked)}
        {choice('hub', "Sign in to your team's hub", 'Your company runs a Callpop hub: sign in with the name and password you were given.', hubLocked)}
      </div>
      {way === 'extension' ? (
        <>
          {extensionField}
          {s.extension !== '' && s.source === 'listener' && (
            <p className="first-run-next">
              <span>Extension {s.extension} saved. Check that everything works: </span>
              <button type="button" className="primary" onClick={onTestCall}>
                Send test call
              </button>
            </p>
          )}
        </>
      ) : (
        <HubSignIn view={view} onView={onView} extension={s.extension} />
      )}
    </fieldset>
  );
}
