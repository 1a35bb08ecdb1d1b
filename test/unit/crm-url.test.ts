import { describe, expect, it } from 'vitest';
import { buildCallBackUrl, buildCrmUrl, dialable } from '../../shared/crm-url';

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
    // "evil.com%2F" is not a valid host: refused rather than silently retargeted
    expect(host).toEqual({ ok: false, error: 'The URL template does not give a valid URL.' });
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
