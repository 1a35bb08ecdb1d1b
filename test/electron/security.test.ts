// Link hand-off and window hardening (main/app/security.ts, window-options.ts): what is checked is
// what is opened, and every window gets the same webPreferences.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({}));
const { hardenWebContents, safeExternalUrl, secureWebPreferences } = await import('../../main/app/security');
const { mainWindowOptions, popupWindowOptions } = await import('../../main/app/window-options');

class FakeContents extends EventEmitter {
  openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' }) {
    this.openHandler = h;
  }
}

describe('external links', () => {
  it('the normalised href is returned, never the raw string', () => {
    expect(safeExternalUrl('https:\\\\evil\\x')).toBe('https://evil/x');
    expect(safeExternalUrl('HTTPS://Example.COM:443/a b?q=<x>')).toBe('https://example.com/a%20b?q=%3Cx%3E');
    expect(safeExternalUrl(' https://crm.example/x\n')).toBe('https://crm.example/x');
    expect(safeExternalUrl('https://user:pw@evil.example/')).toBeNull();
    expect(safeExternalUrl('file:///etc/passwd')).toBeNull();
    expect(safeExternalUrl('javascript:alert(1)')).toBeNull();
    expect(safeExternalUrl('not a url')).toBeNull();
  });

  it('window.open and navigation hand the browser the normalised href', () => {
    const wc = new FakeContents();
    const opened: string[] = [];
    hardenWebContents(wc as never, (u) => opened.push(u));
    expect(wc.openHandler!({ url: 'https:\\\\evil\\x' })).toEqual({ action: 'deny' });
    const e = { preventDefault: vi.fn() };
    wc.emit('will-navigate', e, 'http:/\\crm.example\\a');
    expect(e.preventDefault).toHaveBeenCalled();
    expect(opened).toEqual(['https://evil/x', 'http://crm.example/a']);
  });
});

describe('webPreferences', () => {
  it('every window disables the Auxclick Blink feature (middle-click on links)', () => {
    expect(secureWebPreferences('/p.cjs').disableBlinkFeatures).toBe('Auxclick');
    for (const o of [mainWindowOptions('/p.cjs'), popupWindowOptions('/p.cjs')]) {
      expect(o.webPreferences).toMatchObject({ disableBlinkFeatures: 'Auxclick', sandbox: true, contextIsolation: true, nodeIntegration: false });
    }
  });
});
