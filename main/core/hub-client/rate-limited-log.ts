// Bad messages from the network are logged, but a broker or peer that floods them must not flood the
// log: one line per kind per interval, with how many were not shown.
import type { Logger } from '../../../shared/log';

export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(kind: string, message: string): void {
    const t = this.now();
    const seen = this.last.get(kind);
    if (seen && t - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const more = seen && seen.suppressed > 0 ? ` (${seen.suppressed} more like it not shown)` : '';
    this.last.set(kind, { at: t, suppressed: 0 });
    this.logger.warn(`${message}${more}`);
  }
}
