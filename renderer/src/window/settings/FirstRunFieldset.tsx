// Settings → the first run's welcome: shown while the page was opened with no extension, it asks for the
// extension first (focused) and, once saved on this PC's listener, offers the test call.
import type { FieldsetProps } from './fields';

export function FirstRunFieldset({ view, field, onTestCall }: FieldsetProps & { onTestCall: () => void }) {
  const s = view.settings;
  return (
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
          <button type="button" className="primary" onClick={onTestCall}>
            Send test call
          </button>
        </p>
      )}
    </fieldset>
  );
}
