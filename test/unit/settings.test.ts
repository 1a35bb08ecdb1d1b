import { describe, expect, it } from 'vitest';
import { applySettingsPatch, defaultSettings, settingsPatchSchema, webhookUrl } from '../../shared/settings';

describe('settings patches', () => {
  const current = { ...defaultSettings(), extension: '117', webhookSecret: 'abcdefghijklmnopqrstuvwx', popup: { ...defaultSettings().popup, autoCloseSec: 30 } };

  it('a patch carries only what it names (absent keys are not filled with defaults)', () => {
    expect(settingsPatchSchema.parse({ theme: 'dark' })).toEqual({ theme: 'dark' });
    expect(settingsPatchSchema.parse({ popup: { enabled: false } })).toEqual({ popup: { enabled: false } });
  });

  it('applying a patch keeps every other value, nested ones included', () => {
    const r = applySettingsPatch(current, { popup: { enabled: false } });
    expect(r).toMatchObject({ ok: true, settings: { extension: '117', webhookSecret: current.webhookSecret, popup: { enabled: false, autoCloseSec: 30 } } });
  });

  it('an invalid patch changes nothing and names each bad field', () => {
    const r = applySettingsPatch(current, { listenPort: 70000, extension: '12a', popup: { autoCloseSec: -1 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(['extension', 'listenPort', 'popup.autoCloseSec']);
  });

  it('unknown keys are refused', () => {
    expect(applySettingsPatch(current, { listenPrt: 1 }).ok).toBe(false);
  });

  it('webhook URL brackets IPv6 hosts', () => {
    expect(webhookUrl('192.0.2.5', 8765, 's')).toBe('http://192.0.2.5:8765/webhook/s');
    expect(webhookUrl('fe80::1', 8765, 's')).toBe('http://[fe80::1]:8765/webhook/s');
  });
});
