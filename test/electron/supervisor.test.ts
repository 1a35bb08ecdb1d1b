import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffMs, Supervisor } from '../../main/app/supervisor';
import type { ServiceChild } from '../../main/app/supervisor';
import type { ServiceState } from '../../shared/ipc/contract';
import type { FromService, ToService } from '../../shared/service-protocol';
import { defaultSettings } from '../../shared/settings';

class FakeChild extends EventEmitter implements ServiceChild {
  sent: ToService[] = [];
  killed = false;
  postMessage(m: ToService) {
    this.sent.push(m);
  }
  kill() {
    this.killed = true;
    return true;
  }
  reply(m: FromService) {
    this.emit('message', m);
  }
  lastInvoke() {
    const m = [...this.sent].reverse().find((x) => x.type === 'invoke');
    if (!m || m.type !== 'invoke') throw new Error('no invoke sent');
    return m;
  }
}

function setup(over: Partial<ConstructorParameters<typeof Supervisor>[0]> = {}) {
  const children: FakeChild[] = [];
  const states: ServiceState[] = [];
  const pushes: unknown[] = [];
  const sup = new Supervisor({
    fork: () => {
      const c = new FakeChild();
      children.push(c);
      return c;
    },
    init: () => ({ type: 'init', settings: defaultSettings(), dataDir: '/data', downloadDir: '/dl' }),
    onPush: (p) => pushes.push(p),
    onState: (s) => states.push(s),
    log: () => {},
    invokeTimeoutMs: 5000,
    ...over,
  });
  return { sup, children, states, pushes };
}

describe('Supervisor', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends init, forwards invokes with ids and resolves results', async () => {
    const { sup, children } = setup();
    sup.start();
    const c = children[0]!;
    expect(c.sent[0]).toMatchObject({ type: 'init', dataDir: '/data', downloadDir: '/dl' });
    const a = sup.invoke('calls:active', {});
    const b = sup.invoke('calls:get', { callId: 'x' });
    const [ia, ib] = c.sent.filter((m) => m.type === 'invoke') as Extract<ToService, { type: 'invoke' }>[];
    expect(ia!.id).not.toBe(ib!.id);
    c.reply({ type: 'result', id: ib!.id, ok: false, error: 'no such call' });
    c.reply({ type: 'result', id: ia!.id, ok: true, value: ['call'] });
    await expect(a).resolves.toEqual(['call']);
    await expect(b).rejects.toThrow('no such call');
  });

  it('times out an unanswered invoke with a clear error', async () => {
    const { sup } = setup();
    sup.start();
    const p = sup.invoke('log:query', { offset: 0, limit: 10 });
    vi.advanceTimersByTime(5000);
    await expect(p).rejects.toThrow('log:query: the core service did not answer within 5 s.');
  });

  it('relays pushes and takes the service state from the core status push', () => {
    const { sup, children, states, pushes } = setup();
    sup.start();
    const c = children[0]!;
    c.reply({ type: 'push', channel: 'push:logChanged', payload: { missedUnseen: 2 } });
    const listening = { state: 'listening', port: 8765, url: 'http://x:8765/webhook/s' } as const;
    c.reply({ type: 'push', channel: 'push:status', payload: { service: listening, popupsPaused: false, missedUnseen: 0, policyError: null } });
    expect(pushes).toEqual([{ channel: 'push:logChanged', payload: { missedUnseen: 2 } }]);
    expect(states.at(-1)).toEqual(listening);
    expect(sup.state).toEqual(listening);
  });

  it('fails pending invokes and restarts with backoff 1 s, 2 s, 4 s when the process dies', async () => {
    const { sup, children, states } = setup();
    sup.start();
    const pending = sup.invoke('calls:active', {});
    children[0]!.emit('exit', 9);
    await expect(pending).rejects.toThrow('The core service stopped unexpectedly and is restarting; try again in a moment.');
    expect(states.at(-1)).toMatchObject({ state: 'restarting', attempt: 1 });
    await expect(sup.invoke('calls:active', {})).rejects.toThrow('The core service is restarting; try again in a moment.');

    vi.advanceTimersByTime(999);
    expect(children).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(children).toHaveLength(2);
    expect(children[1]!.sent[0]!.type).toBe('init');

    children[1]!.emit('exit', 1);
    expect(states.at(-1)).toMatchObject({ state: 'restarting', attempt: 2 });
    vi.advanceTimersByTime(1999);
    expect(children).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(children).toHaveLength(3);

    children[2]!.emit('exit', 1);
    expect(states.at(-1)).toMatchObject({ state: 'restarting', attempt: 3 });
    vi.advanceTimersByTime(4000);
    expect(children).toHaveLength(4);
  });

  it('resets the backoff after a minute of health', () => {
    const { sup, children, states } = setup();
    sup.start();
    children[0]!.emit('exit', 1);
    vi.advanceTimersByTime(1000);
    children[1]!.reply({ type: 'ready' });
    vi.advanceTimersByTime(60_000);
    children[1]!.emit('exit', 1);
    expect(states.at(-1)).toMatchObject({ state: 'restarting', attempt: 1 });
  });

  it('caps the backoff at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((a) => backoffMs(a))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('stop sends shutdown, resolves on exit and does not restart', async () => {
    const { sup, children, states } = setup();
    sup.start();
    const c = children[0]!;
    const stopped = sup.stop();
    expect(c.sent.at(-1)).toEqual({ type: 'shutdown' });
    c.emit('exit', 0);
    await stopped;
    vi.advanceTimersByTime(60_000);
    expect(children).toHaveLength(1);
    expect(c.killed).toBe(false);
    expect(states.at(-1)).toEqual({ state: 'stopped' });
  });

  it('kills a core that does not exit within 3 s of shutdown', async () => {
    const { sup, children } = setup();
    sup.start();
    const stopped = sup.stop();
    vi.advanceTimersByTime(3000);
    await stopped;
    expect(children[0]!.killed).toBe(true);
  });

  it('sends new settings to the running core', () => {
    const { sup, children } = setup();
    sup.start();
    const s = { ...defaultSettings(), listenPort: 9000 };
    sup.sendSettings({ settings: s });
    expect(children[0]!.sent.at(-1)).toEqual({ type: 'settings', settings: s });
  });
});
