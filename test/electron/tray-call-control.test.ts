// The tray with the desktop's own 3CX Call Control source: the same words as the header and Settings
// (shared/pbx-status.ts) for each connection state; connected (or connecting) looks like listening,
// reconnecting or refused shows the error icon, and missed calls count as on a listener.
import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({ Tray: class {}, Menu: {}, nativeImage: {} }));

const { trayLook } = await import('../../main/app/tray');
import type { AppStatus, PbxState } from '../../shared/ipc/contract';

const status = (service: PbxState, over: Partial<AppStatus> = {}): AppStatus => ({ service, popupsPaused: false, missedUnseen: 0, policyError: null, ...over });
const pbx = 'https://pbx.example.com';

describe('tray look on 3CX Call Control', () => {
  it('says each connection state; only connected or connecting is not an error', () => {
    expect(trayLook(status({ state: 'pbx-connected', pbx, extension: '117' }))).toEqual({ variant: 'listening', tooltip: 'Callpop — Connected to 3CX Call Control · extension 117' });
    expect(trayLook(status({ state: 'pbx-connecting', pbx }))).toEqual({ variant: 'listening', tooltip: 'Callpop — Connecting to 3CX Call Control…' });
    expect(trayLook(status({ state: 'pbx-reconnecting', pbx, attempt: 2, error: 'ECONNREFUSED' }))).toEqual({ variant: 'error', tooltip: 'Callpop — 3CX Call Control: reconnecting (attempt 2): ECONNREFUSED' });
    const refused = '3CX refused the API client "callpop" (HTTP 401): check the client ID and the key';
    expect(trayLook(status({ state: 'pbx-refused', pbx, error: refused }))).toEqual({ variant: 'error', tooltip: `Callpop — ${refused}` });
  });

  it('shows missed calls when connected', () => {
    expect(trayLook(status({ state: 'pbx-connected', pbx, extension: '117' }, { missedUnseen: 2 }))).toEqual({ variant: 'missed', tooltip: 'Callpop — Connected to 3CX Call Control · extension 117\n2 missed' });
  });
});
