// Whether two call records say the same thing, apart from `seen` (a local mark): field by field, in any
// key order. The local call log and the hub write the same fields in different orders, so comparing
// JSON text took every call caught up again (a backfill from 0) for a change and printed "updated".
// Pure TypeScript (shared/): fields hold primitives or arrays of primitives.
import type { CallRecord } from './call-record';

export function sameCallExceptSeen(a: CallRecord, b: CallRecord): boolean {
  const ka = Object.keys(a).filter((k) => k !== 'seen');
  const kb = Object.keys(b).filter((k) => k !== 'seen');
  if (ka.length !== kb.length) return false;
  const av = a as unknown as Record<string, unknown>;
  const bv = b as unknown as Record<string, unknown>;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && JSON.stringify(av[k]) === JSON.stringify(bv[k]));
}
