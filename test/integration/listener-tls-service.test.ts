// HTTPS from the settings and from `callpop serve --tls-cert/--tls-key`: the service reads the PEM
// files itself, and a missing, unreadable or mismatched pair is an error state, never a crash.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSettings, tlsPairErrors, type Settings } from '../../shared/settings';
import { parsePolicy, resolveSettings } from '../../shared/policy';
import { WebhookReceiver } from '../../main/core/receiver/webhook-receiver';
import { runServe } from '../../main/cli/serve';
import { UsageError } from '../../main/cli/args';
import { selfSignedCert } from '../support/self-signed-cert';

const secret = 'tlsServiceSecret_0123456789';
const ringing = JSON.stringify({ Event: 'ringing', Callerid: '05551239988', User: '202', Usertype: 'ext', Did: '', Id: '230307114903_10-0' });

let dir = '';
let certFile = '';
let keyFile = '';
let otherKeyFile = '';
const services: WebhookReceiver[] = [];
const aborts: AbortController[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callpop-tls-service-'));
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  selfSignedCert(dir);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.pem']);
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  otherKeyFile = join(dir, 'other.pem');
});

afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  for (const s of services.splice(0)) await s.close();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function settings(more: Partial<Settings>): Settings {
  return { ...defaultSettings(), extension: '202', listenHost: '127.0.0.1', listenPort: 0, webhookSecret: secret, ...more };
}

async function startService(more: Partial<Settings>): Promise<WebhookReceiver> {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const s = await WebhookReceiver.start({ dataDir, settings: settings(more) });
  services.push(s);
  return s;
}

function postHttps(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', ca: readFileSync(certFile), agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const errorOf = (s: WebhookReceiver): string => {
  const st = s.status().state;
  return st.state === 'error' ? st.message : `(${st.state})`;
};

describe('HTTPS from the settings', () => {
  it('serves HTTPS with the settings’ files and shows https URLs', async () => {
    const s = await startService({ tlsCertFile: certFile, tlsKeyFile: keyFile });
    const { state, urls } = s.status();
    expect(state.state).toBe('listening');
    expect(urls).toEqual([`https://127.0.0.1:${s.port}/webhook/${secret}`]);
    expect(await postHttps(urls[0]!, ringing)).toBe(200);
    expect(s.openCalls().map((c) => c.status)).toEqual(['ringing']);
  });

  it('a missing file, a mismatched key or half a pair is an error state in words; fixing the settings rebinds', async () => {
    const s = await startService({ tlsCertFile: join(dir, 'nope.pem'), tlsKeyFile: keyFile });
    expect(errorOf(s)).toBe(`Cannot serve HTTPS: the certificate file ${join(dir, 'nope.pem')} does not exist.`);
    expect(s.status().urls).toEqual([]);

    await s.updateSettings(settings({ tlsCertFile: certFile, tlsKeyFile: otherKeyFile }));
    expect(errorOf(s)).toBe('Cannot serve HTTPS: the private key does not belong to the certificate.');

    await s.updateSettings(settings({ tlsCertFile: certFile, tlsKeyFile: '' }));
    expect(errorOf(s)).toMatch(/^Cannot serve HTTPS: the private key file is not set/);

    await s.updateSettings(settings({ tlsCertFile: certFile, tlsKeyFile: dir }));
    expect(errorOf(s)).toBe(`Cannot serve HTTPS: the private key file ${dir} is a folder.`);

    await s.updateSettings(settings({ tlsCertFile: certFile, tlsKeyFile: keyFile }));
    expect(s.status().state.state).toBe('listening');
    expect(await postHttps(s.status().urls[0]!, ringing)).toBe(200);
  });

  it('names the missing half of a pair for Settings', () => {
    expect(tlsPairErrors({ tlsCertFile: certFile, tlsKeyFile: '' })).toEqual({ tlsKeyFile: expect.stringContaining('private key') });
    expect(tlsPairErrors({ tlsCertFile: '', tlsKeyFile: keyFile })).toEqual({ tlsCertFile: expect.stringContaining('certificate') });
    expect(tlsPairErrors({ tlsCertFile: '', tlsKeyFile: '' })).toBeNull();
    expect(tlsPairErrors({ tlsCertFile: certFile, tlsKeyFile: keyFile })).toBeNull();
  });
});

describe('HTTPS in the machine policy', () => {
  it('presets and locks the certificate and key files like any other setting, and refuses relative paths', () => {
    const parsed = parsePolicy({ locked: { tlsCertFile: '/etc/callpop/cert.pem', tlsKeyFile: 'C:\\ProgramData\\Callpop\\key.pem' } });
    if (!parsed.ok) throw new Error(parsed.error);
    const r = resolveSettings({ user: { tlsCertFile: '/home/me/other.pem' }, policy: parsed.policy, loginName: 'jdoe' });
    expect(r.settings.tlsCertFile).toBe('/etc/callpop/cert.pem');
    expect(r.settings.tlsKeyFile).toBe('C:\\ProgramData\\Callpop\\key.pem');
    expect(Object.keys(r.locked).sort()).toEqual(['tlsCertFile', 'tlsKeyFile']);
    const relative = parsePolicy({ defaults: { tlsCertFile: 'cert.pem' } });
    expect(relative.ok ? 'accepted' : relative.error).toMatch(/^defaults\.tlsCertFile: Give the full path/);
  });
});

describe('callpop serve --tls-cert --tls-key', () => {
  async function serve(args: string[]): Promise<{ code: Promise<number>; stdout: () => string; stderr: () => string }> {
    let out = '';
    let err = '';
    const abort = new AbortController();
    aborts.push(abort);
    const dataDir = mkdtempSync(join(dir, 'serve-'));
    const code = runServe(['--extension', '202', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...args], {
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
      signal: abort.signal,
      env: {},
    });
    return { code, stdout: () => out, stderr: () => err };
  }

  it('prints an https URL that accepts a webhook, and stops cleanly', async () => {
    const r = await serve(['--tls-cert', certFile, '--tls-key', keyFile]);
    await expect.poll(() => r.stdout(), { timeout: 10_000 }).toMatch(/Listening on https:\/\/127\.0\.0\.1:\d+\/webhook\/\S+\n/);
    const url = /Listening on (\S+)/.exec(r.stdout())![1]!;
    expect(await postHttps(url, ringing)).toBe(200);
    aborts.pop()!.abort();
    expect(await r.code).toBe(0);
  });

  it('refuses half a pair as a usage error, and a bad pair with exit 1 and the reason', async () => {
    await expect((await serve(['--tls-cert', certFile])).code).rejects.toThrow(UsageError);
    await expect((await serve(['--tls-key', keyFile])).code).rejects.toThrow('HTTPS needs both --tls-cert FILE and --tls-key FILE.');
    const bad = await serve(['--tls-cert', certFile, '--tls-key', otherKeyFile]);
    expect(await bad.code).toBe(1);
    expect(bad.stderr()).toContain('Cannot serve HTTPS: the private key does not belong to the certificate.');
    expect(bad.stdout()).not.toContain('Listening on');
  });
});
