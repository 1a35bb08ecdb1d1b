// Settings → Popups: when a card shows, how long it stays, where it goes (corner and display), its global
// shortcut (with main's refusal of it, if any) and when a ring with no news counts as missed.
import { useEffect, useState } from 'react';
import { outcomeLabels } from '../../../../shared/call-outcome';
import type { AppStatus, DisplayInfo } from '../../../../shared/ipc/contract';
import { popupPositions } from '../../../../shared/settings';
import { api } from '../../common/api';
import { displayOptions, opts, type FieldsetProps } from './fields';

export function PopupsFieldset({ view, field, status }: FieldsetProps & { status: AppStatus | null }) {
  // The monitors the popup can go on (popup.display), as main sees them now.
  const [displays, setDisplays] = useState<DisplayInfo[]>([]);
  useEffect(() => {
    void api()
      .listDisplays()
      .then(setDisplays)
      .catch(() => undefined);
  }, []);

  return (
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
      {field({
        path: 'ringTimeoutSec',
        // Named after the outcome it gives, as the card, the log and the filter say it (shared/call-outcome.ts).
        label: `"${outcomeLabels['rang-out']}" after ringing with no news for (seconds)`,
        kind: 'int',
        help: '3CX does not say when a caller gives up: a call still ringing with no news from the phone system after this long ends as a missed call of that name.',
      })}
    </fieldset>
  );
}
