import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PopupController } from '../../main/app/popup-controller';
import { isInternalNumber, popupBounds } from '../../main/app/window-options';
import type { CallView } from '../../shared/ipc/contract';
import { defaultSettings } from '../../shared/settings';
import type { Settings } from '../../shared/settings';

const ringing = (id: string, number = '+905551239988'): CallView => ({
  id, direction: 'incoming', number, extension: '117', queue: '820', did: null, startedAt: '2026-11-24T10:00:00.000Z',
  durationSec: null, transferType: null, transferredTo: null, transferredFrom: null, answeredBy: null, recordings: [], seen: false,
  status: 'ringing', result: null, answeredAt: null, endedAt: null, contactName: null,
});
const ended = (r: CallView, result: 'missed' | 'answered-elsewhere' = 'missed'): CallView =>
  ({ ...r, status: 'ended', result, answeredAt: null, endedAt: '2026-11-24T10:01:00.000Z' }) as CallView;

function setup(over: Partial<Settings['popup']> = {}) {
  let settings: Settings = { ...defaultSettings(), popup: { ...defaultSettings().popup, ...over } };
  const win = { shown: 0, hidden: 0, sent: [] as string[], show() { this.shown++; }, hide() { this.hidden++; }, send(u: { change: string; record: CallView }) { this.sent.push(`${u.change}:${u.record.id}`); } };
  const pc = new PopupController({ settings: () => settings, window: win });
  return { pc, win, set: (s: Partial<Settings['popup']>) => (settings = { ...settings, popup: { ...settings.popup, ...s } }) };
}

describe('PopupController', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('pops a ringing call and follows it; an ended card is never closed by main itself, only by a dismissal (the page decides the delay)', () => {
    const { pc, win } = setup({ autoCloseSec: 8, autoCloseMissed: true });
    const r = ringing('c1');
    pc.onCallUpdate({ change: 'ringing', record: r });
    expect(win.shown).toBe(1);
    pc.onCallUpdate({ change: 'missed', record: ended(r) });
    pc.onCallUpdate({ change: 'ringing', record: ringing('c2') });
    pc.onCallUpdate({ change: 'ended', record: ended(ringing('c2'), 'answered-elsewhere') });
    expect(win.sent).toEqual(['ringing:c1', 'missed:c1', 'ringing:c2', 'ended:c2']);
    // The agent may be typing a note on it: only the page knows, so main keeps it.
    vi.advanceTimersByTime(3_600_000);
    expect(pc.openCards).toEqual(['c1', 'c2']);
    expect(win.hidden).toBe(0);
    pc.dismiss('c1');
    pc.dismiss('c2');
    expect(win.hidden).toBe(1);
    expect(pc.openCards).toEqual([]);
  });

  it('stacks cards and hides only when the last one goes', () => {
    const { pc, win } = setup();
    pc.onCallUpdate({ change: 'ringing', record: ringing('a') });
    pc.onCallUpdate({ change: 'ringing', record: ringing('b') });
    pc.dismiss('a');
    expect(win.hidden).toBe(0);
    pc.dismiss('b');
    expect(win.hidden).toBe(1);
  });

  it('does not pop while paused, when disabled, for outgoing calls, or for updates of unknown calls', () => {
    const { pc, win, set } = setup();
    pc.setPaused(true);
    pc.onCallUpdate({ change: 'ringing', record: ringing('a') });
    pc.setPaused(false);
    set({ enabled: false });
    pc.onCallUpdate({ change: 'ringing', record: ringing('b') });
    set({ enabled: true });
    pc.onCallUpdate({ change: 'dialing', record: { ...ringing('c'), direction: 'outgoing' } });
    pc.onCallUpdate({ change: 'updated', record: ringing('d') });
    pc.onCallUpdate({ change: 'missed', record: ended(ringing('e')) });
    expect(win.shown).toBe(0);
    expect(win.sent).toEqual([]);
  });

  it('opens a card for a call transferred to this extension without a ringing event', () => {
    const { pc, win } = setup();
    const talking = { ...ringing('t'), status: 'talking', result: 'answered', answeredAt: '2026-11-24T10:00:10.000Z' } as CallView;
    pc.onCallUpdate({ change: 'transferred', record: talking });
    expect(win.sent).toEqual(['transferred:t']);
    expect(win.shown).toBe(1);
  });

  it('with externalOnly, skips internal extensions (≤ 6 digits)', () => {
    const { pc, win } = setup({ externalOnly: true });
    pc.onCallUpdate({ change: 'ringing', record: ringing('a', '204') });
    pc.onCallUpdate({ change: 'ringing', record: ringing('b', '05551239988') });
    expect(win.sent).toEqual(['ringing:b']);
  });
});

