// The first run's "Sign in to your team's hub", in place (issue #20 item 4): the hub's address (one per
// line: the nodes of a cluster), the agent's name and password and the desk phone's extension in one
// form, checked with the same schema main uses (applySettingsPatch) so a bad address or name is said
// under its field before anything is sent; the password goes to main's encrypted store
// (setHubPassword), the rest to the settings (source "hub"), and the hub client's own words for what
// happened ("Connected to hub · extension 117", "Hub refused the password: …") show under the form,
// not in a section 2,000 px further down. A refused password is typed again here and retried.
import { useState, type FormEvent, type ReactNode } from 'react';
import { hubStatusText, refusalText } from '../../../../shared/hub-status';
import { isHubState, type SettingsView } from '../../../../shared/ipc/contract';
import { applySettingsPatch, type FieldErrors, type SettingsPatch } from '../../../../shared/settings';
import { api } from '../../common/api';
import { useStatus } from '../../common/hooks';

interface Props {
  view: SettingsView;
  /** Takes the saved settings at once (main also pushes them to every window). */
  onView?: (v: SettingsView) => void;
  /** What the agent already typed as "Your extension" (the other choice of the first run). */
  extension: string;
}

type Fields = 'hubUrl' | 'hubAgent' | 'password' | 'extension';

/** One address per line or comma (the schema takes a comma list). */
const addressList = (text: string): string =>
  text
    .split(/[\n,]+/)
    .map((s) => s.trim())
    .filter(Boolean)
    .join(',');

export function HubSignIn({ view, onView, extension: typedExtension }: Props) {
  const s = view.settings;
  const status = useStatus();
  const [urls, setUrls] = useState(() => s.hubUrl.split(',').filter(Boolean).join('\n'));
  const [agent, setAgent] = useState(s.hubAgent);
  const [password, setPassword] = useState('');
  const [extension, setExtension] = useState(s.extension || typedExtension);
  const [errors, setErrors] = useState<Partial<Record<Fields, string>>>({});
  const [busy, setBusy] = useState(false);
  // Whether this form signed in (the state line below speaks only of an attempt made here).
  const [tried, setTried] = useState(false);

  const locked = (k: string) => view.locked[k];

  const signIn = async (e: FormEvent) => {
    e.preventDefault();
    const patch: SettingsPatch = { source: 'hub', hubUrl: addressList(urls), hubAgent: agent.trim(), extension: extension.trim() };
    const found: Partial<Record<Fields, string>> = {};
    const check = applySettingsPatch(s, patch);
    if (!check.ok) Object.assign(found, pick(check.errors));
    if (patch.hubUrl === '') found.hubUrl ??= 'Enter the hub address (your IT department has it).';
    if (patch.hubAgent === '') found.hubAgent ??= 'Enter your agent name on the hub.';
    if (patch.extension === '') found.extension ??= 'Enter your extension (the number colleagues dial to reach you).';
    if (password === '') found.password = 'Enter your password.';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      const saved = await api().setHubPassword({ password });
      if (!saved.ok) return setErrors({ password: saved.error });
      const r = await api().updateSettings(patch);
      if (!r.ok) return setErrors(pick(r.errors));
      onView?.(r.view);
      setPassword('');
      setTried(true);
    } finally {
      setBusy(false);
    }
  };

  const service = status?.service;
  const hub = tried && service && isHubState(service) ? service : null;
  const refused = hub?.state === 'hub-refused';

  const input = (id: Fields, label: string, control: ReactNode, help?: string) => (
    <div className="field" data-field={id}>
      <label htmlFor={`hub-sign-in-${id}`}>{label}</label>
      {control}
      {help && (
        <p id={`hub-sign-in-${id}-help`} className="help">
          {help}
        </p>
      )}
      {errors[id] && (
        <p id={`hub-sign-in-${id}-err`} className="error field-error" role="alert">
          {errors[id]}
        </p>
      )}
    </div>
  );
  const aria = (id: Fields, help: boolean) => ({
    id: `hub-sign-in-${id}`,
    'aria-invalid': errors[id] ? true : undefined,
    'aria-describedby': [errors[id] ? `hub-sign-in-${id}-err` : null, help ? `hub-sign-in-${id}-help` : null].filter(Boolean).join(' ') || undefined,
  });

  return (
    <form className="hub-sign-in" aria-label="Sign in to your team's hub" onSubmit={(e) => void signIn(e)} noValidate>
      {input(
        'hubUrl',
        'Hub address',
        <textarea {...aria('hubUrl', true)} rows={2} value={urls} spellCheck={false} disabled={Boolean(locked('hubUrl'))} placeholder="mqtts://hub.example.com:8883" onChange={(e) => setUrls(e.target.value)} />,
        'From your IT department. Several addresses (the servers of one hub): one per line.',
      )}
      {input('hubAgent', 'Your name on the hub', <input {...aria('hubAgent', false)} type="text" autoComplete="username" spellCheck={false} disabled={Boolean(locked('hubAgent'))} value={agent} placeholder="anna" onChange={(e) => setAgent(e.target.value)} />)}
      {input('password', 'Password', <input {...aria('password', false)} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />)}
      {input(
        'extension',
        'Your extension',
        <input {...aria('extension', true)} type="text" inputMode="numeric" spellCheck={false} disabled={Boolean(locked('extension'))} value={extension} placeholder="e.g. 117" onChange={(e) => setExtension(e.target.value)} />,
        'The short number colleagues dial to reach your desk phone: popups and the log follow its calls.',
      )}
      <div className="first-run-next">
        <button type="submit" className="primary" disabled={busy}>
          {refused ? 'Sign in again' : 'Sign in'}
        </button>
        {hub && (
          <span className={refused ? 'error' : hub.state === 'hub-connected' ? 'saved' : 'help'} role={refused ? 'alert' : 'status'} data-testid="hub-sign-in-status">
            {hubStatusText(hub)}
            {refused ? `: ${refusalText(hub.reason)}${hub.about === 'extension' ? '' : ' Type the password again.'}` : ''}
            {hub.state === 'hub-reconnecting' && hub.error ? ` (${hub.error})` : ''}
            {/* What makes a fresh sign-in go round: an address that does not answer, or an extension the
                hub does not give this agent (its broker then drops the connection). */}
            {hub.state === 'hub-reconnecting' ? `. Check the hub address, and that extension ${s.extension} is yours on this hub.` : ''}
          </span>
        )}
      </div>
      {hub?.state === 'hub-connected' && (
        <p className="help" data-testid="hub-sign-in-check">
          Check it: call {hub.extension} from another phone. Its popup shows here, and the call is in your log.
        </p>
      )}
    </form>
  );
}

/** The errors of this form's fields, from the schema's or main's answer. */
function pick(errors: FieldErrors): Partial<Record<Fields, string>> {
  const out: Partial<Record<Fields, string>> = {};
  for (const [k, v] of Object.entries(errors)) {
    const key = k.split('.')[0];
    if (key === 'hubUrl' || key === 'hubAgent' || key === 'extension') out[key] ??= v;
  }
  return out;
}
