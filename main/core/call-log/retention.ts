// Retention of a call log (settings.retentionDays): what is older goes, once at start, whenever the
// setting changes and once a day. One implementation for whoever owns a log: the listener service
// over a log it opened itself (`callpop serve`), the desktop core over the data folder's log whatever
// feed writes it, and the hub over its PBX-wide log.
import type { Logger } from '../../../shared/diagnostics-log';

const dayMs = 86_400_000;

export interface Retention {
  /** Prunes now (never rejects: a failure is logged). */
  run(): Promise<void>;
  stop(): void;
}

export interface RetentionOptions {
  /** The log to prune (read at each run: the owner may swap it). */
  log: () => { prune(olderThanMs: number): Promise<number> };
  /** Days to keep; 0 = keep everything (read at each run). */
  days: () => number;
  now: () => number;
  logger: Logger;
  /** How the log lines name what was pruned (the call log's wording by default). */
  words?: { deleted: (n: number, days: number) => string; failed: (message: string) => string };
}

const callLogWords: NonNullable<RetentionOptions['words']> = {
  deleted: (n, days) => `Retention: deleted ${n} call(s) older than ${days} days`,
  failed: (message) => `Retention prune failed: ${message}`,
};

/** Starts the daily prune (the first run is the caller's: `await retention.run()` where it starts). */
export function keepRetention(o: RetentionOptions): Retention {
  const words = o.words ?? callLogWords;
  let stopped = false;
  const run = async (): Promise<void> => {
    const days = o.days();
    if (days <= 0 || stopped) return;
    try {
      const n = await o.log().prune(o.now() - days * dayMs);
      if (n > 0) o.logger.info(words.deleted(n, days));
    } catch (e) {
      o.logger.error(words.failed((e as Error).message));
    }
  };
  const timer = setInterval(() => void run(), dayMs);
  timer.unref();
  return {
    run,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
