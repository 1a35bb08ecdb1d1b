// The tray in hub mode: the same words as the header for each connection state; connected looks like
// listening, anything that keeps calls from coming shows the error icon.
import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({ Tray: class {}, Menu: {}, nativeImage: {} }));

const { trayLook } = await import('../../main/app/tray');
const { clockTime } = await import('../../shared/hub-status');
import type { AppStatus, HubState } from '../../shared/ipc/contract';

const status = (service: HubState, over: Partial<AppStatus> = {}): AppStatus => ({ service, popupsPaused: false, missedUnseen: 0, policyError: null, ...over });
const url = 'mqtts://hub.example.com:8883';
const since = '2026-12-01T10:42:00.000Z';

describe('tray look on a hub', () => {
  it('says each connection state; only connected (or connecting) is not an error', () => {
    expect(trayLook(status({ state: 'hub-connected', url, extension: '117', since, synced: true }))).toEqual({ variant: 'listening', tooltip: 'Callpop — Connected to hub · extension 117' });
    expect(trayLook(status({ state: 'hub-connected', url, extension: '117', since, synced: false })).tooltip).toBe('Callpop — Connected to hub · extension 117 · catching up');
    expect(trayLook(status({ state: 'hub-connecting', url })).variant).toBe('listening');
    expect(trayLook(status({ state: 'hub-reconnecting', url, since, error: 'ECONNREFUSED' }))).toEqual({ variant: 'error', tooltip: `Callpop — Reconnecting since ${clockTime(since)}` });
    expect(trayLook(status({ state: 'hub-refused', url, reason: 'the hub refused the user name or password' }))).toEqual({ variant: 'error', tooltip: 'Callpop — Hub refused the password' });
    // Issue #20: an extension the hub does not give the agent is not called a password problem.
    expect(trayLook(status({ state: 'hub-refused', url, about: 'extension', reason: 'The hub does not give anna extension 117 (…).' }))).toEqual({ variant: 'error', tooltip: 'Callpop — Not your extension on this hub' });
    expect(trayLook(status({ state: 'hub-offline', url, since }))).toEqual({ variant: 'error', tooltip: `Callpop — Hub offline since ${clockTime(since)}` });
    expect(trayLook(status({ state: 'hub-setup', message: 'Enter the hub password (Settings → Connection).' })).variant).toBe('error');
    expect(clockTime(since)).toMatch(/^\d\d:42$/);
  });

  it('shows missed calls on a connected hub like on a listener', () => {
    expect(trayLook(status({ state: 'hub-connected', url, extension: '117', since, synced: true }, { missedUnseen: 3 }))).toEqual({
      variant: 'missed',
      tooltip: 'Callpop — Connected to hub · extension 117\n3 missed',
    });
  });

  it('counts the shared callbacks nobody has claimed (issue #19)', () => {
    expect(trayLook(status({ state: 'hub-connected', url, extension: '117', since, synced: true }, { missedUnseen: 1, callbacksOpen: 2 }))).toEqual({
      variant: 'missed',
      tooltip: 'Callpop — Connected to hub · extension 117\n1 missed\n2 to call back',
    });
  });
});
