// The "test:" channel: a test call posted to this PC's own listener (the seed flow of
// ../../listener/test-call.ts), which pops and logs like a real one.
import { readFileSync } from 'node:fs';
import { testCallStamp } from '../../../../shared/test-call-id';
import { webhookUrl, type Settings } from '../../../../shared/settings';
import { sendTestCall } from '../../listener/test-call';
import type { CoreContext, HandlersOf } from './context';

/** Where our own listener is reachable from this PC (the test call posts there). */
function loopbackUrl(settings: Settings, port: number, scheme: 'http' | 'https'): string {
  const h = settings.listenHost;
  const host = h === '0.0.0.0' || h === '' ? '127.0.0.1' : h === '::' ? '::1' : h;
  return webhookUrl(host, port, settings.webhookSecret, scheme);
}

export function testCallHandlers(ctx: CoreContext): HandlersOf<'test'> {
  const { source, logger } = ctx;
  return {
    'test:sendTestCall': () => {
      const state = source.status();
      if (state.state !== 'listening') {
        const error = source.settings.source === 'hub' ? 'A test call needs "This PC receives the webhooks"; with a hub, call your extension instead.' : 'Callpop is not listening for webhooks; fix the connection settings first.';
        return { ok: false, error };
      }
      // Over HTTPS the test call trusts exactly the listener's own certificate (it reaches it by a loopback address).
      const https = state.url.startsWith('https:');
      let trustedCertPem: string | undefined;
      if (https) {
        try {
          trustedCertPem = readFileSync(source.settings.tlsCertFile, 'utf8');
        } catch (e) {
          return { ok: false, error: `Cannot read the listener's certificate for the test call: ${(e as Error).message}` };
        }
      }
      const url = loopbackUrl(source.settings, state.port, https ? 'https' : 'http');
      return sendTestCall({ url, extension: source.settings.extension, pacing: ctx.testCallPacing, logger, stamp: testCallStamp(), trustedCertPem });
    },
  };
}