describe('PopupController.restore (popup page loaded, e.g. after an app restart)', () => {
  const talking = (id: string) => ({ ...ringing(id), status: 'talking', result: 'answered', answeredAt: '2026-11-24T10:00:10.000Z' }) as CallView;

  it('opens cards for the live calls main did not show, sends them to the page and shows the window', async () => {
    const { pc, win } = setup();
    await pc.restore(async () => [ringing('r'), talking('t'), { ...talking('o'), direction: 'outgoing' } as CallView]);
    expect(win.sent).toEqual(['ringing:r', 'answered:t']);
    expect(win.shown).toBe(1);
    expect(pc.openCards).toEqual(['r', 't']);
    // Main owns them now: updates follow, dismissing the last one hides the window.
    pc.onCallUpdate({ change: 'missed', record: ended(ringing('r')) });
    expect(win.sent.at(-1)).toBe('missed:r');
    pc.dismiss('r');
    pc.dismiss('t');
    expect(win.hidden).toBe(1);
  });

  it('a dismissed card does not come back when the page reloads while the call is still live', async () => {
    const { pc, win } = setup();
    pc.onCallUpdate({ change: 'ringing', record: ringing('gone') });
    pc.dismiss('gone');
    win.sent.length = 0;
    await pc.restore(async () => [ringing('gone')]);
    expect(win.sent).toEqual([]);
    expect(pc.openCards).toEqual([]);
    expect(win.shown).toBe(1);
  });

  it('nothing live: the window stays hidden', async () => {
    const { pc, win } = setup();
    await pc.restore(async () => []);
    expect(win.shown).toBe(0);
    expect(win.sent).toEqual([]);
  });

  it('a reloaded page gets every open card again, ended ones included (the page closes them by its rule)', async () => {
    const { pc, win } = setup({ autoCloseSec: 8, autoCloseMissed: true });
    pc.onCallUpdate({ change: 'ringing', record: ringing('a') });
    pc.onCallUpdate({ change: 'ringing', record: ringing('b') });
    pc.onCallUpdate({ change: 'missed', record: ended(ringing('b')) });
    win.sent.length = 0;
    await pc.restore(async () => [ringing('a')]);
    expect(win.sent).toEqual(['ringing:a', 'missed:b']);
    expect(pc.openCards).toEqual(['a', 'b']);
  });

  it('a call that rang and ended before the page was ready is not closed by the restore', async () => {
    // The updates were queued for the loading page and reach it on rendererReady; main must keep
    // following the call (the recording arrives later).
    const { pc, win } = setup({ autoCloseSec: 0 });
    pc.onCallUpdate({ change: 'ringing', record: ringing('q') });
    pc.onCallUpdate({ change: 'ended', record: ended(ringing('q'), 'answered-elsewhere') });
    await pc.restore(async () => []);
    pc.onCallUpdate({ change: 'recording', record: { ...ended(ringing('q'), 'answered-elsewhere'), recordings: ['https://pbx/r.mp3'] } as CallView });
    expect(pc.openCards).toEqual(['q']);
    expect(win.sent.at(-1)).toBe('recording:q');
    expect(win.hidden).toBe(0);
  });

  it('a call that ended while the snapshot was in flight gets no card', async () => {
    const { pc, win } = setup();
    let answer!: (calls: CallView[]) => void;
    const restored = pc.restore(() => new Promise((ok) => (answer = ok)));
    pc.onCallUpdate({ change: 'missed', record: ended(ringing('x')) });
    answer([ringing('x')]);
    await restored;
    expect(pc.openCards).toEqual([]);
    expect(win.shown).toBe(0);
  });

  it('a call that rang and ended while the snapshot was in flight keeps its card (the page already has it)', async () => {
    const { pc, win } = setup({ autoCloseSec: 0 });
    let answer!: (calls: CallView[]) => void;
    const restored = pc.restore(() => new Promise((ok) => (answer = ok)));
    pc.onCallUpdate({ change: 'ringing', record: ringing('live') });
    pc.onCallUpdate({ change: 'ended', record: ended(ringing('live'), 'answered-elsewhere') });
    answer([]);
    await restored;
    expect(pc.openCards).toEqual(['live']);
    expect(win.hidden).toBe(0);
    expect(win.sent).toEqual(['ringing:live', 'ended:live']);
  });

  it('respects pause, disabled popups and externalOnly like a live push', async () => {
    const { pc, win, set } = setup({ externalOnly: true });
    await pc.restore(async () => [ringing('int', '204')]);
    pc.setPaused(true);
    await pc.restore(async () => [ringing('p')]);
    pc.setPaused(false);
    set({ enabled: false });
    await pc.restore(async () => [ringing('d')]);
    expect(win.shown).toBe(0);
    expect(pc.openCards).toEqual([]);
  });

  it('a failed snapshot changes nothing', async () => {
    const { pc, win } = setup();
    await expect(pc.restore(async () => Promise.reject(new Error('core restarting')))).rejects.toThrow('core restarting');
    pc.onCallUpdate({ change: 'ringing', record: ringing('later') });
    expect(win.sent).toEqual(['ringing:later']);
  });
});

describe('popup placement', () => {
  const wa = { x: 0, y: 0, width: 1920, height: 1040 };
  it('sits in the configured corner of the work area', () => {
    expect(popupBounds(wa, 'bottom-right')).toEqual({ x: 1920 - 380 - 12, y: 1040 - 540 - 12, width: 380, height: 540 });
    expect(popupBounds(wa, 'top-left')).toEqual({ x: 12, y: 12, width: 380, height: 540 });
    expect(popupBounds({ x: 1920, y: 40, width: 1280, height: 984 }, 'top-right')).toEqual({ x: 1920 + 1280 - 380 - 12, y: 52, width: 380, height: 540 });
  });
  it('isInternalNumber', () => {
    expect(['117', '204', '123456'].map(isInternalNumber)).toEqual([true, true, true]);
    expect(['1234567', '+44 20 7946 0958', '', 'Anonymous'].map(isInternalNumber)).toEqual([false, false, false, false]);
  });
});
