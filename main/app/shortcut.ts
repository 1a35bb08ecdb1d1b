// The global shortcut that brings the popup's newest card under the keyboard (Settings → Popup →
// Keyboard shortcut; a policy may lock it). Electron's globalShortcut sits behind ShortcutOps so tests
// drive it; the OS may refuse a shortcut another app holds, which is reported (shown in Settings).
export interface ShortcutOps {
  /** false (or a throw, for an accelerator Electron cannot parse) when the OS refuses it. */
  register(accelerator: string, callback: () => void): boolean;
  unregister(accelerator: string): void;
}

export class GlobalShortcut {
  private current: string | null = null;
  private problem: string | null = null;

  constructor(
    private readonly ops: ShortcutOps,
    private readonly onPress: () => void,
  ) {}

  /** Why the configured shortcut is not active, or null. */
  get error(): string | null {
    return this.problem;
  }

  /** The shortcut that is registered now, or null. */
  get active(): string | null {
    return this.current;
  }

  /** Register `accelerator` instead of the current one ("" = none). Returns the error, or null. */
  apply(accelerator: string): string | null {
    const next = accelerator.trim();
    if (next === this.current && this.problem === null) return null;
    this.release();
    this.problem = null;
    if (next === '') return null;
    let ok = false;
    let why = '';
    try {
      ok = this.ops.register(next, this.onPress);
    } catch (e) {
      why = ` (${e instanceof Error ? e.message : String(e)})`;
    }
    if (ok) this.current = next;
    else this.problem = `The system refused the shortcut ${next}: another app may be using it${why}. Choose another one.`;
    return this.problem;
  }

  /** Unregister (quit). */
  release(): void {
    if (this.current === null) return;
    try {
      this.ops.unregister(this.current);
    } catch {
      /* already gone (app quitting) */
    }
    this.current = null;
  }
}
