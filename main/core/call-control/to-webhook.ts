// A translated Call Control transition as the raw webhook the WebAPI add-on would have POSTed, so it
// enters the hub (or a single PC's service) through the very same parse → tracker → durable log path.
import type { RawWebhook } from '../../../shared/webhook/event';
import type { WebhookFields } from './translate';

export function toRawWebhook(fields: WebhookFields): RawWebhook {
  return { method: 'POST', query: '', body: JSON.stringify(fields), contentType: 'application/json' };
}
