// Reconnect delays: exponential with "equal jitter" (half fixed, half random), so a thousand desktops
// that lost the broker at the same moment do not all come back in the same second.
export interface Backoff {
  next(): number;
  reset(): void;
}

export function backoff(options: { initialMs?: number; maxMs?: number; random?: () => number } = {}): Backoff {
  const initial = options.initialMs ?? 1000;
  const max = options.maxMs ?? 60_000;
  const random = options.random ?? Math.random;
  let attempt = 0;
  return {
    next() {
      const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
      attempt++;
      return Math.round(ceiling / 2 + random() * (ceiling / 2));
    },
    reset() {
      attempt = 0;
    },
  };
}
