// Call tracker: turns the PBX-wide webhook stream into the calls of ONE extension.
// Pure: events in, call updates out; the clock is injected. (Implementation in progress.)
import type { CallRecord, CallUpdate } from './call-record';
import type { WebhookEvent } from './webhook/event';

export interface TrackerOptions {
  /** This user's extension. */
  extension: string;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** A ringing call with no event for this long is closed as missed. Default 3 min. */
  ringTimeoutMs?: number;
  /** An answered call with no end event is closed after this long, duration unknown. Default 12 h. */
  talkTimeoutMs?: number;
  /** A recording with an unknown id may join a call of the same number ended this recently. Default 10 min. */
  recordingWindowMs?: number;
  /** How many calls of other extensions are remembered for correlation (LRU). Default 20,000. */
  maxForeignCalls?: number;
}

export class CallTracker {
  constructor(readonly options: TrackerOptions) {}

  /** Apply one webhook; returns this extension's records that changed (nothing for duplicates). */
  apply(_event: WebhookEvent): CallUpdate[] {
    throw new Error('not implemented yet');
  }

  /** Close calls that timed out (call every few seconds). */
  tick(): CallUpdate[] {
    throw new Error('not implemented yet');
  }

  /** Re-adopt calls still open in the log after a restart, and recently ended ones for late recordings. */
  restore(_records: readonly CallRecord[]): void {
    throw new Error('not implemented yet');
  }

  /** This extension's calls that are ringing or talking, newest first. */
  openCalls(): CallRecord[] {
    throw new Error('not implemented yet');
  }
}
