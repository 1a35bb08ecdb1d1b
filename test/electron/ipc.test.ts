import { describe, expect, it, vi } from 'vitest';
import { handleInvoke, registerIpc, senderProblem } from '../../main/app/ipc';
import type { IpcDeps, InvokeEventLike, MainHandlers } from '../../main/app/ipc';
import { WindowPushQueue } from '../../main/app/window-push-queue';
import { invokeOwners } from '../../shared/ipc/contract';
import { silentLogger } from '../../shared/diagnostics-log';

const own = new Set([7]);
const ev = (id: number, url: string | null): InvokeEventLike => ({ sender: { id }, senderFrame: url === null ? null : { url } });
const ok = ev(7, 'app://callpop/index.html');

function deps(over: Partial<IpcDeps> = {}) {
  const main = new Proxy({} as Record<string, ReturnType<typeof vi.fn>>, {
    get: (t, k: string) => (t[k] ??= vi.fn(async () => `main:${k}`)),
  });
  const core = vi.fn(async (channel: string) => `core:${channel}`);
  const d: IpcDeps = { ipcMain: { handle: vi.fn() }, isOwnWebContents: (id) => own.has(id), main: main as unknown as MainHandlers, core, logger: silentLogger, ...over };
  return { d, main, core };
}

describe('IPC registration', () => {
  it('registers a handler for every channel of the contract', () => {
    const handle = vi.fn();
    registerIpc(deps({ ipcMain: { handle } }).d);
    expect(handle.mock.calls.map((c) => c[0]).sort()).toEqual(Object.keys(invokeOwners).sort());
  });
});

describe('sender check', () => {
  it('accepts our window showing app://callpop', () => {
    expect(senderProblem(ok, (id) => own.has(id))).toBeNull();
  });

  it('accepts the renderer dev server only when main was started with it', () => {
    const dev = ev(7, 'http://localhost:5173/index.html');
    expect(senderProblem(dev, (id) => own.has(id))).toBe('foreign origin http://localhost:5173');
    expect(senderProblem(dev, (id) => own.has(id), 'http://localhost:5173')).toBeNull();
    expect(senderProblem(ev(7, 'http://localhost:5174/'), (id) => own.has(id), 'http://localhost:5173')).not.toBeNull();
  });

  it.each([
    ['a foreign webContents', ev(8, 'app://callpop/index.html'), 'not one of the app windows'],
    ['a foreign origin', ev(7, 'https://evil.example/'), 'foreign origin https://evil.example'],
    ['another app host', ev(7, 'app://evil/index.html'), 'foreign origin app://evil'],
    ['a file:// page', ev(7, 'file:///tmp/x.html'), 'foreign origin file://'],
    ['credentials in the URL', ev(7, 'app://x@callpop/'), 'foreign origin app://callpop'],
    ['no frame', ev(7, null), 'foreign origin (none)'],
  ])('rejects %s', async (_name, event, problem) => {
    const { d, main, core } = deps();
    await expect(handleInvoke(d, 'settings:get', event, {})).rejects.toThrow(`settings:get: refused (${problem}).`);
    await expect(handleInvoke(d, 'calls:active', event, {})).rejects.toThrow('refused');
    expect(main['settings:get']).not.toHaveBeenCalled();
    expect(core).not.toHaveBeenCalled();
  });
});

