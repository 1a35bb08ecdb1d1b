import { describe, expect, it } from 'vitest';
import { SettingsService, webhookUrls } from '../../main/app/settings-service';
import type { UserOverridesStore } from '../../main/app/settings-service';
import { parsePolicy } from '../../shared/policy';
import type { Policy, SettingsOverrides } from '../../shared/policy';
import { defaultSettings } from '../../shared/settings';
import { silentLogger } from '../../shared/diagnostics-log';

function memoryStore(initial: Record<string, unknown> = {}) {
  let data: unknown = structuredClone(initial);
  const writes: SettingsOverrides[] = [];
  const store: UserOverridesStore = {
    read: () => structuredClone(data),
    write: (o) => {
      writes.push(o);
      data = structuredClone(o);
    },
  };
  return { store, writes };
}

const policy = (json: unknown): Policy => {
  const r = parsePolicy(json);
  if (!r.ok) throw new Error(r.error);
  return r.policy;
};

const nics = () => ({
  lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '', cidr: null }],
  eth0: [
    { address: '192.0.2.10', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '', cidr: null },
    { address: 'fe80::1', family: 'IPv6', internal: false, netmask: 'ffff::', mac: '', cidr: null, scopeid: 1 },
  ],
  wlan0: [{ address: '198.51.100.7', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '', cidr: null }],
}) as never;

let n = 0;
const make = (storeInit: Record<string, unknown> = {}, pol?: Policy | null) => {
  const m = memoryStore(storeInit);
  const svc = new SettingsService({
    store: m.store,
    loginName: 'CONTOSO\\jdoe',
    generateSecret: () => `generatedsecret_${String(++n).padStart(8, '0')}`,
    networkInterfaces: nics,
    logger: silentLogger,
    ...(pol !== undefined ? { policy: { ok: true, policy: pol } } : {}),
  });
  return { svc, ...m };
};

