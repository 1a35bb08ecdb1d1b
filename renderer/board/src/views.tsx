// The board's parts: agents as a grid (free / ringing / talking / offline, with a live timer), queues
// with their waiting callers, today's figures per queue and per agent, and the shared callbacks.
// Components are memoised per agent, per group of agents and per queue, and the tables and callbacks
// by their content, so a board message (1,000 agents, twice a second) re-renders only what changed.
import { memo } from 'react';
import type { BoardAgent, BoardMessage, BoardQueue, CallbackItem } from '../../../shared/team-protocol';
import { formatClock, formatDuration } from '../../src/common/format';
import { useSince } from './ticker';

const stateLabels: Record<BoardAgent['state'], string> = { free: 'Free', ringing: 'Ringing', talking: 'Talking', offline: 'Offline' };

function Since({ iso }: { iso: string }) {
  const ref = useSince(iso);
  return <span ref={ref} className="timer" />;
}

const sameAgent = (x: BoardAgent, y: BoardAgent): boolean => x.ext === y.ext && x.name === y.name && x.state === y.state && x.since === y.since && x.number === y.number;

const AgentCard = memo(function AgentCard({ a }: { a: BoardAgent }) {
  return (
    <li className={`agent card ag-${a.state}`} aria-label={`${a.name}, extension ${a.ext}: ${stateLabels[a.state]}${a.number ? ` with ${a.number}` : ''}`}>
      {/* The card's content in a box of its own (strict containment): a grid item is laid out with its
          grid, so a changed name, state or timer would lay out all 1,000 cards again; inside this box,
          only the box. The card itself changes only colours. */}
      <div className="agent-body">
        <div className="agent-name">{a.name}</div>
        <div className="agent-ext muted">{a.ext}</div>
        <div className="agent-state">
          <span className="dot" aria-hidden="true" />
          {stateLabels[a.state]}
          {a.state !== 'offline' && <Since iso={a.since} />}
        </div>
        {/* Always there (empty when free): every card keeps its size. */}
        <div className="agent-number">{a.number ?? ''}</div>
      </div>
    </li>
  );
}, (x, y) => sameAgent(x.a, y.a));

/** Agents per group: React compares 16 groups of a 1,000-agent board, and renders only a changed one's cards. */
const GROUP = 64;

// A fragment: the cards stay items of the one grid (and of the one list for screen readers).
const AgentGroup = memo(
  function AgentGroup({ agents }: { agents: BoardAgent[] }) {
    return (
      <>
        {agents.map((a) => (
          <AgentCard key={a.ext} a={a} />
        ))}
      </>
    );
  },
  (x, y) => x.agents.length === y.agents.length && x.agents.every((a, i) => sameAgent(a, y.agents[i]!)),
);

export function AgentsGrid({ agents }: { agents: BoardAgent[] }) {
  const counts = { free: 0, ringing: 0, talking: 0, offline: 0 };
  for (const a of agents) counts[a.state]++;
  const groups: BoardAgent[][] = [];
  for (let i = 0; i < agents.length; i += GROUP) groups.push(agents.slice(i, i + GROUP));
  return (
    <section className="panel agents" aria-labelledby="agents-h">
      <h2 id="agents-h">
        Agents <span className="muted counts">{counts.talking} talking · {counts.ringing} ringing · {counts.free} free · {counts.offline} offline</span>
      </h2>
      {agents.length === 0 ? (
        <p className="muted">No agents yet (callpop hub agent add …).</p>
      ) : (
        <ul className="agent-grid">
          {groups.map((g) => (
            <AgentGroup key={g[0]!.ext} agents={g} />
          ))}
        </ul>
      )}
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

/** One table of today's figures (per queue, per agent): a caption, column heads, rows headed by a name. */
const FigureTable = memo(
  function FigureTable({ caption, columns, rows }: { caption: string; columns: readonly string[]; rows: readonly (readonly string[])[] }) {
    return (
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(([head, ...cells], r) => (
            <tr key={r}>
              <th scope="row">{head}</th>
              {cells.map((c, i) => (
                <td key={i}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    );
  },
  (x, y) => x.caption === y.caption && x.columns === y.columns && JSON.stringify(x.rows) === JSON.stringify(y.rows),
);

const queueColumns = ['Queue', 'Answered', 'Abandoned', 'Avg wait'] as const;
const agentColumns = ['Agent', 'Answered', 'Talk time'] as const;

export function Today({ board }: { board: BoardMessage }) {
  const t = board.today;
  const queueNames = new Map(board.queues.map((q) => [q.queue, q.name]));
  const figures: [string, string][] = [
    ['Answered', String(t.answered)],
    ['Missed', String(t.missed)],
    ['Abandoned', String(t.abandoned)],
    ['Average wait', formatDuration(t.avgWaitSec)],
    ['Average talk', formatDuration(t.avgTalkSec)],
  ];
  const queueRows = Object.entries(t.byQueue).map(([q, f]) => [queueNames.get(q) ?? q, String(f.answered), String(f.abandoned), formatDuration(f.avgWaitSec)]);
  // The 50 agents who answered most (names looked up for those only).
  const top = Object.entries(t.byAgent)
    .sort((a, b) => b[1].answered - a[1].answered)
    .slice(0, 50);
  const wanted = new Set(top.map(([ext]) => ext));
  const names = new Map(board.agents.filter((a) => wanted.has(a.ext)).map((a) => [a.ext, a.name]));
  const agentRows = top.map(([ext, f]) => [names.get(ext) ?? ext, String(f.answered), formatDuration(f.talkSec)]);
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
        <FigureTable caption="Per queue" columns={queueColumns} rows={queueRows} />
        <FigureTable caption="Per agent" columns={agentColumns} rows={agentRows} />
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

export const Callbacks = memo(function Callbacks({ items, queueNames }: { items: CallbackItem[]; queueNames: ReadonlyMap<string, string> }) {
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
});