describe('argument validation', () => {
  it('rejects bad arguments with a one-line error and never calls the handler', async () => {
    const { d, main, core } = deps();
    await expect(handleInvoke(d, 'popups:setPaused', ok, { paused: 'yes' })).rejects.toThrow(/^popups:setPaused: paused: /);
    await expect(handleInvoke(d, 'log:query', ok, { offset: -1, limit: 10 })).rejects.toThrow(/^log:query: offset: /);
    await expect(handleInvoke(d, 'settings:update', ok, { listenPort: 70000 })).rejects.toThrow('settings:update: listenPort: Ports go up to 65535.');
    await expect(handleInvoke(d, 'popup:dismiss', ok, { callId: 'x', extra: 1 })).rejects.toThrow(/^popup:dismiss: /);
    for (const c of [main['popups:setPaused'], main['settings:update'], main['popup:dismiss']]) expect(c).not.toHaveBeenCalled();
    expect(core).not.toHaveBeenCalled();
    try {
      await handleInvoke(d, 'recording:download', ok, { callId: 'x' });
    } catch (e) {
      expect((e as Error).message.split('\n')).toHaveLength(1);
    }
    expect(core).not.toHaveBeenCalled();
  });

  it('checks popup heights and recording credentials', async () => {
    const { d, main } = deps();
    await expect(handleInvoke(d, 'popup:resize', ok, { height: 59 })).rejects.toThrow(/^popup:resize: height: /);
    await expect(handleInvoke(d, 'popup:resize', ok, { height: 1201 })).rejects.toThrow(/^popup:resize: height: /);
    await expect(handleInvoke(d, 'popup:resize', ok, { height: 120.5 })).rejects.toThrow(/^popup:resize: height: /);
    await expect(handleInvoke(d, 'popup:resize', ok, { height: 240 })).resolves.toBe('main:popup:resize');
    const set = (args: unknown) => handleInvoke(d, 'settings:setRecordingCredentials', ok, args);
    await expect(set({ username: 'a:b', password: 'x' })).rejects.toThrow(/^settings:setRecordingCredentials: /);
    await expect(set({ username: 'a', password: 'x\ny' })).rejects.toThrow(/^settings:setRecordingCredentials: /);
    await expect(set({ clear: false })).rejects.toThrow(/^settings:setRecordingCredentials: /);
    await expect(set({ username: 'a', password: 'x', clear: true })).rejects.toThrow(/^settings:setRecordingCredentials: /);
    expect(main['settings:setRecordingCredentials']).not.toHaveBeenCalled();
    await expect(set({ username: 'rec' })).resolves.toBe('main:settings:setRecordingCredentials');
    await expect(set({ clear: true })).resolves.toBe('main:settings:setRecordingCredentials');
    expect(main['settings:setRecordingCredentials']).toHaveBeenCalledWith({ clear: true }, { webContentsId: 7 });
  });

  it('answers main channels in main and forwards core channels with the parsed args', async () => {
    const { d, main, core } = deps();
    await expect(handleInvoke(d, 'popups:setPaused', ok, { paused: true })).resolves.toBe('main:popups:setPaused');
    expect(main['popups:setPaused']).toHaveBeenCalledWith({ paused: true }, { webContentsId: 7 });
    await expect(handleInvoke(d, 'log:query', ok, { offset: 0, limit: 50, text: '555' })).resolves.toBe('core:log:query');
    expect(core).toHaveBeenCalledWith('log:query', { offset: 0, limit: 50, text: '555' });
    // a missing args object counts as {}
    await expect(handleInvoke(d, 'calls:active', ok, undefined)).resolves.toBe('core:calls:active');
  });
});

describe('WindowPushQueue', () => {
  const target = (id: number) => {
    const sent: [string, unknown][] = [];
    return { id, sent, destroyed: false, send: (c: string, p: unknown) => sent.push([c, p]), isDestroyed() { return this.destroyed; } };
  };

  it('queues pushes until the page is ready, then flushes them in order, then delivers live', () => {
    const hub = new WindowPushQueue();
    const w = target(1);
    hub.add(w);
    for (let i = 1; i <= 5; i++) hub.push('push:logChanged', { missedUnseen: i });
    hub.push('push:navigate', { view: 'log' });
    expect(w.sent).toEqual([]);
    hub.ready(1);
    expect(w.sent).toEqual([
      ...[1, 2, 3, 4, 5].map((i) => ['push:logChanged', { missedUnseen: i }]),
      ['push:navigate', { view: 'log' }],
    ]);
    hub.push('push:logChanged', { missedUnseen: 6 });
    expect(w.sent.at(-1)).toEqual(['push:logChanged', { missedUnseen: 6 }]);
  });

  it('queues per window and again after a reload', () => {
    const hub = new WindowPushQueue();
    const a = target(1);
    const b = target(2);
    hub.add(a);
    hub.add(b);
    hub.ready(1);
    hub.push('push:logChanged', { missedUnseen: 1 });
    expect(a.sent).toHaveLength(1);
    expect(b.sent).toHaveLength(0);
    hub.unready(1);
    hub.pushTo(1, 'push:logChanged', { missedUnseen: 2 });
    expect(a.sent).toHaveLength(1);
    hub.ready(1);
    hub.ready(2);
    expect(a.sent.map((s) => s[1])).toEqual([{ missedUnseen: 1 }, { missedUnseen: 2 }]);
    expect(b.sent.map((s) => s[1])).toEqual([{ missedUnseen: 1 }]);
  });

  it('skips destroyed windows', () => {
    const hub = new WindowPushQueue();
    const w = target(1);
    hub.add(w);
    hub.ready(1);
    w.destroyed = true;
    hub.push('push:logChanged', { missedUnseen: 1 });
    expect(w.sent).toEqual([]);
  });
});
