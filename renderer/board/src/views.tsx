// The board's parts: agents as a grid (free / ringing / talking / offline, with a live timer), queues
// with their waiting callers, today's figures per queue and per agent, and the shared callbacks.
// Components are memoised per agent and queue, so a board message re-renders only what changed.
import { memo } from 'react';
import type { BoardAgent, BoardMessage, BoardQueue, CallbackItem } from '../../../shared/team-protocol';
import { formatClock, formatDuration } from '../../src/common/format';
import { useSince } from './ticker';

const stateLabels: Record<BoardAgent['state'], string> = { free: 'Free', ringing: 'Ringing', talking: 'Talking', offline: 'Offline' };

function Since({ iso }: { iso: string }) {
  const ref = useSince(iso);
  return <span ref={ref} className="timer" />;
}

const AgentCard = memo(function AgentCard({ a }: { a: BoardAgent }) {
  return (
    <li className={`agent card ag-${a.state}`} aria-label={`${a.name}, extension ${a.ext}: ${stateLabels[a.state]}${a.number ? ` with ${a.number}` : ''}`}>
      <div className="agent-name">{a.name}</div>
      <div className="agent-ext muted">{a.ext}</div>
      <div className="agent-state">
        <span className="dot" aria-hidden="true" />
        {stateLabels[a.state]}
        {a.state !== 'offline' && <Since iso={a.since} />}
      </div>
      {/* Always there (empty when free): every card keeps its size, so a change re-lays out one card, not the grid. */}
      <div className="agent-number">{a.number ?? ''}</div>
    </li>
  );
}, (x, y) => x.a.ext === y.a.ext && x.a.name === y.a.name && x.a.state === y.a.state && x.a.since === y.a.since && x.a.number === y.a.number);

export function AgentsGrid({ agents }: { agents: BoardAgent[] }) {
  const counts = { free: 0, ringing: 0, talking: 0, offline: 0 };
  for (const a of agents) counts[a.state]++;
  return (
    <section className="panel agents" aria-labelledby="agents-h">
      <h2 id="agents-h">
        Agents <span className="muted counts">{counts.talking} talking · {counts.ringing} ringing · {counts.free} free · {counts.offline} offline</span>
      </h2>
      {agents.length === 0 ? <p className="muted">No agents yet (callpop hub agent add …).</p> : <ul className="agent-grid">{agents.map((a) => <AgentCard key={a.ext} a={a} />)}</ul>}
    </section>
  );
}

const QueueCard = memo(function QueueCard({ q }: { q: BoardQueue }) {
  const n = q.waiting.length;
  return (
    <li className={`queue card${n > 0 ? ' has-waiting' : ''}`}>
      <h3>
        {q.name} {q.name !== q.queue && <span className="muted">{q.queue}</span>}
      </h3>
      <p className="waiting-count">{n === 0 ? 'Nobody waiting' : `${n} waiting`}</p>
      {n > 0 && (
        <ol className="waiting" aria-label={`Callers waiting in ${q.name}`}>
          {q.waiting.slice(0, 20).map((w) => (
            <li key={w.callId}>
              <span className="number">{w.number || 'Withheld'}</span> <Since iso={w.since} />
            </li>
          ))}
          {n > 20 && <li className="muted">and {n - 20} more</li>}
        </ol>
      )}
    </li>
  );
}, (x, y) => x.q.name === y.q.name && x.q.waiting.length === y.q.waiting.length && x.q.waiting.every((w, i) => w.callId === y.q.waiting[i]!.callId && w.since === y.q.waiting[i]!.since && w.number === y.q.waiting[i]!.number));

export function Queues({ queues }: { queues: BoardQueue[] }) {
  const waiting = queues.reduce((n, q) => n + q.waiting.length, 0);
  return (
    <section className="panel queues" aria-labelledby="queues-h">
      <h2 id="queues-h">
        Queues <span className="muted counts" aria-live="polite">{waiting === 1 ? '1 caller waiting' : `${waiting} callers waiting`}</span>
      </h2>
      {queues.length === 0 ? <p className="muted">No queues yet (callpop hub queue set 820 --name Sales).</p> : <ul className="queue-list">{queues.map((q) => <QueueCard key={q.queue} q={q} />)}</ul>}
    </section>
  );
}

export function Today({ board }: { board: BoardMessage }) {
  const t = board.today;
  const names = new Map(board.agents.map((a) => [a.ext, a.name]));
  const queueNames = new Map(board.queues.map((q) => [q.queue, q.name]));
  const figures: [string, string][] = [
    ['Answered', String(t.answered)],
    ['Missed', String(t.missed)],
    ['Abandoned', String(t.abandoned)],
    ['Average wait', formatDuration(t.avgWaitSec)],
    ['Average talk', formatDuration(t.avgTalkSec)],
  ];
  const agents = Object.entries(t.byAgent).sort((a, b) => b[1].answered - a[1].answered);
  return (
    <section className="panel today" aria-labelledby="today-h">
      <h2 id="today-h">Today</h2>
      <dl className="figures">
        {figures.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <div className="tables">
        <table>
          <caption>Per queue</caption>
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col">Answered</th>
              <th scope="col">Abandoned</th>
              <th scope="col">Avg wait</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(t.byQueue).map(([q, f]) => (
              <tr key={q}>
                <th scope="row">{queueNames.get(q) ?? q}</th>
                <td>{f.answered}</td>
                <td>{f.abandoned}</td>
                <td>{formatDuration(f.avgWaitSec)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table>
          <caption>Per agent</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Answered</th>
              <th scope="col">Talk time</th>
            </tr>
          </thead>
          <tbody>
            {agents.slice(0, 50).map(([ext, f]) => (
              <tr key={ext}>
                <th scope="row">{names.get(ext) ?? ext}</th>
                <td>{f.answered}</td>
                <td>{formatDuration(f.talkSec)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function callbackState(i: CallbackItem): string {
  if (i.state === 'claimed' && i.claimedBy) return `${i.claimedBy.name} is calling back since ${formatClock(i.claimedBy.at)}`;
  if (i.state === 'done' && i.doneBy) {
    const how = i.doneBy.how === 'called-back' ? 'called back' : i.doneBy.how === 'called-again' ? 'caller called again' : 'marked done';
    return `Done by ${i.doneBy.name} at ${formatClock(i.doneBy.at)} (${how})`;
  }
  return 'Waiting for a call back';
}

export function Callbacks({ items, queueNames }: { items: CallbackItem[]; queueNames: Map<string, string> }) {
  const open = items.filter((i) => i.state !== 'done').length;
  return (
    <section className="panel callbacks" aria-labelledby="callbacks-h">
      <h2 id="callbacks-h">
        Callbacks <span className="muted counts">{open} to call back</span>
      </h2>
      {items.length === 0 ? (
        <p className="muted">No missed calls to call back today.</p>
      ) : (
        <ul className="callback-list">
          {items.slice(0, 100).map((i) => (
            <li key={i.id} className={`callback cb-${i.state}`}>
              <span className="number">{i.number}</span>
              <span className="muted">
                {i.queue ? (queueNames.get(i.queue) ?? i.queue) : `ext ${i.ext ?? '?'}`} · {i.attempts === 1 ? '1 missed call' : `${i.attempts} missed calls`} · first {formatClock(i.firstMissedAt)}
              </span>
              <span className="cb-state">{callbackState(i)}</span>
            </li>
          ))}
          {items.length > 100 && <li className="muted">and {items.length - 100} more</li>}
        </ul>
      )}
    </section>
  );
}
