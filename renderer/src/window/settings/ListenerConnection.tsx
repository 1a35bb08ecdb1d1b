// Settings → Connection, when this PC receives the webhooks itself: port, address, allowed sources, HTTPS
// files, the webhook URLs with the WebhooksApi.ini lines to paste, and regenerating the URL's secret.
import type { AppStatus, SettingsView } from '../../../../shared/ipc/contract';
import { api } from '../../common/api';
import type { FieldsetProps, NoteSetter } from './fields';

interface Props extends FieldsetProps {
  status: AppStatus | null;
  onView: (v: SettingsView) => void;
  onNote: NoteSetter;
  confirmRegen: boolean;
  setConfirmRegen: (open: boolean) => void;
}

export function ListenerConnection({ view, field, status, onView, onNote, confirmRegen, setConfirmRegen }: Props) {
  const service = status?.service;
  const urls = view.webhookUrls;
  const copy = async (text: string, what: string) => {
    await api().copyText(text);
    onNote({ text: `${what} copied`, error: false });
  };
  const regenerate = async () => {
    setConfirmRegen(false);
    onView(await api().regenerateSecret());
    onNote({ text: 'New secret generated: update WebhooksApi.ini with the new URL.', error: false });
  };
  return (
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
  );
}
