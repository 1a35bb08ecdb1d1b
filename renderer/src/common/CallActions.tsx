// Acting on the agent's own call from its card (issue 18 §2): Answer, Hang up, Transfer to… (Call back
// dials from the agent's own phone where the source can: main/app/call-from-own-phone.ts). Each is
// shown only when the source of calls can do it (`calls:actions`: a hub on 3CX Call Control does them
// all, a hub with the WebAPI add-on's key only places calls, a PC's own listener none), and every
// failure is shown in words; nothing is retried. Kept out of CallCard.tsx (one line there) so the
// card's layout stays its own.
import { useEffect, useState } from 'react';
import type { CallActionName, CallView } from '../../../shared/ipc/contract';
import { api } from './api';

/** What `calls:act` accepts as a destination: digits, with an optional leading + (and * #). */
const dialable = (n: string): string | null => {
  const d = n.replace(/[\s().-]/g, '');
  return /^\+?[0-9*#]{1,32}$/.test(d) ? d : null;
};

function useCallActions(): ReadonlySet<CallActionName> {
  const [actions, setActions] = useState<ReadonlySet<CallActionName>>(new Set());
  useEffect(() => {
    let live = true;
    const load = () =>
      void api()
        .callActions()
        .then((a) => live && setActions(new Set(a)))
        .catch(() => undefined);
    load();
    // The hub says what it can do in its status: ask again when the connection changes.
    const off = api().onStatus(load);
    return () => {
      live = false;
      off();
    };
  }, []);
  return actions;
}

export function CallActions({ call }: { call: CallView }) {
  const actions = useCallActions();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [transferTo, setTransferTo] = useState<string | null>(null);
  const [colleagues, setColleagues] = useState<[string, string][]>([]);
  const choosing = transferTo !== null;
  useEffect(() => {
    if (!choosing) return;
    let on = true;
    void api()
      .colleagues()
      .then((d) => on && setColleagues(Object.entries(d).filter(([ext]) => ext !== call.extension)))
      .catch(() => undefined);
    return () => {
      on = false;
    };
  }, [choosing, call.extension]);
  const live = call.status !== 'ended';

  const run = async (action: CallActionName, destination?: string) => {
    setBusy(true);
    setResult(null);
    try {
      const r = await api().actOnCall({ action, ...(action !== 'call' && { callId: call.id }), ...(destination !== undefined && { destination }) });
      setResult(r.ok ? 'Done.' : r.error);
      if (r.ok) setTransferTo(null);
    } catch (e) {
      setResult((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const show = {
    hangup: actions.has('hangup') && live,
    transfer: actions.has('transfer') && call.status === 'talking',
    answer: actions.has('answer') && call.status === 'ringing' && call.direction === 'incoming',
  };
  if (!show.hangup && !show.transfer && !show.answer) return null;
  const target = transferTo === null ? null : dialable(transferTo);
  return (
    <span className="call-actions" data-testid="call-actions">
      {show.answer && (
        <button type="button" className="primary" disabled={busy} onClick={() => void run('answer')}>
          Answer
        </button>
      )}
      {show.hangup && (
        <button type="button" disabled={busy} onClick={() => void run('hangup')}>
          Hang up
        </button>
      )}
      {show.transfer && transferTo === null && (
        <button type="button" disabled={busy} onClick={() => setTransferTo('')}>
          Transfer to…
        </button>
      )}
      {show.transfer && transferTo !== null && (
        <form
          className="transfer"
          onSubmit={(e) => {
            e.preventDefault();
            if (target) void run('transfer', target);
          }}
        >
          <input
            aria-label="Transfer to (extension or number)"
            placeholder="Colleague's extension or a number"
            list={`colleagues-${call.id}`}
            value={transferTo}
            maxLength={40}
            onChange={(e) => setTransferTo(e.target.value)}
            autoFocus
          />
          {/* Colleagues by name (the hub's directory): picking one fills in the extension. */}
          <datalist id={`colleagues-${call.id}`}>
            {colleagues.map(([ext, name]) => (
              <option key={ext} value={ext}>
                {name}
              </option>
            ))}
          </datalist>
          <button type="submit" disabled={busy || target === null}>
            Transfer
          </button>
          <button type="button" onClick={() => setTransferTo(null)}>
            Cancel
          </button>
        </form>
      )}
      {result && (
        <span className="note" role="status">
          {result}
        </span>
      )}
    </span>
  );
}
