// Failed-login throttling for the embedded broker, per source (IPv4 address, IPv6 /64) and per agent
// name, with exponential backoff. Without it, anyone who can reach the broker may guess passwords as
// fast as scrypt runs, and each guess costs the hub ~60 ms of CPU.
//
//   - a source with more than `freePerSource` failures is refused without a password check for
//     1 s, 2 s, 4 s … up to 5 min after each further failure; a success clears it;
//   - a name with more than `freePerName` failures (from anywhere: a botnet) gets at most one password
//     check a second from sources that did not log in as that name in the last 24 h (those are not
//     throttled by name at all): guessing slows to a crawl, yet the genuine agent, whose source is
//     not blocked, gets in on one of her client's retries instead of being locked out by someone
//     else's guesses;
//   - unknown names are counted like known ones (their refusals cost and look the same).
//
//   - a source with failed logins gets at most 2 checks running or waiting at once: a flood's guesses
//     are admitted faster than they fail, and would otherwise fill the check queue in front of a
//     genuine agent's login (an office logging in after a hub restart, with no failures, is not held);
//
// Throttled logins are refused with "server unavailable" (3), which clients retry later, never with
// "bad user name or password": a genuine agent behind an attacked address must not be told its
// password is wrong. Failures are forgotten after 15 minutes without one. Memory is bounded (LRU).
import { LruMap } from '../../../../shared/lru';
import { sourceKey } from '../../listener/connection-gate';

interface Failures {
  count: number;
  last: number;
  blockedUntil: number;
  /** Names: when the next check from an untrusted source may run. */
  nextCheckAt: number;
}

export interface LoginThrottleOptions {
  freePerSource?: number;
  freePerName?: number;
  now?: () => number;
}

const forgetMs = 15 * 60_000;
const maxBackoffMs = 5 * 60_000;
const trustMs = 24 * 3_600_000;
const nameCheckEveryMs = 1000;
const maxInFlightPerSource = 2;

export class LoginThrottle {
  private readonly bySource = new LruMap<string, Failures>(20_000);
  private readonly byName = new LruMap<string, Failures>(20_000);
  /** `name|source` → when it last logged in. */
  private readonly good = new LruMap<string, number>(20_000);
  /** Checks running or waiting per source. */
  private readonly inFlight = new Map<string, number>();
  private readonly freePerSource: number;
  private readonly freePerName: number;
  private readonly now: () => number;

  constructor(o: LoginThrottleOptions = {}) {
    this.freePerSource = o.freePerSource ?? 10;
    this.freePerName = o.freePerName ?? 20;
    this.now = o.now ?? Date.now;
  }

  /** Why a login from `address` as `name` is not checked now (null: check it). */
  blocked(address: string, name: string): string | null {
    const t = this.now();
    const source = sourceKey(address);
    const s = this.current(this.bySource, source, t);
    if (s && s.blockedUntil > t) return `${s.count} failed logins from ${source}; next try in ${Math.ceil((s.blockedUntil - t) / 1000)} s`;
    const n = this.current(this.byName, name, t);
    if (n && n.count > this.freePerName && !this.trusted(name, source, t)) {
      if (n.nextCheckAt > t) return `${n.count} failed logins as ${JSON.stringify(name.slice(0, 64))}; one check a second`;
      n.nextCheckAt = t + nameCheckEveryMs;
    }
    return null;
  }

  /** A check for this source may start (false: it has too many under way); call done() after it. */
  begin(address: string): boolean {
    const source = sourceKey(address);
    const n = this.inFlight.get(source) ?? 0;
    if (n >= maxInFlightPerSource && this.current(this.bySource, source, this.now())) return false;
    this.inFlight.set(source, n + 1);
    return true;
  }

  done(address: string): void {
    const source = sourceKey(address);
    const n = (this.inFlight.get(source) ?? 1) - 1;
    if (n > 0) this.inFlight.set(source, n);
    else this.inFlight.delete(source);
  }

  failed(address: string, name: string): void {
    const t = this.now();
    this.bump(this.bySource, sourceKey(address), this.freePerSource, t);
    this.bump(this.byName, name, Number.POSITIVE_INFINITY, t);
  }

  succeeded(address: string, name: string): void {
    const source = sourceKey(address);
    this.bySource.delete(source);
    this.good.set(`${name}|${source}`, this.now());
  }

  private trusted(name: string, source: string, t: number): boolean {
    const at = this.good.get(`${name}|${source}`);
    return at !== undefined && t - at < trustMs;
  }

  private current(map: LruMap<string, Failures>, key: string, t: number): Failures | undefined {
    const f = map.get(key);
    if (f && t - f.last > forgetMs) {
      map.delete(key);
      return undefined;
    }
    return f;
  }

  private bump(map: LruMap<string, Failures>, key: string, free: number, t: number): void {
    const f = this.current(map, key, t) ?? { count: 0, last: t, blockedUntil: 0, nextCheckAt: 0 };
    f.count++;
    f.last = t;
    if (f.count > free) f.blockedUntil = t + Math.min(maxBackoffMs, 1000 * 2 ** Math.min(20, f.count - free - 1));
    map.set(key, f);
  }
}
