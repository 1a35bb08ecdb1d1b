// Shortcut strings as typed in Settings or a policy: checked before main tries to register them.
import { describe, expect, it } from 'vitest';
import { acceleratorProblem } from '../../shared/accelerator';
import { applySettingsPatch, defaultSettings } from '../../shared/settings';
import { parsePolicy, resolveSettings, applyUserPatch } from '../../shared/policy';

describe('acceleratorProblem', () => {
  it.each(['CommandOrControl+Alt+P', 'Ctrl+Shift+F9', 'F8', 'Super+Space', 'Alt+Plus', 'CmdOrCtrl+Alt+num5', ''])('accepts %j', (a) => {
    expect(acceleratorProblem(a)).toBeNull();
  });
  it.each([
    ['P', /needs a modifier/],
    ['Ctrl+', /Write a shortcut like/],
    ['Ctrl+Alt', /ends with a key/],
    ['Ctrl+Hyper+P', /"hyper" is not a modifier/],
    ['Ctrl+Ctrl+P', /appears twice/],
    ['Ctrl+Banana', /not a key/],
  ])('refuses %j', (a, msg) => {
    expect(acceleratorProblem(a)).toMatch(msg);
  });
});

describe('popup settings: shortcut and display', () => {
  it('defaults: CommandOrControl+Alt+P on the primary display', () => {
    expect(defaultSettings().popup).toMatchObject({ shortcut: 'CommandOrControl+Alt+P', display: 'primary' });
  });
  it('a bad shortcut is refused with a field error and changes nothing', () => {
    const r = applySettingsPatch(defaultSettings(), { popup: { shortcut: 'Q' } });
    expect(r).toEqual({ ok: false, errors: { 'popup.shortcut': expect.stringMatching(/modifier/) } });
    expect(applySettingsPatch(defaultSettings(), { popup: { shortcut: 'Alt+Shift+K', display: 'pointer' } })).toMatchObject({ ok: true, settings: { popup: { shortcut: 'Alt+Shift+K', display: 'pointer' } } });
  });
  it('a policy can lock the shortcut', () => {
    const p = parsePolicy({ locked: { popup: { shortcut: 'Ctrl+Alt+F12' } } });
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    const resolved = resolveSettings({ user: { popup: { shortcut: 'Alt+K' } }, policy: p.policy, loginName: 'agent' });
    expect(resolved.settings.popup.shortcut).toBe('Ctrl+Alt+F12');
    expect(resolved.locked['popup.shortcut']).toBeDefined();
    expect(applyUserPatch({ user: {}, policy: p.policy, loginName: 'agent', patch: { popup: { shortcut: 'Alt+K' } } })).toMatchObject({ ok: false, errors: { 'popup.shortcut': expect.any(String) } });
  });
});
