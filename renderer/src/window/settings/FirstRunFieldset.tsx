// Settings → the first run's welcome: shown while the page was opened with no extension. It offers the
// two ways in (./FirstRunChoice.tsx): the extension first (focused) and, once saved on this PC's
// listener, the test call; or the hub sign-in in place (./HubSignIn.tsx).
import type { FieldsetProps } from './fields';
import { FirstRunChoice } from './FirstRunChoice';

export function FirstRunFieldset({ view, field, onTestCall }: FieldsetProps & { onTestCall: () => void }) {
  return (
    <FirstRunChoice
      view={view}
      extensionField={field({ path: 'extension', label: 'Your extension', kind: 'text', placeholder: 'e.g. 117', help: 'Popups and the log follow the calls of this extension.', autoFocus: true })}
      onTestCall={onTestCall}
    />
  );
}
