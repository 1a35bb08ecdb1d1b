// The update feed decides what code the app installs: https only, and set by the machine policy
// only. A user's stored URL is ignored and migrated away; Settings cannot set one.
import { describe, expect, it } from 'vitest';
import { SettingsService } from '../../main/app/settings-service';
import { silentLogger } from '../../shared/diagnostics-log';
import { applyUserPatch, parsePolicy, resolveSettings } from '../../shared/policy';
import type { Policy, SettingsOverrides } from '../../shared/policy';
import { settingsPatchSchema } from '../../shared/settings';

const policy = (json: unknown): Policy => {
  const r = parsePolicy(json);
  if (!r.ok) throw new Error(r.error);
  return r.policy;
};

describe('updates.url', () => {
  it('must be https (policy and schema)', () => {
    for (const bad of ['http://updates.example.com/callpop/', 'ftp://x/', 'https://user:pw@updates.example.com/', 'updates.example.com', 'https://']) {
      const r = parsePolicy({ locked: { updates: { url: bad } } });
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toMatch(/locked\.updates\.url: Use an https:\/\/ URL/);
      expect(settingsPatchSchema.safeParse({ updates: { url: bad } }).success).toBe(false);
    }
    expect(parsePolicy({ defaults: { updates: { url: 'https://updates.example.com/callpop/' } } }).ok).toBe(true);
  });

  it("a user's stored URL is ignored: only the policy's counts", () => {
    const user = { updates: { url: 'https://evil.example/feed/', enabled: true }, theme: 'dark' };
    expect(resolveSettings({ user, policy: null, loginName: 'a' }).settings.updates.url).toBe('');
    const p = policy({ defaults: { updates: { url: 'https://updates.example.com/callpop/' } } });
    expect(resolveSettings({ user, policy: p, loginName: 'a' }).settings.updates).toEqual({ enabled: true, url: 'https://updates.example.com/callpop/' });
  });

  it('Settings cannot change it; sending the current value back (a whole form) is accepted and ignored', () => {
    const p = policy({ defaults: { updates: { url: 'https://updates.example.com/callpop/' } } });
    const changed = applyUserPatch({ user: {}, policy: p, loginName: 'a', patch: { updates: { url: 'https://evil.example/feed/' } } });
    expect(changed).toEqual({ ok: false, errors: { 'updates.url': expect.stringMatching(/IT department/) } });
    const same = applyUserPatch({ user: {}, policy: p, loginName: 'a', patch: { updates: { url: 'https://updates.example.com/callpop/', enabled: false } } });
    expect(same.ok && same.user).toEqual({ updates: { enabled: false } });
    expect(same.ok && same.settings.updates).toEqual({ enabled: false, url: 'https://updates.example.com/callpop/' });
  });

  it('the settings service migrates a stored URL away at start and logs it', () => {
    let data: unknown = { updates: { url: 'http://old.example/feed/', enabled: false }, extension: '117' };
    const writes: SettingsOverrides[] = [];
    const lines: string[] = [];
    const svc = new SettingsService({
      store: { read: () => structuredClone(data), write: (o) => void (writes.push(o), (data = structuredClone(o))) },
      loginName: 'a',
      generateSecret: () => 'x'.repeat(22),
      networkInterfaces: () => ({}),
      logger: { ...silentLogger, info: (m) => lines.push(m) },
    });
    expect(writes).toEqual([{ updates: { enabled: false }, extension: '117' }]);
    expect(svc.settings.updates).toEqual({ enabled: false, url: '' });
    expect(lines.some((l) => l.includes('removed updates.url'))).toBe(true);
    expect(svc.update({ updates: { url: 'https://evil.example/' } })).toMatchObject({ ok: false, errors: { 'updates.url': expect.any(String) } });
  });
});
