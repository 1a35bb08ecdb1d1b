// Settings → Integrations: the "Open in CRM" and "Call back" URL templates and their placeholders.
import type { FieldRenderer } from './fields';

export function IntegrationsFieldset({ field }: { field: FieldRenderer }) {
  return (
    <fieldset>
      <legend>Integrations</legend>
      {field({ path: 'crmUrlTemplate', label: 'Open in CRM URL', kind: 'text', placeholder: 'https://crm.example.com/search?phone={e164}' })}
      {field({ path: 'clickToCallTemplate', label: 'Call back URL', kind: 'text', placeholder: 'tel:{number}', help: 'Empty = tel:{number}, handled by the 3CX client.' })}
      <p className="help placeholders">
        Placeholders, each URL-encoded: <code>{'{number}'}</code> the number as the PBX sent it, <code>{'{e164}'}</code> the number in
        international format (+905551239988), <code>{'{extension}'}</code> your extension, <code>{'{callId}'}</code> the 3CX call id.
      </p>
    </fieldset>
  );
}
