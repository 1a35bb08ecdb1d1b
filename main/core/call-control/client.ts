// The Call Control client: one process's connection to 3CX's Call Control API (v20). It keeps the
// WebSocket of participant changes open, GETs each upserted participant (the event carries no state),
// keeps the last known state per participant (a removed one can no longer be fetched), reconciles
// against GET /callcontrol after every (re)connect, and hands the translated transitions on as
// webhook field sets, in event order. Reconnects with exponential backoff and jitter; the token is
// owned here (token.ts). Everything the PBX sends is schema-checked (schema.ts) and size-bounded.
//
//   const cc = startCallControlClient({ pbx: new URL('https://pbx.example.com'), clientId, clientSecret,
//     logger, onWebhooks: (list) => { for (const f of list) hub.ingest(toRawWebhook(f)); } });
//   await cc.close();
import WebSocket from 'ws';
import type { CallRecord } from '../../../shared/call-record';
import { Emitter, type Event } from '../../../shared/emitter';
import type { Logger } from '../../../shared/diagnostics-log';
import { backoff as makeBackoff, type Backoff } from '../hub-client/backoff';
import { pbxAgent, pbxRequest, type PbxAnswer } from './pbx-http';
import { EVENT_REMOVE, EVENT_UPSERT, parseSnapshot, participantEntity, participantSchema, wsEventSchema, type DnInfo, type Participant } from './schema';
import { TokenRefusedError, tokenOwner, type TokenOwner } from './token';
import { CallControlTranslator, type WebhookFields } from './translate';

export interface CallControlClientOptions {
  pbx: URL;
  clientId: string;
  clientSecret: string;
  ca?: string | Buffer | undefined;
  logger: Logger;
  onWebhooks: (list: WebhookFields[]) => void;
  /** Extensions agents use: each one the API client does not monitor gets a warning. */
  agentExtensions?: () => readonly string[];
  now?: () => number;
  ringEndGraceMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** How often ring ends are settled. Default 250 ms. */
  tickMs?: number;
  /**
   * Calls the call log holds open from before this process (a restart): the first reconcile ends those
   * the PBX no longer shows and takes up the others without announcing them again.
   */
  openCalls?: readonly CallRecord[];
  /** Every PBX message as received (for --record-traffic); secrets are never passed. */
  onTraffic?: (kind: 'ws' | 'get', path: string, body: unknown) => void;
}

export type CallControlState = 'connecting' | 'connected' | 'reconnecting' | 'refused' | 'closed';

export interface CallControlClient {
  readonly state: CallControlState;
  /** The last problem (reconnecting, refused), in words; null when connected. */
  readonly problem: string | null;
  /** When the state last changed (ms). */
  readonly since: number;
  readonly stateChanged: Event<CallControlState>;
  /** Drop the WebSocket and reconnect now (OS resume, network change): reconciles from the snapshot. */
  reconnectNow(): void;
  /** Monitored DNs in the last snapshot. */
  readonly monitored: ReadonlySet<string>;
  /** Resolves after the first successful reconcile (tests, the CLI's first status line). */
  readonly ready: Promise<void>;
  /** An authorized REST request with one retry on 401 (the actions use it). */
  request(method: 'GET' | 'POST', path: string, json?: unknown): Promise<PbxAnswer>;
  /** The participant as last known. */
  participant(dn: string, id: number): Participant | undefined;
  /** Participants of a DN as last known. */
  participantsOf(dn: string): Participant[];
  close(): Promise<void>;
}

/** Bound on one WebSocket message: events are ~150 bytes. */
const MAX_WS_MESSAGE = 64 * 1024;

