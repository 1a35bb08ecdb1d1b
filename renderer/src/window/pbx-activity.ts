// "Last event 2 min ago" and when to worry about silence. Pure, so the rule is unit-tested.
//
// The rule: warn when nothing has arrived from the PBX for QUIET_MS (45 min) — counted from the last
// accepted webhook, or from when Callpop started listening if none came yet — during office hours
// (Monday to Friday, 08:00–18:00 local time), when calls would be expected. The webhook stream carries
// every extension's calls of the whole PBX, so 45 quiet minutes on a working day almost always means a
// broken connection (WebhooksApi.ini URL, firewall, the add-on stopped), not a calm hour.

export const QUIET_MS = 45 * 60_000;

/** "just now", "2 min ago", "3 h ago", "2 days ago". */
export function formatAgo(atMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (s < 60) return 'just now';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

/** Monday–Friday, 08:00–18:00 local time. */
export function isOfficeHours(at: Date): boolean {
  const day = at.getDay();
  const hour = at.getHours();
  return day >= 1 && day <= 5 && hour >= 8 && hour < 18;
}

/**
 * Whether the header warns: quiet for QUIET_MS during office hours. `sinceMs` is the last event, or
 * when listening began when no event came yet (null: unknown, no warning).
 */
export function pbxSilent(sinceMs: number | null, nowMs: number): boolean {
  if (sinceMs === null) return false;
  return nowMs - sinceMs >= QUIET_MS && isOfficeHours(new Date(nowMs));
}
