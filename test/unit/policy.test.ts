import { describe, expect, it } from 'vitest';
import { applyUserPatch, normalizeLogin, parsePolicy, resolveSettings, DEFAULT_LOCK_REASON } from '../../shared/policy';
import type { Policy } from '../../shared/policy';
import { defaultSettings } from '../../shared/settings';

function policy(json: unknown): Policy {
  const r = parsePolicy(json);
  if (!r.ok) throw new Error(r.error);
  return r.policy;
}

describe('resolveSettings precedence', () => {
  const p = policy({
    defaults: { listenPort: 9000, pbxHost: 'pbx.example.com', popup: { autoCloseSec: 20 }, theme: 'dark' },
    locked: { listenPort: 9100, popup: { enabled: true }, updates: { url: 'https://updates.example.com/callpop/' } },
  });

  it('locked policy > user > policy defaults > built-in defaults', () => {
    const user = { listenPort: 7000, pbxHost: 'mine.example.com', popup: { enabled: false, position: 'top-left' } };
    const { settings, locked } = resolveSettings({ user, policy: p, loginName: 'jdoe' });
    expect(settings.listenPort).toBe(9100); // locked beats the user's 7000 and the policy default 9000
    expect(settings.pbxHost).toBe('mine.example.com'); // user beats the policy default
    expect(settings.theme).toBe('dark'); // policy default beats built-in 'system'
    expect(settings.popup).toEqual({ ...defaultSettings().popup, enabled: true, externalOnly: false, autoCloseSec: 20, position: 'top-left' });
    expect(settings.updates).toEqual({ enabled: true, url: 'https://updates.example.com/callpop/' });
    expect(settings.defaultCountry).toBe(defaultSettings().defaultCountry); // built-in
    expect(locked).toEqual({ listenPort: DEFAULT_LOCK_REASON, 'popup.enabled': DEFAULT_LOCK_REASON, 'updates.url': DEFAULT_LOCK_REASON });
  });

  it('without a policy the user overrides built-in defaults and nothing is locked', () => {
    const { settings, locked } = resolveSettings({ user: { theme: 'light' }, policy: null, loginName: 'jdoe' });
    expect(settings).toEqual({ ...defaultSettings(), theme: 'light' });
    expect(locked).toEqual({});
  });

  it('drops invalid user fields one by one and names them', () => {
    const r = resolveSettings({ user: { listenPort: 70000, theme: 'light', popup: { autoCloseSec: -1, position: 'top-right' }, bogus: 1 }, policy: p, loginName: 'x' });
    expect(r.settings.theme).toBe('light');
    expect(r.settings.popup.position).toBe('top-right');
    expect(r.settings.popup.autoCloseSec).toBe(20);
    expect(r.invalidUserKeys.sort()).toEqual(['bogus', 'listenPort', 'popup.autoCloseSec']);
  });

  it('uses the policy lockReason when given', () => {
    const { locked } = resolveSettings({ user: {}, policy: policy({ lockReason: 'Contoso IT, ext. 4400', locked: { startAtLogin: true } }), loginName: 'a' });
    expect(locked).toEqual({ startAtLogin: 'Contoso IT, ext. 4400' });
  });
});