describe('SettingsService', () => {
  it('with listenPort 0 the webhook URLs show the port the listener bound, once known', () => {
    let bound: number | null = null;
    const m = memoryStore({ listenPort: 0, listenHost: '127.0.0.1', webhookSecret: 'abcdefghijklmnopqrstuvwxyz' });
    const svc = new SettingsService({ store: m.store, loginName: 'x', generateSecret: () => 'unused_secret_value_123456', networkInterfaces: nics, logger: silentLogger, boundPort: () => bound });
    expect(svc.view().webhookUrls).toEqual(['http://127.0.0.1:0/webhook/abcdefghijklmnopqrstuvwxyz']);
    bound = 43117;
    expect(svc.view().webhookUrls).toEqual(['http://127.0.0.1:43117/webhook/abcdefghijklmnopqrstuvwxyz']);
    expect(svc.view().settings.listenPort).toBe(0);
    // A fixed port is shown as configured (the bound port may still be the old one mid-rebind).
    expect(svc.update({ listenPort: 9000 }).ok).toBe(true);
    expect(svc.view().webhookUrls).toEqual(['http://127.0.0.1:9000/webhook/abcdefghijklmnopqrstuvwxyz']);
  });

  it('generates and stores a webhook secret on first run only', () => {
    const { svc, writes } = make();
    svc.ensureSecret();
    const secret = svc.settings.webhookSecret;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(writes.at(-1)).toEqual({ webhookSecret: secret });
    svc.ensureSecret();
    expect(svc.settings.webhookSecret).toBe(secret);
    expect(writes).toHaveLength(1);
  });

  it('refuses changes to locked keys with the reason and stores nothing', () => {
    const { svc, writes } = make({}, policy({ locked: { listenPort: 9000, popup: { enabled: true } }, lockReason: 'Set by ACME IT' }));
    expect(svc.settings.listenPort).toBe(9000);
    expect(svc.view().locked).toMatchObject({ listenPort: 'Set by ACME IT', 'popup.enabled': 'Set by ACME IT' });
    const r = svc.update({ listenPort: 9100, extension: '117' });
    expect(r).toEqual({ ok: false, errors: { listenPort: 'Set by ACME IT: this setting cannot be changed here.' } });
    expect(svc.update({ popup: { enabled: false } }).ok).toBe(false);
    expect(writes).toHaveLength(0);
    expect(svc.settings.extension).toBe('');
  });

  it('applies valid changes, persists only overrides, and tells listeners', () => {
    const { svc, writes } = make();
    const seen: number[] = [];
    svc.onChange((view, prev) => seen.push(prev.listenPort, view.settings.listenPort));
    const r = svc.update({ listenPort: 9200, popup: { position: 'top-left' } });
    expect(r.ok).toBe(true);
    expect(writes.at(-1)).toEqual({ listenPort: 9200, popup: { position: 'top-left' } });
    expect(svc.settings.popup).toEqual({ ...defaultSettings().popup, position: 'top-left' });
    expect(seen).toEqual([8765, 9200]);
  });

  it('rejects invalid values with field errors', () => {
    const { svc, writes } = make();
    const r = svc.update({ listenPort: 70000 });
    expect(r.ok).toBe(false);
    expect(writes).toHaveLength(0);
  });

  it('reports an invalid policy and keeps the previous one', () => {
    const { svc } = make({}, policy({ locked: { listenPort: 9000 } }));
    svc.setPolicy({ ok: false, error: 'Policy file /etc/callpop/policy.json: locked.listenPort: Ports go up to 65535.' });
    expect(svc.policyError).toContain('locked.listenPort');
    expect(svc.settings.listenPort).toBe(9000);
    svc.setPolicy({ ok: true, policy: null });
    expect(svc.policyError).toBeNull();
    expect(svc.settings.listenPort).toBe(8765);
  });

  it('maps the login name to an extension from the policy', () => {
    const { svc } = make({}, policy({ extensionByLogin: { 'jdoe@contoso.com': '117' } }));
    expect(svc.settings.extension).toBe('117');
    expect(svc.locked.extension).toContain('jdoe');
  });

  it('refuses to regenerate a locked secret', () => {
    const { svc } = make({}, policy({ locked: { webhookSecret: 'abcdefghijklmnopqrstuvwx' } }));
    expect(() => svc.regenerateSecret()).toThrow('cannot be changed here');
    svc.ensureSecret();
    expect(svc.settings.webhookSecret).toBe('abcdefghijklmnopqrstuvwx');
  });
});

describe('webhookUrls', () => {
  it('gives one URL per non-internal IPv4 when listening on all interfaces', () => {
    const s = { ...defaultSettings(), webhookSecret: 'sec' };
    expect(webhookUrls(s, nics())).toEqual(['http://192.0.2.10:8765/webhook/sec', 'http://198.51.100.7:8765/webhook/sec']);
    expect(webhookUrls({ ...s, listenHost: '10.1.2.3' }, nics())).toEqual(['http://10.1.2.3:8765/webhook/sec']);
    expect(webhookUrls(s, {})).toEqual(['http://127.0.0.1:8765/webhook/sec']);
  });

  it('shows https:// when the listener has a certificate and key (and http while only one is set)', () => {
    const s = { ...defaultSettings(), webhookSecret: 'sec', listenHost: '127.0.0.1', tlsCertFile: '/etc/callpop/cert.pem' };
    expect(webhookUrls(s, nics())).toEqual(['http://127.0.0.1:8765/webhook/sec']);
    expect(webhookUrls({ ...s, tlsKeyFile: '/etc/callpop/key.pem' }, nics())).toEqual(['https://127.0.0.1:8765/webhook/sec']);
    expect(webhookUrls({ ...s, listenHost: '0.0.0.0', tlsKeyFile: '/etc/callpop/key.pem' }, nics())).toEqual(['https://192.0.2.10:8765/webhook/sec', 'https://198.51.100.7:8765/webhook/sec']);
  });
});
