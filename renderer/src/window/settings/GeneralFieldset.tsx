// Settings → General: country for national numbers, start at login, theme, retention, updates, debug
// logging and the logs folder.
import { themes } from '../../../../shared/settings';
import { api } from '../../common/api';
import { countryOptions } from '../countries';
import { opts, type FieldsetProps } from './fields';

export function GeneralFieldset({ view, field }: FieldsetProps) {
  const s = view.settings;
  return (
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
  );
}
