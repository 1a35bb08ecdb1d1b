// One small typed event emitter with an unsubscribe, instead of a hand-kept listener Set per event in
// every class (as vscode's base/common/event.ts Emitter<T> and MQTT.js's TypedEmitter). Listeners are
// kept in an array replaced on change, so an emit (the hot path: every call change) walks a plain
// array and a listener that unsubscribes while being called does not upset the walk.

/** Adds a listener; returns the function that removes it again. */
export type Event<T> = (listener: (value: T) => void) => () => void;

export class Emitter<T> {
  private listeners: readonly ((value: T) => void)[] = [];

  /**
   * @param onError when given, a listener that throws is reported here and the others still run;
   *   without it the error propagates to whoever emitted (and later listeners are skipped).
   */
  constructor(private readonly onError?: (error: unknown) => void) {}

  /** Subscribe (pass it around as an `Event<T>`); the returned function unsubscribes. */
  readonly on: Event<T> = (listener) => {
    this.listeners = [...this.listeners, listener];
    let on = true;
    return () => {
      if (!on) return;
      on = false;
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners = [...this.listeners.slice(0, i), ...this.listeners.slice(i + 1)];
    };
  };

  emit(value: T): void {
    const listeners = this.listeners;
    if (!this.onError) {
      for (const fn of listeners) fn(value);
      return;
    }
    for (const fn of listeners) {
      try {
        fn(value);
      } catch (e) {
        this.onError(e);
      }
    }
  }

  get size(): number {
    return this.listeners.length;
  }
}
