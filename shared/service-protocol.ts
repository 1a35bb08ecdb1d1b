// Messages between Electron main and the core service running in a utilityProcess
// (structured-clone data over process.parentPort). The same core also runs in `callpop serve`.
import type { CoreChannel, PushChannel, PushMap } from './ipc/contract';
import type { Settings } from './settings';

/** Basic credentials for recording URLs; decrypted by main (safeStorage), never written by the core (nor the hub password). */
export interface RecordingCredentials {
  username: string;
  password: string;
}

export type ToService =
  | { type: 'init'; settings: Settings; dataDir: string; downloadDir: string; recordingCredentials?: RecordingCredentials | null; hubPassword?: string | null }
  /** `recordingCredentials` / `hubPassword` absent = unchanged; null = cleared. */
  | { type: 'settings'; settings: Settings; recordingCredentials?: RecordingCredentials | null; hubPassword?: string | null }
  | { type: 'invoke'; id: number; channel: CoreChannel; args: unknown }
  /** The OS resumed from sleep or the network changed: reconnect to the hub now, not after a keep-alive timeout. */
  | { type: 'reconnect'; reason: string }
  | { type: 'shutdown' };

export type FromService =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: string }
  | { [P in PushChannel]: { type: 'push'; channel: P; payload: PushMap[P] } }[PushChannel]
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  | { type: 'fatal'; message: string };
