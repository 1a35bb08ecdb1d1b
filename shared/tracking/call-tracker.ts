// Call tracker for ONE extension (the desktop): the PBX-wide tracker (shared/tracking/) tracking
// just this extension, so both follow the same rules from the same code. Pure: events in, call
// updates out; the clock is injected.
import type { CallRecord, CallUpdate } from '../call-record';
import { PbxTracker } from './pbx-tracker';
import type { WebhookEvent } from '../webhook/event';

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
  /** How many call ids of the PBX are remembered for correlation (LRU). Default 20,000. */
  maxForeignCalls?: number;
}

export class CallTracker {
  private readonly pbx: PbxTracker;

  constructor(readonly options: TrackerOptions) {
    const ext = options.extension;
    this.pbx = new PbxTracker({
      now: options.now,
      ringTimeoutMs: options.ringTimeoutMs,
      talkTimeoutMs: options.talkTimeoutMs,
      recordingWindowMs: options.recordingWindowMs,
      maxCalls: options.maxForeignCalls ?? 20_000,
      tracks: (x) => x === ext,
    });
  }

  /** Apply one webhook; returns this extension's records that changed (nothing for duplicates). */
  apply(event: WebhookEvent): CallUpdate[] {
    return this.pbx.apply(event);
  }

  /** Close calls that timed out and forget ended ones past the recording window (call every few seconds). */
  tick(): CallUpdate[] {
    return this.pbx.tick();
  }

  /** Re-adopt calls still open in the log after a restart, and recently ended ones for late recordings. */
  restore(records: readonly CallRecord[]): void {
    this.pbx.restore(records);
  }

  /** This extension's calls that are ringing or talking, newest first. */
  openCalls(): CallRecord[] {
    return this.pbx.openCalls(this.options.extension);
  }

  /** For tests and the memory benchmark: call ids remembered PBX-wide, and this extension's records held. */
  get size(): { foreign: number; own: number } {
    const s = this.pbx.size;
    return { foreign: s.known, own: s.calls };
  }
}
