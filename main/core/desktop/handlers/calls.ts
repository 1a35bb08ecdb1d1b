// The "calls:" channels: the open calls, one call, its caller's history, clearing a stuck call, and
// the call actions (Call Control or the hub's) with the colleagues they can go to.
import { isTestCallId } from '../../../../shared/test-call-id';
import { numberMatchKey } from '../../../../shared/phone';
import { findSeedFlow, flowSteps } from '../../../../shared/webhook/seed-flows';
import { testCallFlow } from '../../listener/test-call';
import type { CoreContext, HandlersOf } from './context';

export function callHandlers(ctx: CoreContext): HandlersOf<'calls'> {
  const { source, notes, view, findCall } = ctx;
  // Test calls stay in the log (marked by their id, shown as TEST) but are nobody's history. They all
  // come from the seed flow's caller, so only that number's history is counted again without them.
  const seed = findSeedFlow(testCallFlow);
  const testCaller = seed ? String(flowSteps(seed)[0]?.fields?.Callerid ?? '') : '';
  const historyOf = (number: string, excludeId: string | undefined) => {
    // Earlier calls only: those that started before the call shown (all logged ones for a new call).
    const shown = excludeId ? findCall(excludeId) : null;
    const beforeMs = shown ? Date.parse(shown.startedAt) : Infinity;
    const h = source.store.history(number, excludeId, 3, beforeMs);
    const country = source.settings.defaultCountry;
    const key = numberMatchKey(number, country);
    if (h.count === 0 || key === '' || key !== numberMatchKey(testCaller, country)) return h;
    const calls = [...source.store.iterate({ text: number })].filter((r) => r.id !== excludeId && Date.parse(r.startedAt) < beforeMs && !isTestCallId(r.id) && numberMatchKey(r.number, country) === key);
    const missed = calls.filter((r) => r.status === 'ended' && r.result === 'missed' && r.direction === 'incoming').length;
    return { ...h, count: calls.length, missed, last: calls[0] ?? null, recent: calls.slice(0, 3) };
  };

  return {
    'calls:active': () => source.openCalls().map(view),
    'calls:get': ({ callId }) => {
      const call = findCall(callId);
      return call ? view(call) : null;
    },
    'calls:clear': async ({ callId }) =>
      (await source.clearCall(callId)) ? { ok: true } : { ok: false, error: 'That call is not active any more.' },
    'calls:actions': () => [...source.callActions()],
    'calls:colleagues': () => ({ ...source.directory() }),
    'calls:act': async ({ action, callId, destination }) => {
      const r = await source.act(action, { ...(callId !== undefined && { callId }), ...(destination !== undefined && { destination }) });
      return r.ok ? { ok: true } : { ok: false, error: r.error ?? 'The action failed.' };
    },
    'calls:history': ({ number, excludeCallId }) => {
      const h = historyOf(number, excludeCallId);
      const lastNote = notes.lastFor(number, excludeCallId);
      return {
        number,
        count: h.count,
        missed: h.missed,
        last: h.last ? view(h.last) : null,
        recent: h.recent.map(view),
        lastNote: lastNote ? { text: lastNote.text, at: lastNote.at, callId: lastNote.callId } : null,
      };
    },
  };
}
