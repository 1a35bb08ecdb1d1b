// The core service as the app sees it: answers the "core" IPC channels and pushes events.
// Hosted in an Electron utilityProcess (main/core/desktop/utility-process.ts) and, in browser tests, by the
// e2e bridge; `callpop serve` runs the same WebhookReceiver (or, with --hub, HubClient) underneath.
import type { CoreChannel, InvokeArgs, InvokeResult, PushChannel, PushMap, ServiceState } from '../../../shared/ipc/contract';
import type { Logger } from '../../../shared/diagnostics-log';
import type { Settings } from '../../../shared/settings';

export type Push = <P extends PushChannel>(channel: P, payload: PushMap[P]) => void;

export interface CoreBackendOptions {
  dataDir: string;
  /** Used when settings.downloadDir is "". */
  defaultDownloadDir: string;
  settings: Settings;
  push: Push;
  logger?: Logger;
  /** Basic credentials for recording URLs (kept encrypted by the app). */
  recordingCredentials?: () => { username: string; password: string } | null;
  /** The Callpop hub password (settings.source "hub"), decrypted by main; kept in memory only. */
  hubPassword?: string | null;
  /** Injected clock for tests; defaults to Date.now. */
  now?: () => number;
}

export interface CoreBackend {
  /** Answer one core request; arguments were already validated against shared/ipc/schemas.ts. */
  handle<C extends CoreChannel>(channel: C, args: InvokeArgs<C>): Promise<InvokeResult<C>>;
  /**
   * Apply new settings: rebinds the listener when host/port/secret/allow-list change, switches between
   * the listener and the hub, reconnects to the hub when its address, agent, pin or extension change.
   * `hubPassword`: undefined = unchanged, null = cleared.
   */
  updateSettings(settings: Settings, hubPassword?: string | null): Promise<void>;
  /** The OS resumed or the network changed: reconnect to the hub at once (no-op for the listener). */
  reconnectNow(reason: string): void;
  /** The service state; when listening, with the service's notice (e.g. "set your extension"). */
  status(): ServiceState;
  close(): Promise<void>;
}
