// Settings: every field of shared/settings.ts, validated while typing with the same zod schema main uses
// (applySettingsPatch), saved as soon as valid (updateSettings), with the server's field errors shown too.
// Keys locked by the machine policy are read-only with the reason. The agent's own settings (popups,
// notifications, theme) come first; Connection (this PC's listener or a Callpop hub) after them.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { hubStatusText, refusalText } from '../../../shared/hub-status';
import { isHubState } from '../../../shared/ipc/contract';
import type { ActionResult, AppStatus, DisplayInfo, SettingsView } from '../../../shared/ipc/contract';
import { applySettingsPatch, callSources, popupPositions, themes } from '../../../shared/settings';
import type { FieldErrors, SettingsPatch } from '../../../shared/settings';
import { api } from '../common/api';
import { countryOptions } from './countries';

interface Props {
  view: SettingsView;
  status: AppStatus | null;
  onView: (v: SettingsView) => void;
}

/** 'lines': a list split on new lines and commas; 'rows': on new lines only (names may hold commas). */
type Kind = 'text' | 'int' | 'bool' | 'lines' | 'rows' | { options: readonly { value: string; label: string }[] };

interface FieldDef {
  path: string;
  label: string;
  kind: Kind;
  help?: string;
  placeholder?: string;
  /** Takes the focus when shown (the first run's extension). */
  autoFocus?: boolean;
  /** Not shown here (the first run asks for it at the top of the page instead). */
  hidden?: boolean;
}

const opts = (values: readonly string[], labels: Record<string, string> = {}) => ({
  options: values.map((v) => ({ value: v, label: labels[v] ?? v })),
});

/** popup.display: primary, the pointer's, each connected display by name, and the saved one if it is gone. */
function displayOptions(displays: readonly DisplayInfo[], current: string) {
  const named = displays.map((d) => ({ value: d.label, label: `${d.label} (${d.width}×${d.height}${d.primary ? ', primary' : ''})` }));
  const gone = current !== 'primary' && current !== 'pointer' && !displays.some((d) => d.label === current) ? [{ value: current, label: `${current} (not connected: the primary display is used)` }] : [];
  return { options: [{ value: 'primary', label: 'Primary display' }, { value: 'pointer', label: 'The display with the mouse pointer' }, ...named, ...gone] };
}

function getPath(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}
function patchFor(path: string, value: unknown): SettingsPatch {
  const [a, b] = path.split('.');
  return (b ? { [a!]: { [b]: value } } : { [a!]: value }) as SettingsPatch;
}
const toText = (kind: Kind, v: unknown): string | boolean =>
  kind === 'bool' ? Boolean(v) : kind === 'lines' || kind === 'rows' ? (v as string[]).join('\n') : String(v ?? '');
