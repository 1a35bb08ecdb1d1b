// Runs the core service in a child process (Electron utilityProcess in the app; a fake in tests),
// forwards "core" requests to it with ids and timeouts, relays its pushes, and restarts it with
// backoff when it dies. Main only relays: all network and disk work happens in the child.
import type { CoreChannel, PushChannel, PushMap, ServiceState } from '../../shared/ipc/contract';
import type { LogLevel } from '../../shared/diagnostics-log';
import type { FromService, ToService } from '../../shared/service-protocol';

/** The part of Electron's UtilityProcess the supervisor uses. */
export interface ServiceChild {
  postMessage(message: ToService): void;
  on(event: 'message', listener: (message: FromService) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

type InitMessage = Extract<ToService, { type: 'init' }>;
type SettingsMessage = Extract<ToService, { type: 'settings' }>;
export type PushMessage = { [P in PushChannel]: { channel: P; payload: PushMap[P] } }[PushChannel];

export interface SupervisorOptions {
  fork: () => ServiceChild;
  /** Built on every (re)start so a restarted core gets the current settings. */
  init: () => InitMessage;
  onPush: (push: PushMessage) => void;
  onState: (state: ServiceState) => void;
  log: (level: LogLevel, message: string) => void;
  invokeTimeoutMs?: number;
  /** Running this long without dying resets the backoff. */
  healthyAfterMs?: number;
  maxBackoffMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Restart delays: 1 s, 2 s, 4 s … capped. `attempt` starts at 1. */
export const backoffMs = (attempt: number, maxMs = 30_000): number => Math.min(1000 * 2 ** (attempt - 1), maxMs);

export class Supervisor {
  private child: ServiceChild | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private attempt = 0;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private healthTimer: ReturnType<typeof setTimeout> | null = null;
  private stopping: Promise<void> | null = null;
  private exitWaiters: (() => void)[] = [];
  private current: ServiceState = { state: 'starting' };

  constructor(private readonly o: SupervisorOptions) {}

  get state(): ServiceState {
    return this.current;
  }

  start(): void {
    if (this.child || this.stopping) return;
    let child: ServiceChild;
    try {
      child = this.o.fork();
    } catch (e) {
      this.o.log('error', `core: could not start the service process: ${errorText(e)}`);
      this.scheduleRestart(`The core service could not start: ${errorText(e)}`);
      return;
    }
    this.child = child;
    if (this.attempt === 0) this.setState({ state: 'starting' });
    child.on('message', (m) => {
      if (this.child === child) this.onMessage(m);
    });
    child.on('exit', (code) => this.onExit(child, code));
    child.postMessage(this.o.init());
  }

  /** Forward a core request; rejects with a clear one-line error on timeout or when the service dies. */
  invoke(channel: CoreChannel, args: unknown): Promise<unknown> {
    const child = this.child;
    if (!child || this.stopping) {
      const why = this.current.state === 'restarting' ? 'is restarting' : 'is not running';
      return Promise.reject(new Error(`The core service ${why}; try again in a moment.`));
    }
    const id = this.nextId++;
    const timeoutMs = this.o.invokeTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${channel}: the core service did not answer within ${Math.round(timeoutMs / 1000)} s.`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.postMessage({ type: 'invoke', id, channel, args });
    });
  }

  /** New settings (and optionally credentials) for the running core; a restarted core gets them via init(). */
  sendSettings(message: Omit<SettingsMessage, 'type'>): void {
    this.child?.postMessage({ type: 'settings', ...message });
  }

  /** Reconnect to the hub now (resume from sleep, network change); a core that is not running reconnects when it starts. */
  reconnect(reason: string): void {
    this.child?.postMessage({ type: 'reconnect', reason });
  }

  /** Ask the core to flush and exit; kill it if it has not exited within `timeoutMs`. */
  stop(timeoutMs = 3000): Promise<void> {
    if (this.stopping) return this.stopping;
    this.clearTimers();
    const child = this.child;
    this.stopping = new Promise<void>((resolve) => {
      if (!child) return resolve();
      const timer = setTimeout(() => {
        this.o.log('warn', `core: did not exit within ${timeoutMs} ms of shutdown; killing it`);
        child.kill();
        resolve();
      }, timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      child.postMessage({ type: 'shutdown' });
    });
    return this.stopping;
  }

  private onMessage(m: FromService): void {
    switch (m.type) {
      case 'ready':
        this.o.log('info', 'core: service ready');
        this.healthTimer = setTimeout(() => {
          this.healthTimer = null;
          this.attempt = 0;
        }, this.o.healthyAfterMs ?? 60_000);
        return;
      case 'result': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.value);
        else p.reject(new Error(m.error));
        return;
      }
      case 'push':
        if (m.channel === 'push:status') {
          // The core knows only its own service state; main owns the rest of AppStatus.
          const payload = m.payload as unknown as { service?: ServiceState; state?: string };
          const service = payload.service ?? (typeof payload.state === 'string' ? (payload as ServiceState) : null);
          if (service) this.setState(service);
          return;
        }
        this.o.onPush({ channel: m.channel, payload: m.payload } as PushMessage);
        return;
      case 'log':
        this.o.log(m.level, `core: ${m.message}`);
        return;
      case 'fatal':
        this.o.log('error', `core: ${m.message}`);
        this.setState({ state: 'error', message: m.message });
        return;
    }
  }

  private onExit(child: ServiceChild, code: number): void {
    if (this.child !== child) return;
    this.child = null;
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.healthTimer = null;
    const stopping = this.stopping !== null;
    this.failPending(stopping ? 'The core service stopped.' : 'The core service stopped unexpectedly and is restarting; try again in a moment.');
    if (stopping) {
      this.setState({ state: 'stopped' });
      for (const w of this.exitWaiters.splice(0)) w();
      return;
    }
    this.o.log('error', `core: service process exited unexpectedly (code ${code})`);
    this.scheduleRestart(`The core service stopped (exit code ${code}).`);
  }

  private scheduleRestart(reason: string): void {
    this.attempt += 1;
    const delay = backoffMs(this.attempt, this.o.maxBackoffMs);
    this.setState({ state: 'restarting', attempt: this.attempt, message: `${reason} Restarting in ${Math.round(delay / 1000)} s.` });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start();
    }, delay);
  }

  private failPending(message: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(message));
      this.pending.delete(id);
    }
  }

  private clearTimers(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.restartTimer = this.healthTimer = null;
  }

  private setState(s: ServiceState): void {
    this.current = s;
    this.o.onState(s);
  }
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'unknown error';
}
