// Feed kind `call-control`: this PC takes its extension's calls from 3CX's Call Control API (v20)
// instead of receiving webhooks. The entry of the feed table (../feed/kinds.ts): a WebhookReceiver
// without its listener (tracker, call log, the durable-commit pipeline) fed by the Call Control
// client's translated transitions, so the two promises of a CallFeed hold as for the listener (the
// shared contract suite runs against it on the fake PBX). The PBX has no acknowledgement to wait for:
// on a restart the calls the log holds open are handed to the client, whose first reconcile ends those
// the PBX no longer shows (with what was last known) and takes up the rest without announcing them again.
//
// Status: the `pbx-*` states of ServiceState (shared/ipc/contract.ts; words in shared/pbx-status.ts).
import { readFileSync } from 'node:fs';
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import { Emitter, type Event } from '../../../shared/emitter';
import type { ServiceState } from '../../../shared/source-state';
import type { Settings } from '../../../shared/settings';
import type { CallFeed, FeedKind } from '../feed/call-feed';
import { withWebhookSecret } from '../listener/secret';
import { WebhookReceiver } from '../receiver/webhook-receiver';
import { startCallControlClient, type CallControlClient } from './client';
import { PbxUrlError, parsePbxUrl } from './pbx-http';
import { toRawWebhook } from './to-webhook';
import { openTrafficRecorder, type TrafficRecorder } from './traffic-recorder';

/** Options that are not settings (the CLI's --record-traffic, tests' short delays), as `extra['call-control']`. */
export interface CallControlExtra {
  /**
   * The API key. Taken from here only, never from `ctx.password`: that is the desktop's hub password,
   * which must not be sent to the PBX (the desktop's own Call Control settings are not built yet).
   */
  clientSecret?: string;
  /** Why there is no key (the desktop's key file is missing or unreadable), shown instead of the default. */
  secretProblem?: string;
  recordTraffic?: string;
  backoff?: { initialMs?: number; maxMs?: number };
  ringEndGraceMs?: number;
}

export class CallControlFeed implements CallFeed {
  readonly kind = 'call-control' as const;
  readonly changes: Event<CallUpdate[]>;
  readonly durable: Event<CallUpdate[]>;
  readonly statusChanged: Event<void>;
  /** The PBX's directory is not read: never fires. */
  readonly directoryChanged: Event<void> = new Emitter<void>().on;
  private attempts = 0;

  constructor(
    readonly service: WebhookReceiver,
    readonly client: CallControlClient,
    private readonly pbx: URL,
    private readonly recorder: TrafficRecorder | null,
  ) {
    this.changes = service.onUpdates;
    this.durable = service.onDurable;
    this.statusChanged = (fn) => client.stateChanged(() => fn());
    client.stateChanged((s) => {
      if (s === 'connected') this.attempts = 0;
      else if (s === 'reconnecting') this.attempts++;
    });
  }

  get store() {
    return this.service.store;
  }

  status(): ServiceState {
    const c = this.client;
    const pbx = this.pbx.origin;
    switch (c.state) {
      case 'connecting':
        return { state: 'pbx-connecting', pbx };
      case 'connected':
        return { state: 'pbx-connected', pbx, extension: this.service.settings.extension };
      case 'reconnecting':
        return { state: 'pbx-reconnecting', pbx, attempt: Math.max(1, this.attempts), error: c.problem ?? 'reconnecting' };
      case 'refused':
        return { state: 'pbx-refused', pbx, error: c.problem ?? '3CX refused the API client.' };
      case 'closed':
        return { state: 'stopped' };
    }
  }

  openCalls(): CallRecord[] {
    return this.service.openCalls();
  }

  addresses(): string[] {
    return [];
  }

  directory(): Record<string, string> {
    return {};
  }

  clearCall(callId: string): Promise<boolean> {
    return this.service.clearCall(callId);
  }

  reconnectNow(): void {
    this.client.reconnectNow();
  }

  update(settings: Settings): Promise<void> {
    return this.service.updateSettings(settings);
  }

  async close(options?: { keepStore?: boolean }): Promise<void> {
    await this.client.close();
    await this.recorder?.close();
    await this.service.close(options);
  }
}

/** What the settings lack for this kind, in words; null when it can start. */
function setupProblem(s: Settings, secret: string | null | undefined, secretMissing?: string): string | null {
  if (!s.extension) return 'Set your extension first.';
  if (!s.callControlPbx) return 'Enter the PBX address for 3CX Call Control (https://pbx.example.com).';
  try {
    parsePbxUrl(s.callControlPbx);
  } catch (e) {
    if (e instanceof PbxUrlError) return e.message.replace(/^--pbx/, 'The PBX address');
    throw e;
  }
  if (!s.callControlClientId) return 'Enter the Client ID of the 3CX API client (Admin Console → Integrations → API).';
  if (!secret) return secretMissing ?? 'Enter the API key of the 3CX API client.';
  return null;
}

export const callControlKind: FeedKind = {
  async start(ctx) {
    const extra = (ctx.extra?.['call-control'] ?? {}) as CallControlExtra;
    const problem = setupProblem(ctx.settings, extra.clientSecret, extra.secretProblem);
    if (problem) throw new Error(problem);
    const pbx = parsePbxUrl(ctx.settings.callControlPbx);
    const ca = ctx.settings.callControlCaFile ? readFileSync(ctx.settings.callControlCaFile) : undefined;
    const service = await WebhookReceiver.start({
      dataDir: ctx.dataDir,
      // The service insists on a webhook secret; with no listener it is never used.
      settings: withWebhookSecret(ctx.settings).settings,
      logger: ctx.logger,
      now: ctx.now,
      tickMs: ctx.tickMs,
      store: ctx.store,
      listen: false,
    });
    const recorder = extra.recordTraffic ? openTrafficRecorder(extra.recordTraffic, ctx.logger) : null;
    const extension = ctx.settings.extension;
    const client = startCallControlClient({
      pbx,
      clientId: ctx.settings.callControlClientId,
      clientSecret: extra.clientSecret as string,
      ca,
      logger: ctx.logger,
      now: ctx.now,
      agentExtensions: () => [extension],
      openCalls: service.openCalls(),
      ...(extra.backoff ? { backoff: extra.backoff } : {}),
      ...(extra.ringEndGraceMs !== undefined ? { ringEndGraceMs: extra.ringEndGraceMs } : {}),
      ...(recorder ? { onTraffic: recorder.record } : {}),
      onWebhooks: (list) => {
        for (const f of list) service.ingest(toRawWebhook(f)).catch((e: unknown) => ctx.logger.error(`Call Control: saving a change failed: ${(e as Error).message}`));
      },
    });
    return new CallControlFeed(service, client, pbx, recorder);
  },
  startedLine: (s) => `Following extension ${s.extension} through 3CX Call Control at ${s.callControlPbx}`,
  restartKey: (s) => JSON.stringify([s.callControlPbx, s.callControlClientId, s.callControlCaFile, s.callControlSecretFile, s.extension]),
  // The secret is checked at start (it comes with the start's extra options, not the settings).
  notReady(s) {
    const problem = setupProblem(s, 'given at start');
    return problem ? { state: 'error', message: problem } : null;
  },
  failedState: (e) => ({ state: 'error', message: e.message }),
};
