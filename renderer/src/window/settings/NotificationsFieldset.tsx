// Settings → Notifications: the system notifications for a ringing and a missed call.
import type { FieldRenderer } from './fields';

export function NotificationsFieldset({ field }: { field: FieldRenderer }) {
  return (
    <fieldset>
      <legend>Notifications</legend>
      {field({ path: 'notifications.ringing', label: 'Notify when the phone rings', kind: 'bool' })}
      {field({ path: 'notifications.missed', label: 'Notify about missed calls', kind: 'bool' })}
    </fieldset>
  );
}
