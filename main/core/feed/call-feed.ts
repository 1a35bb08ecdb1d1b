// The seam every source of calls plugs into: a CallFeed yields one extension's call changes, and the
// table in ./kinds.ts says how to start each kind. The desktop core (desktop/call-source.ts) and
// `callpop serve` (cli/serve.ts) only ever talk to this interface and that table; they never ask
// which kind they have. Kinds today: `listener` (this PC receives the 3CX WebAPI webhooks:
// receiver/listener-feed.ts) and `hub` (a Callpop hub relays them: hub-client/hub-feed.ts).
//
// HOW TO ADD A KIND (e.g. 3CX Call Control):
//   1. Settings: add the name to `callSources` in shared/settings.ts, with the settings it needs, and
//      the states it shows to `ServiceState` (shared/source-state.ts) if the existing ones don't fit.
//   2. One folder, e.g. main/core/call-control/, holding the client and a `call-control-feed.ts` that
//      exports a `FeedKind` (below): `start` returns a CallFeed, `notReady`/`failedState` say how the
//      desktop shows settings it cannot run with yet, `restartKey` which settings restart it.
//   3. One line in `feedKinds` (./kinds.ts). TypeScript then refuses to build until the kind is there.
//   4. Keep the two promises below (the listener and the hub client keep them with one durable-commit
//      pipeline), and run the shared contract suite every feed passes against it (test/support/
//      call-feed-contract.ts: one `describeCallFeed(...)` call with a driver for the new kind).
//
// THE TWO PROMISES every feed keeps (the contract suite checks them on real parts):
//   - `changes` hears a change as soon as it is known, BEFORE it is written (a pop never waits for the
//     disk), in order, once (no doubles, also across a restart and a catch-up);
//   - `durable` hears the same changes once they are on disk, in the same order; only then is the
//     origin acknowledged (the webhook's 200, the hub's watermark), so nothing acknowledged is lost.
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import type { CallAction } from '../../../shared/hub-protocol';
import type { Event } from '../../../shared/emitter';
import type { ServiceState } from '../../../shared/source-state';
import type { Logger } from '../../../shared/diagnostics-log';
import type { CallSource, Settings } from '../../../shared/settings';
import type { CallLogStore } from '../call-log/store';
import type { HubCallbacks } from '../hub-client/callbacks';

export interface CallFeed {
  /** Which entry of `feedKinds` started it (for logs; code above must not branch on it). */
  readonly kind: CallSource;
  /** The data folder's call log the feed writes (and the app reads its history from). */
  readonly store: CallLogStore;
  /** Changes as they happen, before the disk, in order. */
  readonly changes: Event<CallUpdate[]>;
  /** The same changes once durable, in the same order. */
  readonly durable: Event<CallUpdate[]>;
  /** The status changed (read it with status()). */
  readonly statusChanged: Event<void>;
  /** What the app shows about this feed (listening, connected, what is missing …). */
  status(): ServiceState;
  /** This extension's ringing and talking calls, newest first. */
  openCalls(): CallRecord[];
  /** Addresses others reach this feed at (webhook URLs, best first); [] for one that connects out. */
  addresses(): string[];
  /** Extension → colleague name, when the feed knows them (a hub's directory); else {}. */
  directory(): Record<string, string>;
  /** The directory changed. */
  readonly directoryChanged: Event<void>;
  /** Ends a call the origin never ended (a ghost "Talking"); false when the feed cannot or it is not open. */
  clearCall(callId: string): Promise<boolean>;
  /** Actions on this extension's calls the source can carry out (issue 18); absent = none. */
  actions?(): readonly CallAction[];
  /** Carries one out; only called for an action in actions(). */
  act?(action: CallAction, o: { callId?: string; destination?: string }): Promise<{ ok: boolean; error?: string | undefined }>;
  /** The team's shared callbacks for this extension (a hub, issue 19); absent = the source has none. */
  readonly callbacks?: HubCallbacks;
  /** Re-establish a connection at once (OS resume, network change); nothing for a feed that listens. */
  reconnectNow(reason: string): void;
  /** Settings changed without changing the kind's restartKey: apply them in place. */
  update(settings: Settings): Promise<void>;
  /** Stop, write what was accepted, close the log unless `keepStore` (a restart of the same kind reuses it). */
  close(options?: { keepStore?: boolean }): Promise<void>;
}

/** What a kind's start gets. */
export interface FeedContext {
  dataDir: string;
  settings: Settings;
  /** A secret the kind needs that is not in settings.json (the hub password, decrypted by main); null = none. */
  password: string | null;
  logger: Logger;
  now?: () => number;
  /** How often timed-out calls are closed (tests use short ones). */
  tickMs?: number;
  /** An open call log to use instead of opening the data folder's (a restart of the same kind). */
  store?: CallLogStore;
  /** Per-kind options that are not settings, by kind name (the CLI's --site, tests' short reconnect delays). */
  extra?: Partial<Record<CallSource, object>>;
  /** Let loopback post even with an allow-list (the test call). Default true. */
  allowLoopback?: boolean;
}

/** One entry of the table in ./kinds.ts. */
export interface FeedKind {
  /** Starts the feed; throws when it cannot (see failedState). */
  start(ctx: FeedContext): Promise<CallFeed>;
  /** What the desktop's diagnostics log says once it started (the CLI prints its own lines); null = nothing. */
  startedLine(settings: Settings): string | null;
  /**
   * Settings whose change needs a new feed (same key: `feed.update(settings)` instead). Includes the
   * password when the kind uses one.
   */
  restartKey(settings: Settings, password: string | null): string;
  /** The state to show instead of starting when the settings lack something (null = start). */
  notReady(settings: Settings, password: string | null): ServiceState | null;
  /** How the desktop shows a failed start (null: the failure is fatal and thrown on, as the listener's log lock). */
  failedState(error: Error): ServiceState | null;
}
