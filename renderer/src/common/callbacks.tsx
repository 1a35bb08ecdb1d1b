// The hub's shared callbacks in the app's windows (hub mode): one subscription per window to
// push:callbacks, the item a missed queue card belongs to ("Anna is calling back"), and claiming it
// before calling back, so two colleagues do not ring the same caller.
import { useSyncExternalStore } from 'react';
import type { CallView, CallbacksView } from '../../../shared/ipc/contract';
import { numberMatchKey } from '../../../shared/phone';
import type { CallbackItem } from '../../../shared/team-protocol';
import { api } from './api';
import { formatClock } from './format';

let current: CallbacksView = { items: [], extension: null };
const listeners = new Set<() => void>();
let started = false;

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  if (!started) {
    started = true;
    const set = (v: CallbacksView): void => {
      current = v;
      for (const l of listeners) l();
    };
    api().onCallbacks(set);
    void api()
      .listCallbacks()
      .then((v) => current.extension === null && current.items.length === 0 && set(v))
      .catch(() => {});
  }
  return () => listeners.delete(fn);
}

/** The callbacks this extension sees, kept up to date. */
export function useCallbacks(): CallbacksView {
  return useSyncExternalStore(subscribe, () => current);
}

/** The open or claimed item a missed call belongs to (same queue, or this extension's own, same number in any format). */
export function itemForCall(items: readonly CallbackItem[], call: Pick<CallView, 'number' | 'queue' | 'extension'>): CallbackItem | undefined {
  const key = numberMatchKey(call.number, '');
  if (key === '') return undefined;
  return items.find((i) => i.state !== 'done' && (call.queue ? i.queue === call.queue : i.ext === call.extension) && numberMatchKey(i.number, '') === key);
}

/** Claims the call's callback item first (if any, and not this extension's already); an error says who holds it. */
export async function claimBeforeCallBack(call: Pick<CallView, 'number' | 'queue' | 'extension'>): Promise<{ ok: true } | { ok: false; error: string }> {
  const { items, extension } = current;
  const item = itemForCall(items, call);
  if (!item || item.claimedBy?.ext === extension) return { ok: true };
  return api().actOnCallback({ id: item.id, action: 'claim' });
}

/** "Anna is calling back since 10:42" on a missed card whose callback someone claimed. */
export function CallbackClaimNote({ call }: { call: Pick<CallView, 'number' | 'queue' | 'extension' | 'status' | 'direction' | 'result'> }) {
  const { items, extension } = useCallbacks();
  if (call.status !== 'ended' || call.direction !== 'incoming' || call.result !== 'missed') return null;
  const item = itemForCall(items, call);
  if (!item?.claimedBy) return null;
  const who = item.claimedBy.ext === extension ? 'You are' : `${item.claimedBy.name} is`;
  return (
    <p className="via callback-claim" data-testid="callback-claim">
      {who} calling back since {formatClock(item.claimedBy.at)}
    </p>
  );
}