export function startCallControlClient(o: CallControlClientOptions): CallControlClient {
  const now = o.now ?? Date.now;
  const logger = o.logger;
  const agent = pbxAgent(o.pbx, o.ca);
  const http = { base: o.pbx, ca: o.ca, agent };
  const tokens: TokenOwner = tokenOwner({ ...http, clientId: o.clientId, clientSecret: o.clientSecret, now });
  const translator = new CallControlTranslator({ now, ringEndGraceMs: o.ringEndGraceMs });
  translator.adopt(o.openCalls ?? []);
  const bo: Backoff = makeBackoff({ initialMs: o.backoff?.initialMs ?? 1000, maxMs: o.backoff?.maxMs ?? 60_000 });
  const wsUrl = new URL('/callcontrol/ws', o.pbx);
  wsUrl.protocol = o.pbx.protocol === 'https:' ? 'wss:' : 'ws:';
  const where = o.pbx.origin;

  let state: CallControlState = 'connecting';
  let problem: string | null = null;
  let since = now();
  const states = new Emitter<CallControlState>((e) => logger.error(`Call Control state listener failed: ${(e as Error).message}`));
  const setState = (next: CallControlState, why: string | null) => {
    problem = why;
    if (next === state) return;
    state = next;
    since = now();
    states.emit(next);
  };
  let closed = false;
  let ws: WebSocket | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let monitored = new Set<string>();
  const byDn = new Map<string, Map<number, Participant>>();
  let warned = new Set<string>();
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  /** Applies PBX answers in event order while GETs run in parallel. */
  let chain: Promise<void> = Promise.resolve();

  const emit = (list: WebhookFields[]) => {
    if (list.length === 0) return;
    try {
      o.onWebhooks(list);
    } catch (e) {
      logger.error(`Call Control: handing on ${list.length} event(s) failed: ${(e as Error).message}`);
    }
  };
  const remember = (p: Participant) => {
    let m = byDn.get(p.dn);
    if (!m) byDn.set(p.dn, (m = new Map()));
    m.set(p.id, p);
  };
  const forget = (dn: string, id: number) => {
    const m = byDn.get(dn);
    m?.delete(id);
    if (m?.size === 0) byDn.delete(dn);
  };

  const request = async (method: 'GET' | 'POST', path: string, json?: unknown): Promise<PbxAnswer> => {
    let token = await tokens.get();
    let answer = await pbxRequest(http, method, path, { token, ...(json !== undefined ? { json } : {}) });
    if (answer.status === 401) {
      // Once, with a fresh token; a second 401 is for the caller (who backs off).
      tokens.invalidate(token);
      token = await tokens.get();
      answer = await pbxRequest(http, method, path, { token, ...(json !== undefined ? { json } : {}) });
    }
    return answer;
  };

  const tickTimer = setInterval(() => emit(translator.tick()), o.tickMs ?? 250);
  tickTimer.unref();

  const reconcile = async (): Promise<number> => {
    const answer = await request('GET', '/callcontrol');
    if (answer.status !== 200) throw new Error(`GET /callcontrol answered HTTP ${answer.status}`);
    o.onTraffic?.('get', '/callcontrol', answer.json);
    const parsed = parseSnapshot(answer.json);
    if (!parsed) throw new Error('GET /callcontrol sent an unexpected shape (not a list of DNs)');
    if (parsed.dropped > 0) logger.warn(`Call Control: ignored ${parsed.dropped} participant(s) of an unexpected shape in GET /callcontrol`);
    const snapshot: DnInfo[] = parsed.dns;
    monitored = new Set(snapshot.map((d) => d.dn));
    byDn.clear();
    for (const d of snapshot) for (const p of d.participants ?? []) remember(p);
    emit(translator.reconcile(snapshot));
    return snapshot.filter((d) => !d.type || d.type === 'Wextension').length;
  };

  const warnUnmonitored = () => {
    const exts = o.agentExtensions?.() ?? [];
    const next = new Set<string>();
    for (const ext of exts) {
      if (monitored.has(ext)) continue;
      next.add(ext);
      if (!warned.has(ext)) {
        logger.warn(
          `Extension ${ext} is not monitored by the 3CX API client "${o.clientId}": its calls will not appear. In the Admin Console → Integrations → API → ${o.clientId}, add ${ext} to the extensions to monitor.`,
        );
      }
    }
    warned = next;
  };

  const onEvent = (text: string) => {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      logger.warn('Call Control: a WebSocket message that is not JSON was ignored');
      return;
    }
    o.onTraffic?.('ws', '/callcontrol/ws', raw);
    const parsed = wsEventSchema.safeParse(raw);
    if (!parsed.success) return;
    const ev = parsed.data.event;
    const entity = participantEntity(ev.entity);
    if (!entity) return;
    if (ev.event_type === EVENT_UPSERT) {
      const fetched = request('GET', ev.entity).then(
        (a) => a,
        (e: unknown) => e as Error,
      );
      chain = chain.then(async () => {
        const a = await fetched;
        if (a instanceof Error || (a.status !== 200 && a.status !== 404)) {
          // We no longer know this participant's state: start over from a snapshot.
          logger.warn(`Call Control: could not fetch ${ev.entity} (${a instanceof Error ? a.message : `HTTP ${a.status}`}); reconnecting to resynchronise`);
          ws?.terminate();
          return;
        }
        if (a.status === 404) return; // gone already: its remove event follows
        o.onTraffic?.('get', ev.entity, a.json);
        const p = participantSchema.safeParse(a.json);
        if (!p.success || p.data.dn !== entity.dn || p.data.id !== entity.id) {
          logger.warn(`Call Control: ${ev.entity} sent an unexpected shape; ignored`);
          return;
        }
        remember(p.data);
        emit(translator.upsert(p.data));
      });
    } else if (ev.event_type === EVENT_REMOVE) {
      chain = chain.then(() => {
        forget(entity.dn, entity.id);
        emit(translator.remove(entity.dn, entity.id));
      });
    }
  };

  const connect = async (): Promise<void> => {
    const token = await tokens.get();
    const socket = new WebSocket(wsUrl, {
      headers: { Authorization: `Bearer ${token}` },
      maxPayload: MAX_WS_MESSAGE,
      handshakeTimeout: 10_000,
      ...(o.ca ? { ca: o.ca } : {}),
    });
    ws = socket;
    const buffered: string[] = [];
    let live = false;
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (live) onEvent(text);
      else buffered.push(text);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => {
        if (res.statusCode === 401) tokens.invalidate(token);
        reject(new Error(`WebSocket refused: HTTP ${res.statusCode ?? 0}`));
        socket.terminate();
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('WebSocket closed while opening')));
    });
    const closedPromise = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', (e) => logger.warn(`Call Control WebSocket: ${e.message}`));
    // Events that came during the snapshot are applied after it (they are newer).
    const n = await reconcile();
    live = true;
    for (const t of buffered.splice(0)) onEvent(t);
    bo.reset();
    setState('connected', null);
    logger.info(`Connected to 3CX Call Control at ${where}, monitoring ${n} extension${n === 1 ? '' : 's'}`);
    warnUnmonitored();
    resolveReady();
    await closedPromise;
    await chain;
  };

  const loop = async () => {
    while (!closed) {
      try {
        await connect();
        if (closed) break;
        logger.warn(`Lost the 3CX Call Control WebSocket at ${where}; reconnecting`);
        setState('reconnecting', 'the WebSocket closed');
      } catch (e) {
        ws?.terminate();
        if (closed) break;
        if (e instanceof TokenRefusedError) {
          setState('refused', e.message);
          logger.error(e.message);
        } else {
          setState('reconnecting', (e as Error).message);
          logger.warn(`3CX Call Control at ${where}: ${(e as Error).message}; retrying`);
        }
      }
      if (closed) break;
      const delay = bo.next();
      await new Promise<void>((resolve) => {
        retryTimer = setTimeout(resolve, delay);
      });
    }
  };
  void loop();

  return {
    get state() {
      return state;
    },
    get monitored() {
      return monitored;
    },
    get problem() {
      return problem;
    },
    get since() {
      return since;
    },
    stateChanged: states.on,
    reconnectNow() {
      ws?.terminate();
    },
    ready,
    request,
    participant: (dn, id) => byDn.get(dn)?.get(id),
    participantsOf: (dn) => [...(byDn.get(dn)?.values() ?? [])],
    async close() {
      if (closed) return;
      closed = true;
      setState('closed', null);
      clearInterval(tickTimer);
      if (retryTimer) clearTimeout(retryTimer);
      ws?.close();
      ws?.terminate();
      await chain;
      agent.destroy();
    },
  };
}
