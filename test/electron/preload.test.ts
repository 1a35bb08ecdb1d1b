import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { CallpopApi } from '../../shared/ipc/api';

const exposed: Record<string, unknown> = {};
const ipc = new EventEmitter();
const invoke = vi.fn(async (channel: string, args: unknown) => ({ channel, args }));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
  ipcRenderer: {
    invoke,
    on: (c: string, l: (...a: unknown[]) => void) => ipc.on(c, l),
    removeListener: (c: string, l: (...a: unknown[]) => void) => ipc.removeListener(c, l),
  },
}));

const { transport } = await import('../../main/preload');
type Api = CallpopApi;

describe('preload', () => {
  it('exposes window.callpop only, with the named methods', () => {
    expect(Object.keys(exposed)).toEqual(['callpop']);
    const api = exposed.callpop as Api;
    expect(typeof api.getSettings).toBe('function');
    expect(typeof api.onCallUpdate).toBe('function');
    expect(Object.values(api).every((v) => typeof v === 'function')).toBe(true);
  });

  it('invokes contract channels and refuses others', async () => {
    const api = exposed.callpop as Api;
    await expect(api.setPopupsPaused(true)).resolves.toEqual({ channel: 'popups:setPaused', args: { paused: true } });
    await expect(transport.invoke('shell:exec', {})).rejects.toThrow('Unknown channel shell:exec');
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(() => transport.on('ipc:anything', () => {})).toThrow('Unknown event ipc:anything');
  });

  it('listeners get the payload only and can unsubscribe', () => {
    const api = exposed.callpop as Api;
    const got: unknown[] = [];
    const off = api.onLogChanged((p) => got.push(p));
    ipc.emit('push:logChanged', { sender: 'the electron event' }, { missedUnseen: 3 });
    off();
    ipc.emit('push:logChanged', {}, { missedUnseen: 4 });
    expect(got).toEqual([{ missedUnseen: 3 }]);
    expect(ipc.listenerCount('push:logChanged')).toBe(0);
  });
});
