// Log lines about refused or malformed things from the network (webhook requests, broker logins, hub
// messages), without letting a flood fill the log: a few lines per window, then one count of what was
// left out.
import type { Logger } from '../../shared/diagnostics-log';

export class RateLimitedLog {
  private windowStart = 0;
  private logged = 0;
  private suppressed = 0;
  constructor(
    private readonly logger: Logger,
    /** What the suppressed lines were, for the summary ("broker refusals"). */
    private readonly what: string,
    private readonly perWindow = 5,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  note(line: string): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) this.logger.warn(`${this.suppressed} more ${this.what} in the last ${Math.round(this.windowMs / 1000)} s`);
      this.windowStart = t;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (this.logged < this.perWindow) {
      this.logged++;
      this.logger.warn(line);
    } else this.suppressed++;
  }
}
