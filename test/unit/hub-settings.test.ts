// Settings and policy of the hub mode (issue 9): the hub address, agent name and pin are validated like
// every setting; a policy presets and locks them, and names each login's agent like its extension.
import { describe, expect, it } from 'vitest';
import { applyUserPatch, parsePolicy, resolveSettings } from '../../shared/policy';
import { applySettingsPatch, defaultSettings, splitHubUrls } from '../../shared/settings';
import { hubStatusText } from '../../shared/hub-status';

describe('hub settings', () => {
  it('default to this PC receiving the webhooks, no hub', () => {
    expect(defaultSettings()).toMatchObject({ source: 'listener', hubUrl: '', hubAgent: '', hubFingerprint: '' });
  });

  it('take mqtt(s):// and ws(s):// addresses and refuse anything else with a clear message', () => {
    for (const url of ['mqtt://hub.example.com', 'mqtts://hub.example.com:8883', 'ws://10.0.0.5:8080/mqtt', 'wss://[2001:db8::1]:443/mqtt']) {
      expect(applySettingsPatch(defaultSettings(), { hubUrl: url })).toMatchObject({ ok: true });
    }
    const err = (hubUrl: string) => {
      const r = applySettingsPatch(defaultSettings(), { hubUrl });
      return r.ok ? null : r.errors.hubUrl;
    };
    expect(err('https://hub.example.com')).toBe('The hub address starts with mqtt://, mqtts://, ws:// or wss://.');
    expect(err('mqtt://anna:secret@hub.example.com')).toBe('Put no user name or password in the address: set them in the fields below.');
    expect(err('hub.example.com')).toMatch(/^Enter the hub address/);
    expect(err('mqtt://hub.example.com/?x=1')).toBe('The hub address takes no ?query or #fragment.');
  });

  it('take the nodes of a broker cluster as a comma list, each checked', () => {
    expect(applySettingsPatch(defaultSettings(), { hubUrl: 'mqtts://n1.example.com:8883, mqtts://n2.example.com:8883,mqtts://n3.example.com:8883' })).toMatchObject({ ok: true });
    expect(splitHubUrls(' mqtt://a:1883 ,, mqtt://b:1883 ')).toEqual(['mqtt://a:1883', 'mqtt://b:1883']);
    expect(splitHubUrls(['mqtt://a:1883,mqtt://b:1883', 'mqtt://c:1883'])).toEqual(['mqtt://a:1883', 'mqtt://b:1883', 'mqtt://c:1883']);
    const r = applySettingsPatch(defaultSettings(), { hubUrl: 'mqtts://n1.example.com:8883,https://n2.example.com' });
    expect(r).toMatchObject({ ok: false, errors: { hubUrl: 'https://n2.example.com: The hub address starts with mqtt://, mqtts://, ws:// or wss://.' } });
    expect(applySettingsPatch(defaultSettings(), { hubUrl: Array.from({ length: 17 }, (_, i) => `mqtt://n${i}:1883`).join(',') })).toMatchObject({ ok: false, errors: { hubUrl: expect.stringMatching(/at most 16/) } });
    // A policy can preset the list like one address.
    const p = parsePolicy({ locked: { source: 'hub', hubUrl: 'mqtt://n1:1883,mqtt://n2:1883' } });
    expect(p.ok).toBe(true);
  });

  it('say a hub whose heartbeat stopped is offline, in other words than its will', () => {
    expect(hubStatusText({ state: 'hub-offline', url: 'mqtt://a', since: '2026-12-07T10:40:00', silent: true })).toBe('Hub offline: not heard from since 10:40');
    expect(hubStatusText({ state: 'hub-offline', url: 'mqtt://a', since: '2026-12-07T10:40:00' })).toBe('Hub offline since 10:40');
  });

  it('check the agent name and the fingerprint', () => {
    expect(applySettingsPatch(defaultSettings(), { hubAgent: 'anna.k@site' })).toMatchObject({ ok: true });
    expect(applySettingsPatch(defaultSettings(), { hubAgent: 'anna k' })).toMatchObject({ ok: false, errors: { hubAgent: expect.stringMatching(/agent name/) } });
    expect(applySettingsPatch(defaultSettings(), { hubFingerprint: 'AB:'.repeat(31) + 'AB' })).toMatchObject({ ok: true });
    expect(applySettingsPatch(defaultSettings(), { hubFingerprint: 'ABCD' })).toMatchObject({ ok: false, errors: { hubFingerprint: expect.stringMatching(/64 hex/) } });
    expect(applySettingsPatch(defaultSettings(), { source: 'cloud' })).toMatchObject({ ok: false });
  });
});

describe('hub policy', () => {
  const policy = (json: unknown) => {
    const r = parsePolicy(json);
    if (!r.ok) throw new Error(r.error);
    return r.policy;
  };

  it('presets and locks source, hub address and pin, and gives each login its agent name (locked)', () => {
    const p = policy({
      locked: { source: 'hub', hubUrl: 'mqtts://hub.contoso.com:8883', hubFingerprint: 'ab'.repeat(32) },
      extensionByLogin: { 'CONTOSO\\AKaya': '117' },
      hubAgentByLogin: { 'akaya@contoso.com': 'anna' },
    });
    const r = resolveSettings({ user: { source: 'listener', hubAgent: 'someone' }, policy: p, loginName: 'CONTOSO\\akaya' });
    expect(r.settings).toMatchObject({ source: 'hub', hubUrl: 'mqtts://hub.contoso.com:8883', hubAgent: 'anna', extension: '117' });
    expect(Object.keys(r.locked).sort()).toEqual(['extension', 'hubAgent', 'hubFingerprint', 'hubUrl', 'source']);
    const change = applyUserPatch({ user: {}, policy: p, loginName: 'akaya', patch: { hubAgent: 'ben' } });
    expect(change).toMatchObject({ ok: false, errors: { hubAgent: expect.stringMatching(/cannot be changed here/) } });
    // Another login has no mapped agent: the field is the user's.
    expect(resolveSettings({ user: { hubAgent: 'ben' }, policy: p, loginName: 'bkoc' }).settings.hubAgent).toBe('ben');
  });

  it('refuses a bad agent name or one login mapped to two agents', () => {
    expect(parsePolicy({ hubAgentByLogin: { jdoe: 'j doe' } })).toMatchObject({ ok: false, error: expect.stringMatching(/^hubAgentByLogin\.jdoe: An agent name/) });
    expect(parsePolicy({ hubAgentByLogin: { jdoe: 'a', 'CONTOSO\\JDOE': 'b' } })).toMatchObject({ ok: false, error: expect.stringMatching(/Same user as "jdoe" but a different agent/) });
    expect(parsePolicy({ locked: { hubUrl: 'http://x' } })).toMatchObject({ ok: false });
  });
});
