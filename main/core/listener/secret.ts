// The random path segment of the webhook URL. Anyone who can reach the port and knows the URL can
// inject calls, so it carries 144 bits from the OS CSPRNG (18 bytes → 24 base64url characters).
import { randomBytes } from 'node:crypto';
import type { Settings } from '../../../shared/settings';

export function generateWebhookSecret(): string {
  return randomBytes(18).toString('base64url');
}

/** Settings with a secret; `generated` tells the caller to persist them. */
export function withWebhookSecret(settings: Settings): { settings: Settings; generated: boolean } {
  if (settings.webhookSecret !== '') return { settings, generated: false };
  return { settings: { ...settings, webhookSecret: generateWebhookSecret() }, generated: true };
}
