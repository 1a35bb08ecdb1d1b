// Pieces of the `electron` module for tests that run main/app/index.ts with electron mocked (import them
// inside the vi.mock factory): the app object, and an in-process stand-in for utilityProcess.fork that
// runs the REAL core (runServiceHost) with structured-clone messages both ways, async like IPC.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { vi } from 'vitest';
import { runServiceHost } from '../../main/core/desktop/utility-process';

/** What the fake app records: its userData folder, the listeners main added, the exit code. */
export interface AppState {
  dir: string;
  appEvents: Map<string, ((...a: unknown[]) => void)[]>;
  exitCode: number | null;
}

export function fakeApp(h: AppState) {
  return {
    setPath: (_n: string, p: string) => (h.dir = p),
    getPath: (n: string) => join(h.dir, n === 'userData' ? '' : n),
    getVersion: () => '0.1.0',
    getAppPath: () => h.dir,
    isPackaged: false,
    enableSandbox: vi.fn(),
    setAppUserModelId: vi.fn(),
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    on: (e: string, l: (...a: unknown[]) => void) => h.appEvents.set(e, [...(h.appEvents.get(e) ?? []), l]),
    quit: vi.fn(),
    exit: (code: number) => (h.exitCode = code),
    setBadgeCount: vi.fn(),
    setLoginItemSettings: vi.fn(),
  };
}

export type UtilityChild = EventEmitter & { postMessage(m: unknown): void; kill(): boolean };

/** utilityProcess.fork for the core, in this process; `onPost` sees each message main sends it. */
export function inProcessUtility(onPost?: (m: unknown) => void): UtilityChild {
  const child = new EventEmitter() as UtilityChild;
  const port = new EventEmitter() as EventEmitter & { postMessage(m: unknown): void };
  port.postMessage = (m) => setImmediate(() => child.emit('message', structuredClone(m)));
  child.postMessage = (m) => {
    onPost?.(structuredClone(m));
    setImmediate(() => port.emit('message', { data: structuredClone(m) }));
  };
  child.kill = () => true;
  runServiceHost({ port, exit: (code) => setImmediate(() => child.emit('exit', code)) });
  return child;
}
