// Whether two call records say the same thing, apart from `seen` (a local mark): field by field, in any
// key order. The local call log and the hub write the same fields in different orders, so comparing
// JSON text took every call caught up again (a backfill from 0) for a change and printed "updated".
// Pure TypeScript (shared/): fields hold primitives or arrays of primitives. An optional field absent
// on one side and null on the other is the same (the log stores every column, so a record read back
// has `endedBy: null` where the tracker's, or an older hub's, has no such key).
import type { CallRecord } from './call-record';

export function sameCallExceptSeen(a: CallRecord, b: CallRecord): boolean {
  const av = a as unknown as Record<string, unknown>;
  const bv = b as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('seen');
  for (const k of keys) if (JSON.stringify(av[k] ?? null) !== JSON.stringify(bv[k] ?? null)) return false;
  return true;
}
