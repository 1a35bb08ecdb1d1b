// The field machinery every Settings fieldset shares: one `field(def)` that renders a labelled control
// for one key of shared/settings.ts, checks a change while typing with the same zod schema main uses
// (applySettingsPatch), saves it as soon as it is valid (updateSettings) and shows the server's field
// errors too. Keys locked by the machine policy are read-only with the reason. It lives in one hook so
// that the drafts, errors and the "Saved" mark are one state for the whole page, whichever file a
// fieldset is in.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { DisplayInfo, SettingsView } from '../../../../shared/ipc/contract';
import { applySettingsPatch } from '../../../../shared/settings';
import type { FieldErrors, SettingsPatch } from '../../../../shared/settings';
import { api } from '../../common/api';

/** 'lines': a list split on new lines and commas; 'rows': on new lines only (names may hold commas). */
export type Kind = 'text' | 'int' | 'bool' | 'lines' | 'rows' | { options: readonly { value: string; label: string }[] };

export interface FieldDef {
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

/** Renders one setting's field (what every fieldset receives). */
export type FieldRenderer = (f: FieldDef) => ReactNode;

/** What every fieldset of the page receives: the settings view and the field renderer. */
export interface FieldsetProps {
  view: SettingsView;
  field: FieldRenderer;
}

/** The page's banner line (copied, imported, test call sent…). */
export type NoteSetter = (note: { text: string; error: boolean }) => void;

export const opts = (values: readonly string[], labels: Record<string, string> = {}) => ({
  options: values.map((v) => ({ value: v, label: labels[v] ?? v })),
});

/** popup.display: primary, the pointer's, each connected display by name, and the saved one if it is gone. */
export function displayOptions(displays: readonly DisplayInfo[], current: string) {
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

/**
 * The page's field state (drafts being typed, errors, the one field last saved) and the two ways to
 * change a setting: `field(def)` for a typed control, `save(path, patch)` for a control of its own
 * (the source radio buttons).
 */
export function useSettingsFields(view: SettingsView, onView: (v: SettingsView) => void) {
  const s = view.settings;
  const [drafts, setDrafts] = useState<Record<string, string | boolean>>({});
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<string | null>(null);
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());

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

  const field: FieldRenderer = (f) => {
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

  return { field, save };
}
