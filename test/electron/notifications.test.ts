// Linux notification bodies are markup to the notification server: caller ids and contact names
// (untrusted) must reach Electron's Notification escaped there, and unchanged elsewhere.
import { describe, expect, it, vi } from 'vitest';

const shown = vi.hoisted(() => [] as { title: string; body: string }[]);
vi.mock('electron', () => ({
  Notification: class {
    constructor(readonly options: { title: string; body: string }) {}
    on() {}
    show() {
      shown.push(this.options);
    }
    static isSupported() {
      return true;
    }
  },
}));

const { Notification } = await import('electron');
const { CallNotifier, escapeNotificationMarkup } = await import('../../main/app/notifications');
const { defaultSettings } = await import('../../shared/settings');
import type { CallView } from '../../shared/ipc/contract';

const hostile = { id: 'c1', direction: 'incoming', result: 'missed', number: '<a href="https://evil.example">call me</a>', queue: '<b>820</b>', did: null, contactName: '<img src="https://evil.example/t.png"> Ann & Co' } as CallView;

function notify(platform: NodeJS.Platform): { title: string; body: string } {
  shown.length = 0;
  const notifier = new CallNotifier({
    isSupported: () => Notification.isSupported(),
    create: (o) => new Notification(o),
    settings: () => ({ ...defaultSettings(), notifications: { ringing: true, missed: true } }),
    openCall: () => {},
    platform,
  });
  notifier.onCallUpdate('missed', hostile);
  expect(shown).toHaveLength(1);
  return shown[0]!;
}

describe('notification markup', () => {
  it('on Linux the body reaches libnotify with & < > escaped: no link, bold or image is rendered', () => {
    const { body } = notify('linux');
    expect(body).toBe('&lt;img src="https://evil.example/t.png"&gt; Ann &amp; Co (&lt;a href="https://evil.example"&gt;call me&lt;/a&gt;) via queue &lt;b&gt;820&lt;/b&gt;');
    expect(body).not.toMatch(/[<>]/);
  });

  it('on Windows and macOS (plain text backends) the body is unchanged', () => {
    for (const p of ['win32', 'darwin'] as const) {
      expect(notify(p).body).toBe('<img src="https://evil.example/t.png"> Ann & Co (<a href="https://evil.example">call me</a>) via queue <b>820</b>');
    }
  });

  it('an own unanswered outgoing call is not a missed call: no notification', () => {
    shown.length = 0;
    const notifier = new CallNotifier({
      isSupported: () => true,
      create: (o) => new Notification(o),
      settings: () => ({ ...defaultSettings(), notifications: { ringing: true, missed: true } }),
      openCall: () => {},
      platform: 'linux',
    });
    notifier.onCallUpdate('missed', { ...hostile, direction: 'outgoing' });
    expect(shown).toHaveLength(0);
    notifier.onCallUpdate('missed', hostile);
    expect(shown).toHaveLength(1);
  });

  it('escapes an ampersand first, so existing entities show literally', () => {
    expect(escapeNotificationMarkup('&lt;b&gt; & <i>')).toBe('&amp;lt;b&amp;gt; &amp; &lt;i&gt;');
  });
});

describe('notification title (issue #20 item 9: one name)', () => {
  it('a ring with no end seen is named as on the card and in the log; a missed call the PBX ended is "Missed call"', () => {
    const titles: string[] = [];
    const notifier = new CallNotifier({
      isSupported: () => true,
      create: (o) => {
        titles.push(o.title);
        return new Notification(o);
      },
      settings: () => ({ ...defaultSettings(), notifications: { ringing: false, missed: true } }),
      openCall: () => {},
      platform: 'linux',
    });
    notifier.onCallUpdate('missed', { id: 'r1', direction: 'incoming', result: 'missed', status: 'ended', number: '05551239988', queue: null, did: null, endedBy: 'ring-timeout' } as CallView);
    notifier.onCallUpdate('missed', { id: 'r2', direction: 'incoming', result: 'missed', status: 'ended', number: '05551239988', queue: null, did: null } as CallView);
    expect(titles).toEqual(['Missed (rang out, no end seen)', 'Missed call']);
  });
});