describe('extension mapping', () => {
  const p = policy({ extensionByLogin: { jdoe: '117', 'CONTOSO\\ASmith': '204', 'bwayne@contoso.com': '305' } });

  it.each([
    ['jdoe', '117'],
    ['JDOE', '117'],
    ['CONTOSO\\jdoe', '117'],
    ['jdoe@contoso.local', '117'],
    ['asmith', '204'],
    ['OTHERDOMAIN\\ASMITH', '204'],
    ['BWayne', '305'],
  ])('%s → %s, locked', (login, ext) => {
    const r = resolveSettings({ user: { extension: '999' }, policy: p, loginName: login });
    expect(r.settings.extension).toBe(ext);
    expect(r.locked.extension).toMatch(/IT department/);
  });

  it('an unmapped login keeps the user extension, unlocked', () => {
    const r = resolveSettings({ user: { extension: '999' }, policy: p, loginName: 'someone' });
    expect(r.settings.extension).toBe('999');
    expect(r.locked.extension).toBeUndefined();
  });

  it('normalizeLogin handles both Windows forms', () => {
    expect(normalizeLogin(' CONTOSO\\JDoe ')).toBe('jdoe');
    expect(normalizeLogin('JDoe@contoso.com')).toBe('jdoe');
  });

  it('rejects two spellings of one login with different extensions', () => {
    const r = parsePolicy({ extensionByLogin: { jdoe: '117', 'CONTOSO\\JDOE': '118' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/extensionByLogin\.CONTOSO\\JDOE: Same user as "jdoe"/);
  });

  it('rejects a non-numeric extension and names the login', () => {
    const r = parsePolicy({ extensionByLogin: { jdoe: 'abc' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toBe('extensionByLogin.jdoe: An extension is 1 to 10 digits, e.g. 117.');
  });
});

describe('parsePolicy validation', () => {
  it('accepts every documented key', () => {
    const r = parsePolicy({
      defaults: { theme: 'light', defaultCountry: 'gb', retentionDays: 90, autoDownloadRecordings: true, downloadDir: 'D:\\Calls', debugLogging: false, notifications: { ringing: true } },
      locked: {
        listenPort: 8765, listenHost: '0.0.0.0', webhookSecret: 'abcdefghijklmnopqrstuv', allowedSources: ['192.0.2.10', '198.51.100.0/24'],
        pbxHost: 'pbx.example.com:5001', recordingFingerprint: 'AB'.repeat(32), crmUrlTemplate: 'https://crm.example.com/search?q={e164}',
        clickToCallTemplate: 'tel:{number}', popup: { enabled: true, externalOnly: true, autoCloseSec: 10, position: 'top-right' },
        startAtLogin: true, updates: { enabled: false, url: '' }, extension: '100',
      },
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.policy.defaults.defaultCountry).toBe('GB');
  });

  it('names the field of a bad value', () => {
    const r = parsePolicy({ locked: { listenPort: 70000 } });
    expect(r).toEqual({ ok: false, error: 'locked.listenPort: Ports go up to 65535.' });
    const r2 = parsePolicy({ defaults: { popup: { position: 'middle' } } });
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.error).toMatch(/^defaults\.popup\.position: /);
  });

  it('refuses unknown keys at every level, with a suggestion for typos', () => {
    expect(parsePolicy({ locked: { listenPrt: 1 } })).toEqual({ ok: false, error: 'locked.listenPrt: not a policy key (did you mean listenPort?)' });
    expect(parsePolicy({ lockd: {} })).toEqual({ ok: false, error: 'lockd: not a policy key (did you mean locked?)' });
    expect(parsePolicy({ defaults: { popup: { enable: false } } })).toEqual({ ok: false, error: 'defaults.popup.enable: not a policy key (did you mean enabled?)' });
    // ringTimeoutSec is a real setting but not a policy key
    expect(parsePolicy({ defaults: { ringTimeoutSec: 60 } }).ok).toBe(false);
  });

  it('refuses a non-object', () => {
    expect(parsePolicy([]).ok).toBe(false);
    expect(parsePolicy('x').ok).toBe(false);
  });
});

describe('applyUserPatch', () => {
  const p = policy({ defaults: { pbxHost: 'pbx.example.com' }, locked: { listenPort: 9100, popup: { enabled: true } }, extensionByLogin: { jdoe: '117' } });

  it('refuses changes to locked keys, one error per field, and changes nothing', () => {
    const r = applyUserPatch({ user: {}, policy: p, loginName: 'jdoe', patch: { listenPort: 8000, popup: { enabled: false, autoCloseSec: 5 }, extension: '555' } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(Object.keys(r.errors).sort()).toEqual(['extension', 'listenPort', 'popup.enabled']);
      expect(r.errors.listenPort).toBe('Set by your IT department: this setting cannot be changed here.');
    }
  });

  it('accepts a whole form that repeats locked values unchanged, storing only the user fields', () => {
    const r = applyUserPatch({ user: { theme: 'dark' }, policy: p, loginName: 'jdoe', patch: { listenPort: 9100, popup: { enabled: true, autoCloseSec: 5 }, extension: '117' } });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.user).toEqual({ theme: 'dark', popup: { autoCloseSec: 5 } });
      expect(r.settings.popup.autoCloseSec).toBe(5);
      expect(r.settings.theme).toBe('dark');
      expect(r.settings.pbxHost).toBe('pbx.example.com');
    }
  });

  it('keeps the other nested fields when patching one', () => {
    const r = applyUserPatch({ user: { popup: { position: 'top-left' } }, policy: null, loginName: 'x', patch: { popup: { autoCloseSec: 30 } } });
    expect(r.ok && r.user).toEqual({ popup: { position: 'top-left', autoCloseSec: 30 } });
  });

  it('returns field errors for invalid values', () => {
    const r = applyUserPatch({ user: {}, policy: null, loginName: 'x', patch: { popup: { autoCloseSec: -3 }, nope: 1 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors)).toContain('popup.autoCloseSec');
  });
});
