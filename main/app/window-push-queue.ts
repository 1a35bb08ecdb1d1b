// Pushes from main to the windows. A window gets nothing until its page called
// app:rendererReady: until then pushes queue per window and are flushed in order, so events that
// arrive before React has mounted are never lost. A reload starts queueing again.
import type { PushChannel, PushMap } from '../../shared/ipc/contract';

export interface PushTarget {
  id: number;
  send(channel: string, payload: unknown): void;
  isDestroyed(): boolean;
}

interface Slot {
  target: PushTarget;
  ready: boolean;
  queue: { channel: PushChannel; payload: unknown }[];
}

/** Pushes only the main window listens to: the popup is not sent them (one IPC message less per call each). */
export const MAIN_WINDOW_ONLY: ReadonlySet<PushChannel> = new Set<PushChannel>(['push:logChanged', 'push:navigate']);

/** Beyond this a window that never becomes ready stops growing memory (oldest dropped). */
export const MAX_QUEUED = 10_000;

export class WindowPushQueue {
  private readonly slots = new Map<number, Slot>();
  dropped = 0;

  add(target: PushTarget): void {
    this.slots.set(target.id, { target, ready: false, queue: [] });
  }

  remove(id: number): void {
    this.slots.delete(id);
  }

  /** The page is (re)loading: queue until it says it is ready again. */
  unready(id: number): void {
    const slot = this.slots.get(id);
    if (slot) slot.ready = false;
  }

  ready(id: number): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    slot.ready = true;
    for (const item of slot.queue.splice(0)) this.deliver(slot, item.channel, item.payload);
  }

  isReady(id: number): boolean {
    return this.slots.get(id)?.ready ?? false;
  }

  /** To every window (or those `only` accepts). */
  push<P extends PushChannel>(channel: P, payload: PushMap[P], only?: (id: number) => boolean): void {
    for (const slot of this.slots.values()) if (!only || only(slot.target.id)) this.enqueue(slot, channel, payload);
  }

  pushTo<P extends PushChannel>(id: number, channel: P, payload: PushMap[P]): void {
    const slot = this.slots.get(id);
    if (slot) this.enqueue(slot, channel, payload);
  }

  private enqueue(slot: Slot, channel: PushChannel, payload: unknown): void {
    if (slot.target.isDestroyed()) {
      this.slots.delete(slot.target.id);
      return;
    }
    if (slot.ready) return this.deliver(slot, channel, payload);
    slot.queue.push({ channel, payload });
    if (slot.queue.length > MAX_QUEUED) {
      slot.queue.shift();
      this.dropped += 1;
    }
  }

  private deliver(slot: Slot, channel: PushChannel, payload: unknown): void {
    if (!slot.target.isDestroyed()) slot.target.send(channel, payload);
  }
}
