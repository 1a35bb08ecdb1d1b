// "Send test call" when the listener serves HTTPS: the test call reaches our own listener by a loopback
// address and trusts exactly the listener's own certificate (whatever name it carries); a listener that
// presents any other certificate gets nothing, not even the secret path.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../shared/settings';
import { createCoreBackend } from '../../main/core/desktop/create-core-backend';
import { startListener } from '../../main/core/listener/listener';
import { sendWebhook } from '../../main/core/listener/test-call';
import { selfSignedCert } from '../support/self-signed-cert';

let dir = '';
const pem = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callpop-testcall-tls-'));
  // Names that do not match 127.0.0.1: the pin, not the name, decides.
  for (const n of ['own', 'other']) selfSignedCert(dir, { name: n, cn: `${n}.callpop.invalid`, san: null });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('test call over HTTPS', () => {
  it('the desktop core sends its test call to its own HTTPS listener and logs it', async () => {
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const backend = await createCoreBackend({
      dataDir,
      defaultDownloadDir: dataDir,
      settings: { ...defaultSettings(), extension: '117', listenHost: '127.0.0.1', listenPort: 0, webhookSecret: 'testCallTlsSecret_0123456789', tlsCertFile: pem('own-cert.pem'), tlsKeyFile: pem('own-key.pem') },
      push: () => undefined,
      testCallPacing: { answerAfterMs: 0, endAfterMs: 0, recordingAfterMs: 0 },
    });
    try {
      const status = backend.status();
      expect(status).toMatchObject({ state: 'listening', url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/webhook\//) });
      expect(await backend.handle('test:sendTestCall', {})).toEqual({ ok: true });
      await expect.poll(async () => (await backend.handle('log:query', { offset: 0, limit: 10 })).records.map((r) => r.status), { timeout: 10_000 }).toEqual(['ended']);
    } finally {
      await backend.close();
    }
  });

  it('refuses a listener that presents another certificate before sending anything', async () => {
    let requests = 0;
    const listener = await startListener({
      host: '127.0.0.1',
      port: 0,
      secret: 'testCallTlsSecret_0123456789',
      allowedSources: [],
      tls: { cert: readFileSync(pem('other-cert.pem')), key: readFileSync(pem('other-key.pem')) },
      onWebhook: async () => {
        requests++;
        return { status: 'ok' };
      },
    });
    try {
      const url = `https://127.0.0.1:${listener.port}/webhook/testCallTlsSecret_0123456789`;
      const raw = { method: 'POST' as const, body: '{"Event":"ringing","Callerid":"1","User":"117","Usertype":"ext","Id":"261201000000_1-0"}', query: '' };
      await expect(sendWebhook(url, raw, undefined, readFileSync(pem('own-cert.pem'), 'utf8'))).rejects.toThrow(/another certificate|self-signed certificate/);
      expect(requests).toBe(0);
      // The same request pinned to the certificate it does present goes through: the pin is what decided.
      expect((await sendWebhook(url, raw, undefined, readFileSync(pem('other-cert.pem'), 'utf8'))).status).toBe(200);
      expect(requests).toBe(1);
    } finally {
      await listener.close();
    }
  });
});