/** Raw input → the value the schema checks; NaN marks "not a number" so we can say so plainly. */
function fromText(kind: Kind, raw: string | boolean): unknown {
  if (kind === 'bool') return raw;
  if (kind === 'int') return /^\s*-?\d+\s*$/.test(String(raw)) ? Number(raw) : Number.NaN;
  if (kind === 'rows')
    return String(raw)
      .split(/\n+/)
      .map((s) => s.trim())
      .filter(Boolean);
  if (kind === 'lines')
    return String(raw)
      .split(/[\n,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
  return raw;
}

export function SettingsPage({ view, status, onView }: Props) {
  const s = view.settings;
  const [drafts, setDrafts] = useState<Record<string, string | boolean>>({});
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);
  const [confirmRegen, setConfirmRegen] = useState(false);
  const [confirmClear, setConfirmClear] = useState(false);
  const [contactCount, setContactCount] = useState<number | null>(null);
  // The monitors the popup can go on (popup.display), as main sees them now.
  const [displays, setDisplays] = useState<DisplayInfo[]>([]);
  // No extension when Settings opened (the first run): it is asked first, at the top, for as long as the page is open.
  const [firstRun] = useState(() => view.settings.extension === '' && !view.locked.extension);
  useEffect(() => {
    void api()
      .listDisplays()
      .then(setDisplays)
      .catch(() => undefined);
  }, []);
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

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

  useEffect(() => {
    const t = timers.current;
    return () => {
      for (const x of t.values()) clearTimeout(x);
    };
  }, []);

  const save = async (path: string, patch: SettingsPatch) => {
    const r = await api().updateSettings(patch);
    if (r.ok) {
      onView(r.view);
      setDrafts(({ [path]: _done, ...rest }) => rest);
      setErrors(({ [path]: _gone, ...rest }) => rest);
      setSaved(path);
    } else {
      setErrors((e) => ({ ...e, ...r.errors }));
    }
  };

  const change = (f: FieldDef, raw: string | boolean) => {
    setDrafts((d) => ({ ...d, [f.path]: raw }));
    setSaved(null);
    const value = fromText(f.kind, raw);
    const old = timers.current.get(f.path);
    if (old) clearTimeout(old);
    if (typeof value === 'number' && Number.isNaN(value)) {
      setErrors((e) => ({ ...e, [f.path]: 'Enter a whole number.' }));
      return;
    }
    const patch = patchFor(f.path, value);
    const check = applySettingsPatch(s, patch);
    if (!check.ok) {
      // Show the message of this field (or of its array items, e.g. allowedSources.1).
      const msg = Object.entries(check.errors).find(([k]) => k === f.path || k.startsWith(`${f.path}.`))?.[1] ?? Object.values(check.errors)[0];
      setErrors((e) => ({ ...e, [f.path]: msg ?? 'Invalid value.' }));
      return;
    }
    setErrors(({ [f.path]: _ok, ...rest }) => rest);
    const immediate = f.kind === 'bool' || typeof f.kind === 'object';
    timers.current.set(
      f.path,
      setTimeout(() => void save(f.path, patch), immediate ? 0 : 400),
    );
  };

  const field = (f: FieldDef) => {
    if (f.hidden) return null;
    const id = `set-${f.path.replace('.', '-')}`;
    const locked = view.locked[f.path] ?? view.locked[f.path.split('.')[0]!];
    const value = drafts[f.path] ?? toText(f.kind, getPath(s, f.path));
    const error = errors[f.path];
    const describedBy = [error ? `${id}-err` : null, f.help ? `${id}-help` : null, locked ? `${id}-lock` : null].filter(Boolean).join(' ') || undefined;
    const common = {
      id,
      disabled: Boolean(locked),
      'aria-invalid': error ? true : undefined,
      'aria-describedby': describedBy,
    };
    let control;
    if (f.kind === 'bool') {
      control = <input type="checkbox" {...common} checked={value === true} onChange={(e) => change(f, e.target.checked)} />;
    } else if (typeof f.kind === 'object') {
      control = (
        <select {...common} value={String(value)} onChange={(e) => change(f, e.target.value)}>
          {f.kind.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
    } else if (f.kind === 'lines' || f.kind === 'rows') {
      control = <textarea {...common} rows={3} value={String(value)} placeholder={f.placeholder} onChange={(e) => change(f, e.target.value)} />;
    } else {
      control = (
        <input
          {...common}
          type="text"
          inputMode={f.kind === 'int' ? 'numeric' : undefined}
          value={String(value)}
          placeholder={f.placeholder}
          autoFocus={f.autoFocus}
          spellCheck={false}
          onChange={(e) => change(f, e.target.value)}
        />
      );
    }
    return (
      <div key={f.path} className={`field ${f.kind === 'bool' ? 'field-bool' : ''}`} data-field={f.path}>
        <label htmlFor={id}>{f.label}</label>
        {control}
        {saved === f.path && (
          <span className="saved" role="status">
            Saved
          </span>
        )}
        {f.help && (
          <p id={`${id}-help`} className="help">
            {f.help}
          </p>
        )}
        {locked && (
          <p id={`${id}-lock`} className="help locked">
            Set by your administrator: {locked}
          </p>
        )}
        {error && (
          <p id={`${id}-err`} className="error field-error" role="alert">
            {error}
          </p>
        )}
      </div>
    );
  };

  const copy = async (text: string, what: string) => {
    await api().copyText(text);
    setNote({ text: `${what} copied`, error: false });
  };
  const regenerate = async () => {
    setConfirmRegen(false);
    onView(await api().regenerateSecret());
    setNote({ text: 'New secret generated: update WebhooksApi.ini with the new URL.', error: false });
  };
  const importContacts = async () => {
    const r = await api().importContacts();
    if (r.ok) {
      setContactCount(r.total);
      setNote({ text: `Imported ${r.imported} contacts (${r.total} in total).`, error: false });
    } else if (!r.canceled) setNote({ text: `Import failed: ${r.error}`, error: true });
  };
  const clearContacts = async () => {
    setConfirmClear(false);
    await api().clearContacts();
    setContactCount(0);
    setNote({ text: 'Contacts cleared.', error: false });
  };
  const testCall = async () => {
    const r = await api().sendTestCall();
    setNote(r.ok ? { text: 'Test call sent: a popup should appear now.', error: false } : { text: `Test call failed: ${r.error}`, error: true });
  };

  const service = status?.service;
  const urls = view.webhookUrls;

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

      {firstRun && (
        <fieldset className="first-run">
          <legend>Welcome to Callpop</legend>
          <p className="help">
            Callpop shows the calls of your desk phone. Enter its extension (the short number colleagues dial to reach you), or, if
            your company uses a Callpop hub, choose "Callpop hub" under Connection below and sign in there.
          </p>
          {field({ path: 'extension', label: 'Your extension', kind: 'text', placeholder: 'e.g. 117', help: 'Popups and the log follow the calls of this extension.', autoFocus: true })}
          {s.extension !== '' && s.source === 'listener' && (
            <p className="first-run-next">
              <span>Extension {s.extension} saved. Check that everything works: </span>
              <button type="button" className="primary" onClick={() => void testCall()}>
                Send test call
              </button>
            </p>
          )}
        </fieldset>
      )}

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

      <fieldset>
        <legend>Popups</legend>
        {field({ path: 'popup.enabled', label: 'Show a popup when the phone rings', kind: 'bool' })}
        {field({ path: 'popup.externalOnly', label: 'Only for callers from outside', kind: 'bool' })}
        {field({ path: 'popup.autoCloseSec', label: 'Close a finished call after (seconds)', kind: 'int', help: '0 keeps it until dismissed.' })}
        {field({
          path: 'popup.autoCloseMissed',
          label: 'Close missed calls too',
          kind: 'bool',
          help: 'Off: a missed call stays until you dismiss it, so you find it when you are back at your desk.',
        })}
        {field({
          path: 'popup.position',
          label: 'Position',
          kind: opts(popupPositions, { 'bottom-right': 'Bottom right', 'top-right': 'Top right', 'bottom-left': 'Bottom left', 'top-left': 'Top left' }),
        })}
        {field({
          path: 'popup.display',
          label: 'Display',
          kind: displayOptions(displays, view.settings.popup.display),
          help: 'A display that is not connected falls back to the primary one.',
        })}
        {field({
          path: 'popup.shortcut',
          label: 'Keyboard shortcut to the newest card',
          kind: 'text',
          placeholder: 'CommandOrControl+Alt+P',
          help: 'Works from any app. On the card: Enter opens it, B calls back, C copies, O opens the CRM, D dismisses, Esc goes back. Empty: none.',
        })}
        {status?.shortcutError && (
          <p className="help error" role="alert" data-testid="shortcut-error">
            {status.shortcutError}
          </p>
        )}
        {field({ path: 'ringTimeoutSec', label: 'Missed after ringing with no news for (seconds)', kind: 'int', help: '3CX does not report when a caller gives up: such a call is shown as "Missed (rang out, no end seen)".' })}
      </fieldset>

      <fieldset>
        <legend>Notifications</legend>
        {field({ path: 'notifications.ringing', label: 'Notify when the phone rings', kind: 'bool' })}
        {field({ path: 'notifications.missed', label: 'Notify about missed calls', kind: 'bool' })}
      </fieldset>

      <fieldset>
        <legend>Queue and DID names</legend>
        {field({
          path: 'lineNames',
          label: 'Names of queues, ring groups and DIDs',
          kind: 'rows',
          placeholder: '820 = Sales\n0212555000 = Support line',
          help: 'One "number = name" per line. The popup and the log show the name instead of the number.',
        })}
      </fieldset>

      <fieldset>
        <legend>Integrations</legend>
        {field({ path: 'crmUrlTemplate', label: 'Open in CRM URL', kind: 'text', placeholder: 'https://crm.example.com/search?phone={e164}' })}
        {field({ path: 'clickToCallTemplate', label: 'Call back URL', kind: 'text', placeholder: 'tel:{number}', help: 'Empty = tel:{number}, handled by the 3CX client.' })}
        <p className="help placeholders">
          Placeholders, each URL-encoded: <code>{'{number}'}</code> the number as the PBX sent it, <code>{'{e164}'}</code> the number in
          international format (+905551239988), <code>{'{extension}'}</code> your extension, <code>{'{callId}'}</code> the 3CX call id.
        </p>
      </fieldset>

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

      <fieldset>
        <legend>General</legend>
        {field({ path: 'defaultCountry', label: 'Default country', kind: { options: countryOptions(s.defaultCountry) }, help: 'Used to read and format national numbers.' })}
        {field({ path: 'startAtLogin', label: 'Start at login', kind: 'bool' })}
        {field({ path: 'theme', label: 'Theme', kind: opts(themes, { system: 'Follow the system', light: 'Light', dark: 'Dark' }) })}
        {field({ path: 'retentionDays', label: 'Keep calls for (days)', kind: 'int', help: '0 keeps them forever.' })}
        {field({ path: 'updates.enabled', label: 'Check for updates', kind: 'bool' })}
        {field({ path: 'debugLogging', label: 'Debug logging (full numbers in the log file)', kind: 'bool' })}
        <div className="url-row">
          <button type="button" onClick={() => void api().openLogsFolder()}>
            Open logs folder
          </button>
        </div>
      </fieldset>

      <fieldset data-testid="connection">
        <legend>Connection</legend>
        {/* On the first run it is asked at the top instead (one field per setting on the page). */}
        {field({ path: 'extension', label: 'Your extension', kind: 'text', placeholder: '117', help: 'Popups and the log follow the calls of this extension.', hidden: firstRun })}
        <div className="field webhook source-choice" role="radiogroup" aria-labelledby="source-title" data-field="source">
          <span id="source-title" className="label-like">
            Calls come from
          </span>
          {callSources.filter((v) => v !== 'call-control' /* set up with callpop serve/hub for now */).map((v) => (
            <label key={v} className="radio">
              <input
                type="radio"
                name="source"
                value={v}
                checked={s.source === v}
                disabled={Boolean(view.locked.source)}
                onChange={() => void save('source', { source: v })}
              />{' '}
              {v === 'listener' ? 'This PC receives the webhooks' : 'Callpop hub'}
            </label>
          ))}
          <p className="help">
            {s.source === 'listener'
              ? 'The PBX posts to this PC: for one agent whose PC the PBX can reach.'
              : 'A Callpop hub receives the PBX’s webhooks for everyone; this PC connects to it (works at home and behind NAT). Your call log stays as it is.'}
          </p>
          {view.locked.source && <p className="help locked">Set by your administrator: {view.locked.source}</p>}
        </div>
        {s.source === 'hub' ? (
          <>
            {field({ path: 'hubUrl', label: 'Hub address', kind: 'text', placeholder: 'mqtts://hub.example.com:8883', help: 'mqtt://, mqtts://, ws:// or wss:// — from your IT department. The nodes of a broker cluster: separate them with commas.' })}
            {field({ path: 'hubAgent', label: 'Agent name', kind: 'text', placeholder: 'anna', help: 'Your name on the hub (callpop hub agent add).' })}
            <HubPassword />
            {field({
              path: 'hubFingerprint',
              label: 'Hub certificate fingerprint (SHA-256)',
              kind: 'text',
              help: 'Only for a hub with a self-signed certificate (mqtts:// or wss://): trust exactly that certificate. Checked before the password is sent.',
            })}
            <div className="field webhook" aria-label="Hub connection">
              <span className="label-like">Status</span>
              <p className={`help ${service && isHubState(service) && service.state === 'hub-refused' ? 'error' : ''}`} data-testid="hub-status" role="status">
                {service && isHubState(service) ? hubStatusText(service) : 'Starting…'}
                {service?.state === 'hub-refused' ? `: ${refusalText(service.reason)} Enter it again above; Callpop does not retry until then.` : ''}
                {service?.state === 'hub-reconnecting' && service.error ? ` (${service.error})` : ''}
              </p>
            </div>
          </>
        ) : (
          <>
            {field({ path: 'listenPort', label: 'Port', kind: 'int', help: 'The PBX posts webhooks to this port. 0 picks a free one.' })}
            {field({ path: 'listenHost', label: 'Listen address', kind: 'text', help: '0.0.0.0 listens on every network interface.' })}
            {field({
              path: 'allowedSources',
              label: 'Allowed sources',
              kind: 'lines',
              placeholder: '192.0.2.10',
              help: 'One IP address or range per line; empty lets anyone who knows the URL post.',
            })}
            {field({ path: 'tlsCertFile', label: 'HTTPS certificate file', kind: 'text', placeholder: 'C:\\certs\\callpop.pem', help: 'Full path of a PEM certificate. With its key file, the PBX posts over https (the secret in the URL is not sent in clear).' })}
            {field({ path: 'tlsKeyFile', label: 'HTTPS key file', kind: 'text', placeholder: 'C:\\certs\\callpop-key.pem', help: 'Full path of the certificate’s PEM private key. Set both files, or neither.' })}
            <div className="field webhook" aria-label="Webhook URL">
              <span className="label-like">Webhook URL</span>
              <p className="help">
                {service?.state === 'listening'
                  ? `Listening on port ${service.port}.`
                  : service?.state === 'error'
                    ? `Not listening: ${service.message}`
                    : 'Starting the listener…'}{' '}
                Paste one of these into WebhooksApi.ini on the PBX.
              </p>
              {urls.length === 0 && <p className="muted">No URL yet.</p>}
              {urls.map((u, i) => (
                <div key={u} className="url-row">
                  <code className="url" data-testid={i === 0 ? 'webhook-url' : undefined}>
                    {u}
                  </code>
                  <button type="button" onClick={() => void copy(u, 'URL')} aria-label={`Copy URL ${u}`}>
                    Copy
                  </button>
                </div>
              ))}
              {urls[0] && (
                <div className="ini">
                  <div className="ini-block">
                    <span className="ini-title">POST (JSON)</span>
                    <pre>{`WEBHOOK_URL = ${urls[0]}\nHTTP_REQUEST_METHOD_POST = 1`}</pre>
                    <button type="button" onClick={() => void copy(`WEBHOOK_URL = ${urls[0]}\nHTTP_REQUEST_METHOD_POST = 1`, 'POST lines')}>
                      Copy POST lines
                    </button>
                  </div>
                  <div className="ini-block">
                    <span className="ini-title">GET (query string)</span>
                    <pre>{`WEBHOOK_URL = ${urls[0]}\nHTTP_REQUEST_METHOD_POST = 0`}</pre>
                    <button type="button" onClick={() => void copy(`WEBHOOK_URL = ${urls[0]}\nHTTP_REQUEST_METHOD_POST = 0`, 'GET lines')}>
                      Copy GET lines
                    </button>
                  </div>
                </div>
              )}
              <div className="url-row">
                {!confirmRegen ? (
                  <button type="button" onClick={() => setConfirmRegen(true)} disabled={Boolean(view.locked.webhookSecret)}>
                    Regenerate secret…
                  </button>
                ) : (
                  <span className="confirm" role="group" aria-label="Confirm new secret">
                    <span>The old URL stops working. Continue?</span>
                    <button type="button" className="danger" onClick={() => void regenerate()} autoFocus>
                      Regenerate
                    </button>
                    <button type="button" onClick={() => setConfirmRegen(false)}>
                      Cancel
                    </button>
                  </span>
                )}
              </div>
            </div>
          </>
        )}
      </fieldset>
    </div>
  );
}

/**
 * A secret kept by main (safeStorage) as a Settings section edits it: what is saved (never the secret
 * itself), one change at a time, and the line saying how the last one went. `saved` is null until loaded.
 */
function useSavedSecret<V, A>(load: () => Promise<V>, store: (args: A) => Promise<ActionResult>, onSaved: () => void) {
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

/**
 * User name and password for a PBX that protects recording URLs with Basic authentication. The
 * password is kept encrypted by the OS (main, safeStorage) and never read back: the field only says
 * whether one is saved; leaving it empty keeps the saved one.
 */
function RecordingCredentials() {
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

/**
 * The hub password: kept encrypted by the OS (main, safeStorage), never sent back here; the field only
 * says whether one is saved. A PC IT preset (address and agent by policy) asks for this alone, once.
 */
function HubPassword() {
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

/** A secret's section of Settings: title, help, its form (the fields), and the outcome line of the last change. */
function SecretSection(p: { id: string; title: string; help: string; note: { text: string; error: boolean } | null; onSubmit: () => void; children: ReactNode }) {
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
