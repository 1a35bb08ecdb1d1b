// Feed kind `listener`: this PC receives the 3CX WebAPI webhooks itself (WebhookReceiver: the listener,
// the tracker and the call log). The entry of the feed table (../feed/kinds.ts) and the CallFeed over
// a running service.
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import { Emitter, type Event } from '../../../shared/emitter';
import type { ServiceState } from '../../../shared/source-state';
import type { Settings } from '../../../shared/settings';
import type { CallFeed, FeedKind } from '../feed/call-feed';
import { WebhookReceiver } from './webhook-receiver';

export class ListenerFeed implements CallFeed {
  readonly kind = 'listener' as const;
  readonly changes: Event<CallUpdate[]>;
  readonly durable: Event<CallUpdate[]>;
  readonly statusChanged: Event<void>;
  /** A listener has no directory: never fires. */
  readonly directoryChanged: Event<void> = new Emitter<void>().on;

  constructor(readonly service: WebhookReceiver) {
    this.changes = service.onUpdates;
    this.durable = service.onDurable;
    this.statusChanged = (fn) => service.onStatus(() => fn());
  }

  get store() {
    return this.service.store;
  }

  status(): ServiceState {
    const { state, notice } = this.service.status();
    return state.state === 'listening' && notice ? { ...state, notice } : state;
  }

  openCalls(): CallRecord[] {
    return this.service.openCalls();
  }

  addresses(): string[] {
    return this.service.status().urls;
  }

  directory(): Record<string, string> {
    return {};
  }

  clearCall(callId: string): Promise<boolean> {
    return this.service.clearCall(callId);
  }

  reconnectNow(): void {}

  update(settings: Settings): Promise<void> {
    return this.service.updateSettings(settings);
  }

  close(options?: { keepStore?: boolean }): Promise<void> {
    return this.service.close(options);
  }
}

export const listenerKind: FeedKind = {
  async start(ctx) {
    const service = await WebhookReceiver.start({
      dataDir: ctx.dataDir,
      settings: ctx.settings,
      logger: ctx.logger,
      now: ctx.now,
      tickMs: ctx.tickMs,
      store: ctx.store,
      allowLoopback: ctx.allowLoopback,
    });
    return new ListenerFeed(service);
  },
  // The service logs where it listens.
  startedLine: () => null,
  // Every settings change is applied in place (the service rebinds only when it must).
  restartKey: () => '',
  notReady: () => null,
  failedState: () => null,
};
