// Which of the hub's live changes a client applies, holds or drops, and when it has missed one — by
// the hub's sequence numbers alone, not by trusting the broker to deliver everything once and in time.
// A broker cluster does neither (issue #22): a change can be lost in flight after the hub's PUBACK
// when a node dies, and a client coming back can be handed live changes queued while it was away,
// for calls that ended since (popped, they would ring again).
//
//   - `applied`: every change up to this seq has been applied (a sync answer's head, or a live change
//     whose predecessor for this extension, `prevSeq`, was applied);
//   - until the catch-up after a connect is complete, live changes are held, then applied only when
//     newer than what the catch-up held (a live change at or below `applied` is already in it);
//   - a live change whose `prevSeq` was never applied, or a head beat (the seq of this extension's
//     latest change, ../../hub/extension-heads.ts) above `applied` that the change does not follow,
//     means one was missed: ask for a sync from the durable watermark.
import type { CallChangeMessage } from '../../../shared/hub-protocol';

/** Live changes held during one catch-up at most; beyond, they are dropped and a sync fetches them. */
export const MAX_HELD = 10_000;

export type LiveVerdict =
  /** Apply it now as a live change (pop it). */
  | 'apply'
  /** Held until the catch-up is complete. */
  | 'held'
  /** At or below what is applied: a duplicate, or older than what the catch-up brought. */
  | 'stale'
  /** Newer, but a change before it was missed: apply it, and ask for a sync (nothing moves past the gap). */
  | 'gap';

export class SeqGate {
  private held: CallChangeMessage[] = [];
  private overflow = false;
  private catchingUp = true;

  constructor(
    /** Every change up to here has been applied (received; maybe not yet durable). */
    public applied: number,
  ) {}

  /** A (re)connect: live changes are held until catchUpDone; what was held before is dropped (the next sync brings it). */
  connecting(): void {
    this.catchingUp = true;
    this.held = [];
    this.overflow = false;
  }

  get holding(): boolean {
    return this.catchingUp;
  }

  /** A live change as it arrives. */
  live(m: CallChangeMessage): LiveVerdict {
    if (this.catchingUp) {
      if (this.held.length < MAX_HELD) this.held.push(m);
      else this.overflow = true;
      return 'held';
    }
    return this.check(m);
  }

  /**
   * The catch-up is complete up to the hub's `headSeq`: returns the held changes to apply live (newer
   * than the catch-up), in seq order, and whether one was missed (then a sync is due: `gap`).
   */
  catchUpDone(headSeq: number): { apply: CallChangeMessage[]; gap: boolean } {
    this.catchingUp = false;
    this.applied = Math.max(this.applied, headSeq);
    const held = this.held.sort((a, b) => a.seq - b.seq);
    const overflow = this.overflow;
    this.held = [];
    this.overflow = false;
    const apply: CallChangeMessage[] = [];
    let gap = overflow;
    for (const m of held) {
      const v = this.check(m);
      if (v === 'stale') continue;
      apply.push(m);
      if (v === 'gap') gap = true;
    }
    return { apply, gap };
  }

  /** A head beat: the seq of this extension's latest change. True when a change up to it is not applied. */
  behind(head: number): boolean {
    return !this.catchingUp && head > this.applied;
  }

  /** A sync is asked for again (after a gap): live changes are held until it is done. */
  resync(): void {
    this.catchingUp = true;
  }

  private check(m: CallChangeMessage): LiveVerdict {
    if (m.seq <= this.applied) return 'stale';
    if (m.prevSeq !== undefined && m.prevSeq > this.applied) return 'gap';
    this.applied = m.seq;
    return 'apply';
  }
}
