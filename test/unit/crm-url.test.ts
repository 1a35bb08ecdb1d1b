import { describe, expect, it } from 'vitest';
import { buildCallBackUrl, buildCrmUrl, dialable, urlTemplateProblem } from '../../shared/crm-url';
import { settingsPatchSchema, zodFieldErrors } from '../../shared/settings';

const values = { number: '0555 123 99 88', e164: '+905551239988', extension: '117', callId: '230307142318_40' };

describe('buildCrmUrl', () => {
  it('URL-encodes every placeholder', () => {
    const r = buildCrmUrl('https://crm.example.com/find?q={number}&e={e164}&ext={extension}&id={callId}', values);
    expect(r).toEqual({ ok: true, url: 'https://crm.example.com/find?q=0555%20123%2099%2088&e=%2B905551239988&ext=117&id=230307142318_40' });
    const u = new URL((r as { url: string }).url);
    expect(u.searchParams.get('e')).toBe('+905551239988');
  });

  it('keeps hostile caller data inside its parameter', () => {
    const r = buildCrmUrl('https://crm.example.com/c/{number}?x=1', { ...values, number: '../admin?evil=1&x=#frag' });
    expect(r.ok).toBe(true);
    const u = new URL((r as { url: string }).url);
    expect(u.pathname).toBe('/c/..%2Fadmin%3Fevil%3D1%26x%3D%23frag');
    expect(u.search).toBe('?x=1');
    expect(u.hash).toBe('');
  });

  it('cannot turn into another scheme or host through a placeholder', () => {
    const r = buildCrmUrl('{number}', { ...values, number: 'javascript:alert(1)' });
    expect(r.ok).toBe(false);
    const host = buildCrmUrl('https://{number}/x', { ...values, number: 'evil.com/' });
    // A placeholder in the host is refused whatever the caller id holds
    expect(host).toEqual({ ok: false, error: expect.stringContaining('not in the host') });
  });

  it('refuses a placeholder in the host or user info, at build time and in Settings validation', () => {
    const hosts = ['https://{number}.example/', 'https://crm.{e164}.example/x', 'http://crm.example{callId}/', 'https://{extension}@crm.example/', 'https://u:{number}@crm.example/', 'https://crm.example.com@{number}/'];
    for (const t of hosts) {
      // A caller id that is a valid host label would otherwise pick the server.
      expect(buildCrmUrl(t, { ...values, number: 'evil', e164: 'evil', extension: 'evil', callId: 'evil' })).toMatchObject({ ok: false });
      expect(buildCallBackUrl(t, values)).toMatchObject({ ok: false });
      expect(urlTemplateProblem(t)).toMatch(/not in the host/);
      const parsed = settingsPatchSchema.safeParse({ crmUrlTemplate: t, clickToCallTemplate: t });
      expect(parsed.success).toBe(false);
      expect(parsed.error && zodFieldErrors(parsed.error)).toEqual({ crmUrlTemplate: expect.stringMatching(/not in the host/), clickToCallTemplate: expect.stringMatching(/not in the host/) });
    }
    expect(urlTemplateProblem('https://crm.example:{number}/')).toBe('The template does not give a valid URL.');
    for (const ok of ['https://crm.example.com/search?q={number}&id={callId}', 'https://crm.example.com/{e164}#{extension}', 'tel:{number}', 'sip:{number}@pbx.example', '']) {
      expect(urlTemplateProblem(ok)).toBeNull();
      expect(settingsPatchSchema.safeParse({ crmUrlTemplate: ok.startsWith('http') || ok === '' ? ok : '', clickToCallTemplate: ok }).success).toBe(true);
    }
  });

  it('refuses non-http(s) templates and empty templates', () => {
    expect(buildCrmUrl('file:///etc/passwd?{number}', values)).toEqual({ ok: false, error: 'Only http, https URLs are allowed.' });
    expect(buildCrmUrl('tel:{number}', values).ok).toBe(false);
    expect(buildCrmUrl('', values).ok).toBe(false);
    expect(buildCrmUrl('not a url {number}', values).ok).toBe(false);
  });
});

describe('buildCallBackUrl', () => {
  it('defaults to tel: with a dialable number', () => {
    expect(buildCallBackUrl('', { ...values, number: '+90 (555) 123-99-88' })).toEqual({ ok: true, url: 'tel:+905551239988' });
    expect(buildCallBackUrl('', { ...values, number: '*72#' })).toEqual({ ok: true, url: 'tel:*72%23' });
  });

  it('encodes values into an http click-to-call template', () => {
    const r = buildCallBackUrl('https://pbx.example.com/webapi/makecall?first={extension}&second={number}', { ...values, number: '+90 555&x=1' });
    expect(r.ok).toBe(true);
    expect(new URL((r as { url: string }).url).searchParams.get('second')).toBe('+90 555&x=1');
  });

  it('allows sip and callto, refuses other schemes and undialable numbers', () => {
    expect(buildCallBackUrl('sip:{number}@pbx.example.com', values)).toEqual({ ok: true, url: 'sip:05551239988@pbx.example.com' });
    expect(buildCallBackUrl('callto:{number}', values).ok).toBe(true);
    expect(buildCallBackUrl('javascript:{number}', values).ok).toBe(false);
    expect(buildCallBackUrl('', { ...values, number: 'Anonymous' })).toEqual({ ok: false, error: 'This number cannot be dialed.' });
  });

  it('dialable keeps digits, a leading + and * #', () => {
    expect(dialable(' +1 (800) 555-0100 ext ')).toBe('+18005550100');
    expect(dialable('12+34')).toBe('1234');
  });
});
