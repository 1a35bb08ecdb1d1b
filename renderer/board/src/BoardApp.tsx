// The supervisors' board: a login (name and password of a supervisor, checked by the hub's broker),
// then the team live. Wall-display mode (?wall=1, or the button; Esc leaves it) shows large type and no
// controls; the theme follows the system unless ?theme=light|dark or the button says otherwise.
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { BoardMessage, CallbackItem } from '../../../shared/team-protocol';
import { useTheme } from '../../src/common/hooks';
import { LoginRefused, boardSite, connectBoard, type BoardConnection, type ConnectionState } from './connection';
import { AgentsGrid, Callbacks, Queues, Today } from './views';

type Theme = 'system' | 'light' | 'dark';
const params = new URLSearchParams(location.search);
const themeParam = params.get('theme');
const initialTheme: Theme = themeParam === 'light' || themeParam === 'dark' ? themeParam : 'system';
const nextTheme: Record<Theme, Theme> = { system: 'light', light: 'dark', dark: 'system' };

const stateText: Record<ConnectionState, string> = { connecting: 'Connecting…', online: 'Live', reconnecting: 'Reconnecting…', closed: 'Disconnected' };

export function BoardApp() {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const [wall, setWall] = useState(params.get('wall') === '1');
  const [conn, setConn] = useState<BoardConnection | null>(null);
  const [state, setState] = useState<ConnectionState>('connecting');
  const [board, setBoard] = useState<BoardMessage | null>(null);
  const [items, setItems] = useState<CallbackItem[]>([]);
  useTheme(theme);

  useEffect(() => {
    document.documentElement.classList.toggle('wall', wall);
    if (!wall) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') setWall(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [wall]);

  const login = async (name: string, password: string): Promise<void> => {
    const site = await boardSite();
    const c = await connectBoard(site, name, password, {
      board: setBoard,
      callbacks: (m) => setItems(m.items),
      state: setState,
    });
    setState('online');
    setConn(c);
  };
  const logout = (): void => {
    conn?.close();
    setConn(null);
    setBoard(null);
    setItems([]);
  };

  if (!conn) return <Login onLogin={login} />;
  return (
    <div className="board">
      <header className="board-head">
        <h1>Team board</h1>
        <span className={`conn conn-${state}`} role="status">
          {stateText[state]}
        </span>
        {board && <Summary board={board} />}
        <div className="controls">
          <button type="button" onClick={() => setWall(true)} title="Large type, no controls; Esc leaves it">
            Wall display
          </button>
          <button type="button" onClick={() => setTheme(nextTheme[theme])} aria-label={`Theme: ${theme}. Change theme`}>
            Theme: {theme}
          </button>
          <button type="button" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      {board ? <BoardBody board={board} items={items} /> : <p className="muted loading">Waiting for the hub…</p>}
    </div>
  );
}

function Summary({ board }: { board: BoardMessage }) {
  const waiting = board.queues.reduce((n, q) => n + q.waiting.length, 0);
  const longest = board.queues.reduce((m, q) => Math.max(m, q.longestWaitSec), 0);
  return (
    <p className="summary">
      <span>
        <b>{waiting}</b> waiting{longest > 0 && ` (longest ${Math.floor(longest / 60)}:${String(longest % 60).padStart(2, '0')})`}
      </span>
      <span>
        <b>{board.today.answered}</b> answered
      </span>
      <span>
        <b>{board.today.missed + board.today.abandoned}</b> missed
      </span>
    </p>
  );
}

function BoardBody({ board, items }: { board: BoardMessage; items: CallbackItem[] }) {
  // The same map while no queue's name changes (the callbacks list is memoised on it).
  const namesKey = JSON.stringify(board.queues.map((q) => [q.queue, q.name]));
  const queueNames = useMemo(() => new Map(JSON.parse(namesKey) as [string, string][]), [namesKey]);
  // Message → DOM committed, as a performance measure "board-update" (kept to the last 500).
  useLayoutEffect(() => {
    if (performance.getEntriesByName('board-message', 'mark').length === 0) return;
    performance.measure('board-update', 'board-message');
    performance.clearMarks('board-message');
    if (performance.getEntriesByName('board-update', 'measure').length > 500) performance.clearMeasures('board-update');
  }, [board]);
  return (
    <main className="board-main">
      <AgentsGrid agents={board.agents} />
      <div className="side">
        <Queues queues={board.queues} />
        <Callbacks items={items} queueNames={queueNames} />
      </div>
      <Today board={board} />
    </main>
  );
}

function Login({ onLogin }: { onLogin: (name: string, password: string) => Promise<void> }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  useEffect(() => nameRef.current?.focus(), []);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!name.trim() || !password) {
      setError('Enter your name and password.');
      return;
    }
    setBusy(true);
    setError(null);
    onLogin(name.trim(), password).catch((err: unknown) => {
      setBusy(false);
      setError(err instanceof LoginRefused ? err.message : `Cannot log in: ${(err as Error).message}`);
    });
  };
  return (
    <main className="login">
      <form onSubmit={submit} className="login-form card" aria-labelledby="login-h" noValidate>
        <h1 id="login-h">Team board</h1>
        <p className="muted">For supervisors: log in with your Callpop hub name and password.</p>
        <label>
          Name
          <input ref={nameRef} name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={error !== null} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} aria-invalid={error !== null} />
        </label>
        <button className="primary" type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p className="error" role="alert">
          {error}
        </p>
      </form>
    </main>
  );
}
