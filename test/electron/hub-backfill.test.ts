// What main does with the changes a hub (re)connect caught up on (push:callUpdate with backfill: true):
// missed calls make ONE "N missed calls while you were away" notification, not one each; a backfilled call
// that is no longer ringing never opens a popup card; a fresh ring caught in the backfill still pops.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AWAY_SUMMARY_DELAY_MS, CallNotifier } from '../../main/app/notifications';
import { PopupController } from '../../main/app/popup-controller';
import type { CallView, NavigateTarget } from '../../shared/ipc/contract';
import { defaultSettings, type Settings } from '../../shared/settings';
import { ringingRecord } from '../support/call-records';

const ringing = (id: string, number = '+905551239988'): CallView => ({ ...ringingRecord({ id, number, startedAt: '2026-12-01T10:00:00.000Z' }), contactName: null });
const missed = (id: string, number?: string): CallView => ({ ...ringing(id, number), status: 'ended', result: 'missed', endedAt: '2026-12-01T10:01:00.000Z' }) as CallView;
const talking = (id: string): CallView => ({ ...ringing(id), status: 'talking', result: 'answered', answeredAt: '2026-12-01T10:00:05.000Z' }) as CallView;

function notifier(settings: Partial<Settings['notifications']> = {}) {
  const shown: { title: string; body: string }[] = [];
  const opened: NavigateTarget[] = [];
  const n = new CallNotifier({
    isSupported: () => true,
    create: (o) => {
      const clicks: (() => void)[] = [];
      const entry = { title: o.title, body: o.body, click: () => clicks.forEach((f) => f()) };
      return {
        on: (e: string, f: () => void) => void (e === 'click' && clicks.push(f)),
        show: () => void shown.push(entry),
      };
    },
    settings: () => ({ ...defaultSettings(), notifications: { ringing: false, missed: true, ...settings } }),
    openCall: (t) => void opened.push(t),
    platform: 'win32',
  });
  return { n, shown: shown as ({ title: string; body: string; click: () => void } & object)[], opened };
}

describe('backfilled missed calls', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('make one summary notification, the live ones one each', () => {
    const { n, shown, opened } = notifier();
    n.onCallUpdate('missed', missed('a', '+905551110001'), true);
    n.onCallUpdate('missed', missed('b', '+905551110002'), true);
    n.onCallUpdate('missed', missed('b', '+905551110002'), true); // the same call again (a repeated sync chunk)
    n.onCallUpdate('missed', missed('c', '+905551110003'), true);
    expect(shown).toEqual([]);
    vi.advanceTimersByTime(AWAY_SUMMARY_DELAY_MS);
    expect(shown.map((s) => s.title)).toEqual(['3 missed calls while you were away']);
    expect(shown[0]!.body).toContain('+90 555 111 00 01');
    shown[0]!.click();
    expect(opened).toEqual([{ view: 'log' }]);

    n.onCallUpdate('missed', missed('d'), false);
    expect(shown.map((s) => s.title)).toEqual(['3 missed calls while you were away', 'Missed call']);
  });

  it('one backfilled missed call names its caller and opens it; an own unanswered outgoing call is not counted', () => {
    const { n, shown, opened } = notifier();
    n.onCallUpdate('missed', { ...missed('out'), direction: 'outgoing' } as CallView, true);
    n.onCallUpdate('missed', missed('a'), true);
    vi.advanceTimersByTime(AWAY_SUMMARY_DELAY_MS);
    expect(shown.map((s) => s.title)).toEqual(['Missed call while you were away']);
    shown[0]!.click();
    expect(opened).toEqual([{ view: 'log', callId: 'a' }]);
  });

  it('say nothing when missed-call notifications are off', () => {
    const { n, shown } = notifier({ missed: false });
    n.onCallUpdate('missed', missed('a'), true);
    vi.advanceTimersByTime(AWAY_SUMMARY_DELAY_MS);
    expect(shown).toEqual([]);
  });
});

describe('backfilled changes and the popup', () => {
  function setup() {
    const win = { shown: 0, sent: [] as string[], show() { this.shown++; }, hide() {}, send(u: { change: string; record: CallView }) { this.sent.push(`${u.change}:${u.record.id}`); } };
    return { pc: new PopupController({ settings: () => defaultSettings(), window: win }), win };
  }

  it('a call answered or transferred while the PC was away opens no card; a fresh ring caught up still pops', () => {
    const { pc, win } = setup();
    pc.onCallUpdate({ change: 'answered', record: talking('t1'), backfill: true });
    pc.onCallUpdate({ change: 'transferred', record: talking('t2'), backfill: true });
    pc.onCallUpdate({ change: 'missed', record: missed('m1'), backfill: true });
    expect(win.sent).toEqual([]);
    expect(win.shown).toBe(0);
    pc.onCallUpdate({ change: 'ringing', record: ringing('r1'), backfill: true });
    expect(win.sent).toEqual(['ringing:r1']);
    // Live, the same "answered" for a call this extension never saw ringing (a transfer to it) does open one.
    pc.onCallUpdate({ change: 'answered', record: talking('t3') });
    expect(win.sent).toEqual(['ringing:r1', 'answered:t3']);
  });
});
