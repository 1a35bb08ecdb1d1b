// Settings → Connection, when calls come from a Callpop hub: its address, the agent's name and password,
// the hub's certificate fingerprint and the connection's status line.
import { hubStatusText, refusalText } from '../../../../shared/hub-status';
import { isHubState } from '../../../../shared/ipc/contract';
import type { AppStatus } from '../../../../shared/ipc/contract';
import type { FieldRenderer } from './fields';
import { HubPassword } from './HubPassword';

export function HubConnection({ field, status }: { field: FieldRenderer; status: AppStatus | null }) {
  const service = status?.service;
  return (
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
          {service?.state === 'hub-refused'
            ? `: ${refusalText(service.reason)} ${service.about === 'extension' ? 'Callpop does not retry until the extension changes.' : 'Enter it again above; Callpop does not retry until then.'}`
            : ''}
          {service?.state === 'hub-reconnecting' && service.error ? ` (${service.error})` : ''}
        </p>
      </div>
    </>
  );
}
