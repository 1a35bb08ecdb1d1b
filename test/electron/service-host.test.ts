import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
// The real core is exercised by the integration tests; here only the message plumbing.
vi.mock('../../main/core/desktop/create-core-backend', () => ({ createCoreBackend: vi.fn() }));
const { runServiceHost } = await import('../../main/core/desktop/utility-process');
import type { CoreBackend, CoreBackendOptions } from '../../main/core/desktop/core-backend';
import type { FromService, ToService } from '../../shared/service-protocol';
import { defaultSettings } from '../../shared/settings';

function host(createImpl?: (o: CoreBackendOptions) => Promise<CoreBackend>) {
  const port = new EventEmitter() as EventEmitter & { postMessage(m: FromService): void };
  const out: FromService[] = [];
  port.postMessage = (m) => out.push(m);
  const exit = vi.fn();
  let opts: CoreBackendOptions | null = null;
  const backend: CoreBackend = {
    handle: vi.fn(async (channel: string) => {
      if (channel === 'calls:get') throw new Error('boom\nstack');
      return [`answer:${channel}`];
    }) as unknown as CoreBackend['handle'],
    updateSettings: vi.fn(async () => {}),
    reconnectNow: vi.fn(),
    status: () => ({ state: 'listening', port: 8765, url: 'http://h:8765/webhook/s' }),
    close: vi.fn(async () => {}),
  };
  const create = vi.fn(createImpl ?? (async (o: CoreBackendOptions) => ((opts = o), backend)));
  runServiceHost({ port: port as never, create: create as never, exit });
  const send = (m: ToService) => port.emit('message', { data: m });
  const flush = () => new Promise((r) => setTimeout(r, 0));
  return { out, send, flush, exit, backend, create, opts: () => opts };
}

describe('service host (utility process side)', () => {
  const init: ToService = { type: 'init', settings: defaultSettings(), dataDir: '/d', downloadDir: '/dl', recordingCredentials: { username: 'u', password: 'p' } };

  it('starts the core on init, says ready, reports the service state, and answers invokes', async () => {
    const h = host();
    h.send(init);
    h.send({ type: 'invoke', id: 1, channel: 'calls:active', args: {} });
    h.send({ type: 'invoke', id: 2, channel: 'calls:get', args: { callId: 'x' } });
    await h.flush();
    expect(h.create).toHaveBeenCalledTimes(1);
    expect(h.opts()).toMatchObject({ dataDir: '/d', defaultDownloadDir: '/dl' });
    expect(h.opts()!.recordingCredentials!()).toEqual({ username: 'u', password: 'p' });
    expect(h.out[0]).toEqual({ type: 'ready' });
    expect(h.out[1]).toMatchObject({ type: 'push', channel: 'push:status', payload: { service: { state: 'listening', port: 8765 } } });
    expect(h.out).toContainEqual({ type: 'result', id: 1, ok: true, value: ['answer:calls:active'] });
    expect(h.out).toContainEqual({ type: 'result', id: 2, ok: false, error: 'boom' });
  });

  it('applies settings and credential changes', async () => {
    const h = host();
    h.send(init);
    const s = { ...defaultSettings(), listenPort: 9999 };
    h.send({ type: 'settings', settings: s, recordingCredentials: null });
    await h.flush();
    expect(h.backend.updateSettings).toHaveBeenCalledWith(s, undefined);
    expect(h.opts()!.recordingCredentials!()).toBeNull();
  });

  it('hands the hub password to the core (init, then a change) and passes reconnect requests on', async () => {
    const h = host();
    h.send({ ...init, hubPassword: 'pw-at-start' } as ToService);
    await h.flush();
    expect(h.opts()!.hubPassword).toBe('pw-at-start');
    const s = { ...defaultSettings(), source: 'hub' as const };
    h.send({ type: 'settings', settings: s, hubPassword: 'new-pw' });
    await h.flush();
    expect(h.backend.updateSettings).toHaveBeenLastCalledWith(s, 'new-pw');
    h.send({ type: 'reconnect', reason: 'resumed from sleep' });
    await h.flush();
    expect(h.backend.reconnectNow).toHaveBeenCalledWith('resumed from sleep');
  });

  it('passes the service notice on with the listening state, and drops it once settings fix it', async () => {
    const h = host();
    const notice = 'Set your extension (Settings → Extension, or --extension) to see your calls; webhooks are acknowledged meanwhile.';
    let state: ReturnType<CoreBackend['status']> = { state: 'listening', port: 8765, url: 'u', notice };
    h.backend.status = () => state;
    h.send(init);
    await h.flush();
    expect(h.out[1]).toMatchObject({ type: 'push', channel: 'push:status', payload: { service: { state: 'listening', notice } } });
    state = { state: 'listening', port: 8765, url: 'u' };
    h.send({ type: 'settings', settings: { ...defaultSettings(), extension: '117' } });
    await h.flush();
    const last = h.out.at(-1) as Extract<FromService, { type: 'push' }>;
    expect(last).toMatchObject({ channel: 'push:status' });
    expect((last.payload as { service: object }).service).toEqual({ state: 'listening', port: 8765, url: 'u' });
  });

  it('flushes the core on shutdown and exits 0', async () => {
    const h = host();
    h.send(init);
    h.send({ type: 'shutdown' });
    await h.flush();
    expect(h.backend.close).toHaveBeenCalled();
    expect(h.exit).toHaveBeenCalledWith(0);
  });

  it('reports a core that cannot start as fatal and exits 1', async () => {
    const h = host(async () => {
      throw new Error('EACCES: permission denied, open /d/call-log');
    });
    h.send(init);
    await h.flush();
    expect(h.out).toEqual([{ type: 'fatal', message: 'The core service could not start: EACCES: permission denied, open /d/call-log' }]);
    expect(h.exit).toHaveBeenCalledWith(1);
  });
});
