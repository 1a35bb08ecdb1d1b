// The feed the desktop core runs while the kind the settings name cannot run (hub mode without an
// address or password, or a start that failed): the call log is open (the app shows its history),
// nothing runs, and the status says what is missing in the kind's own words (FeedKind.notReady /
// failedState).
import type { CallRecord, CallUpdate } from '../../../shared/call-record';
import { Emitter, type Event } from '../../../shared/emitter';
import type { ServiceState } from '../../../shared/source-state';
import type { CallSource } from '../../../shared/settings';
import type { CallLogStore } from '../call-log/store';
import type { CallFeed } from './call-feed';

export class IdleFeed implements CallFeed {
  private readonly never = new Emitter<never>();
  readonly changes = this.never.on as Event<CallUpdate[]>;
  readonly durable = this.never.on as Event<CallUpdate[]>;
  readonly statusChanged = this.never.on as Event<void>;
  readonly directoryChanged = this.never.on as Event<void>;

  constructor(
    readonly kind: CallSource,
    readonly store: CallLogStore,
    private readonly state: ServiceState,
  ) {}

  status(): ServiceState {
    return this.state;
  }
  openCalls(): CallRecord[] {
    return [];
  }
  addresses(): string[] {
    return [];
  }
  directory(): Record<string, string> {
    return {};
  }
  clearCall(): Promise<boolean> {
    return Promise.resolve(false);
  }
  reconnectNow(): void {}
  async update(): Promise<void> {}
  async close(options: { keepStore?: boolean } = {}): Promise<void> {
    if (!options.keepStore) await this.store.close();
  }
}
