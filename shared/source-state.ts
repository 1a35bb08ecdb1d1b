// The state of the desktop core's call source (settings.source): this PC's webhook listener, a hub
// connection, or Call Control. Every call feed reports it (main/core/feed/call-feed.ts); the app shows it
// (status line, tray, Settings). A domain type, so the feeds never depend on the UI's IPC contract
// (shared/ipc/contract.ts re-exports it for the UI).
export type ServiceState =
  | { state: 'starting' }
  /** `notice`: something the user must do before calls show (e.g. set the extension). */
  | {
      state: 'listening';
      port: number;
      url: string;
      notice?: string | undefined;
      /** When the last webhook was accepted (any extension's); null = none since start. */
      lastEventAt?: string | null | undefined;
    }
  | { state: 'error'; message: string }
  | { state: 'restarting'; attempt: number; message: string }
  | { state: 'stopped' }
  | HubState
  | PbxState;

/**
 * Source "call-control" (settings.source): the core's connection to 3CX's Call Control API; `pbx` is
 * the PBX's origin. Settings it cannot run with yet (no key, no client ID) are an `error` state.
 */
export type PbxState =
  | { state: 'pbx-connecting'; pbx: string }
  | { state: 'pbx-connected'; pbx: string; extension: string }
  | { state: 'pbx-reconnecting'; pbx: string; attempt: number; error: string }
  /** 3CX refused the API client (client ID or key): retried slowly, and at once when a new key is saved. */
  | { state: 'pbx-refused'; pbx: string; error: string };

/**
 * Source "hub" (settings.source): the core's connection to a Callpop hub's broker. `since` is an ISO
 * time: when the connection was made (connected), lost (reconnecting) or the hub went away (offline).
 */
export type HubState =
  | { state: 'hub-connecting'; url: string }
  /** `synced`: the backfill since the connect is complete. */
  | { state: 'hub-connected'; url: string; extension: string; since: string; synced: boolean }
  | { state: 'hub-reconnecting'; url: string; since: string; error: string | null }
  /**
   * The broker refused the agent name or password, or (`about: 'extension'`) the hub does not give the
   * agent that extension (`reason` says which are hers): not retried until the settings or the password change.
   */
  | { state: 'hub-refused'; url: string; reason: string; about?: 'extension' }
  /** The broker is up but the hub's last will says the hub is gone, or (`silent`) its heartbeat stopped at `since`. */
  | { state: 'hub-offline'; url: string; since: string; silent?: boolean }
  /** Hub mode without what it needs (address, agent name, password, extension): the message says what. */
  | { state: 'hub-setup'; message: string };

export const isHubState = (s: ServiceState): s is HubState => s.state.startsWith('hub-');
export const isPbxState = (s: ServiceState): s is PbxState => s.state.startsWith('pbx-');
