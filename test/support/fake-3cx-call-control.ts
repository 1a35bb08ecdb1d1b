// A fake 3CX Call Control API (v20) on loopback: HTTP + WebSocket, for the Call Control source's
// integration tests and bench. It behaves as the public sources describe the real one, and records
// every request so a test can see what Callpop asked.
//
// Shapes and where they come from:
// - POST /connect/token, form `client_id`, `client_secret`, `grant_type=client_credentials` →
//   `{access_token, expires_in, token_type}`: 3cx/call-control-examples
//   server/src/services/ExternalApi.service.ts (receiveToken), qmexnetworks/3cx-zammad-bridge
//   bridge_3cx_post20.go (Authenticate: urlencoded form, 401 for a wrong client). `expires_in`: issue
//   #18 (since 20.0.9). ONE valid token per client: a new token revokes the previous one (issue #18;
//   "a second process using the same client breaks the first"), and its WebSockets are closed.
// - `Authorization: Bearer TOKEN` on REST and on the WebSocket upgrade (Cache.service.ts prefixes
//   "Bearer "; bridge_3cx_post20.go); 401 otherwise.
// - GET /callcontrol → `[{dn, type, devices, participants}]`, GET /callcontrol/{dn},
//   …/participants, …/participants/{id}: types.ts DNInfo/CallParticipant; bridge_3cx_post20.go.
// - WebSocket /callcontrol/ws events `{"sequence":N,"event":{"event_type":0|1,"entity":
//   "/callcontrol/{dn}/participants/{id}","attached_data":null}}`: types.ts WSEvent,
//   bridge_3cx_post20.go WebsocketResponse and its captured log lines. Events go to the FIRST open
//   consumer only (a peer's report quoted in issue #18: "events only to the first consumer").
// - POST /callcontrol/{dn}/makecall and …/devices/{id}/makecall `{destination}`, POST
//   …/participants/{id}/{drop|answer|divert|routeto|transferto} `{destination, reason, timeout}` →
//   `{finalstatus, reason, result, reasontext}`: ExternalApi.service.ts (makeCall, controlParticipant),
//   types.ts CallControlResultResponse; constraints (answer needs direct_control, transferto a
//   connected participant, divert a ringing one) from 3CX's endpoint page as quoted in
//   GlomarGadaffi/pocket-dial docs/3cxAPI+Webhooks.md.
// Not confirmed (no real PBX here): whether finalstatus is sent as "Success" or 1 (sent as text
// here), whether an expired token also closes an open WebSocket (it does not here; a replaced one does).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ParticipantWire } from '../../main/core/call-control/schema';
import type { ScenarioStep } from './call-control-scenarios';

export interface FakeCallControlOptions {
  /** client_id → client_secret. */
  clients: Readonly<Record<string, string>>;
  /** Monitored DNs and their types (only these appear anywhere). */
  dns: Readonly<Record<string, string>>;
  /** Token lifetime. Default 3600 s. */
  tokenTtlSec?: number;
  /** Leave expires_in out of the token answer (PBX before 20.0.9). */
  omitExpiresIn?: boolean;
  /** Milliseconds clock for token expiry (tests move it). Default Date.now. */
  now?: () => number;
  /** makecall creates the Dialing participant on the DN (as the PBX would). Default true. */
  makecallCreatesParticipant?: boolean;
}

export interface RecordedAction {
  dn: string;
  /** "makecall", "drop", "answer", "divert", "routeto", "transferto". */
  action: string;
  participantId: number | null;
  deviceId: string | null;
  body: unknown;
  clientId: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  status: number;
}

interface TokenInfo {
  clientId: string;
  expiresAt: number;
}

export interface FakeCallControl {
  readonly url: string;
  readonly actions: RecordedAction[];
  readonly requests: RecordedRequest[];
  /** Tokens handed out so far. */
  readonly tokensIssued: number;
  /** Open WebSockets. */
  readonly sockets: number;
  upsert(p: ParticipantWire): void;
  remove(dn: string, id: number): void;
  participant(dn: string, id: number): ParticipantWire | undefined;
  /** Make every current token expired now. */
  expireTokens(): void;
  /** Send this text as-is on the WebSockets (hostile or broken PBX messages). */
  sendRaw(text: string): void;
  /** Store a participant as-is under dn/id and announce it (a shape the PBX should never send). */
  upsertRaw(dn: string, id: number, body: unknown): void;
  /** Cut every WebSocket without a close frame (network loss). */
  dropWebSockets(): void;
  /** Answer the next action with this status and reason instead (the PBX refusing). */
  refuseNextAction(status: number, reason: string): void;
  setMonitored(dns: Readonly<Record<string, string>>): void;
  /** Add many DNs at once (the 1,000-DN snapshot). */
  addDns(dns: Readonly<Record<string, string>>): void;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

export async function startFakeCallControl(options: FakeCallControlOptions): Promise<FakeCallControl> {
  const now = options.now ?? Date.now;
  const ttl = options.tokenTtlSec ?? 3600;
  let dns = new Map(Object.entries(options.dns));
  /** dn → id → participant */
  const parts = new Map<string, Map<number, ParticipantWire>>();
  const tokens = new Map<string, TokenInfo>();
  const current = new Map<string, string>();
  const sockets = new Map<WebSocket, string>();
  const actions: RecordedAction[] = [];
  const requests: RecordedRequest[] = [];
  let issued = 0;
  let sequence = 0;
  let refusal: { status: number; reason: string } | null = null;

  const dnInfo = (dn: string) => ({
    dn,
    type: dns.get(dn) ?? 'Wextension',
    devices: [{ dn, device_id: `sip:${dn}@127.0.0.1:5063`, user_agent: 'Fake Phone 1.0' }],
    participants: [...(parts.get(dn)?.values() ?? [])],
  });

  const emit = (eventType: number, dn: string, id: number) => {
    if (!dns.has(dn)) return;
    sequence += 1;
    const msg = JSON.stringify({ sequence, event: { event_type: eventType, entity: `/callcontrol/${dn}/participants/${id}`, attached_data: null } });
    // Only the first consumer gets events.
    for (const ws of sockets.keys()) {
      if (ws.readyState === ws.OPEN) {
        ws.send(msg);
        break;
      }
    }
  };

  const auth = (req: IncomingMessage): TokenInfo | null => {
    const m = /^Bearer ([A-Za-z0-9_-]+)$/.exec(req.headers.authorization ?? '');
    const info = m ? tokens.get(m[1] as string) : undefined;
    if (!info || info.expiresAt <= now() || current.get(info.clientId) !== m?.[1]) return null;
    return info;
  };

  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown) => {
    requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0] as string, status });
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new Error('too large'));
        else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const issueToken = (clientId: string): string => {
    const old = current.get(clientId);
    if (old) {
      tokens.delete(old);
      for (const [ws, t] of sockets) if (t === old) ws.close(1008, 'token revoked');
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, { clientId, expiresAt: now() + ttl * 1000 });
    current.set(clientId, token);
    issued += 1;
    return token;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const body = await readBody(req);
    if (req.method === 'POST' && path === '/connect/token') {
      const form = new URLSearchParams(body);
      const id = form.get('client_id') ?? '';
      if (form.get('grant_type') !== 'client_credentials') return send(req, res, 400, { error: 'unsupported_grant_type' });
      if (!Object.hasOwn(options.clients, id) || options.clients[id] !== form.get('client_secret')) return send(req, res, 401, { error: 'invalid_client' });
      const token = issueToken(id);
      return send(req, res, 200, { token_type: 'Bearer', access_token: token, ...(options.omitExpiresIn ? {} : { expires_in: ttl }) });
    }
    const who = auth(req);
    if (!who) return send(req, res, 401, undefined);
    const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
    if (seg[0] !== 'callcontrol') return send(req, res, 404, undefined);
    if (req.method === 'GET') {
      if (seg.length === 1) return send(req, res, 200, [...dns.keys()].map(dnInfo));
      const dn = seg[1] as string;
      if (!dns.has(dn)) return send(req, res, 404, undefined);
      if (seg.length === 2) return send(req, res, 200, dnInfo(dn));
      if (seg.length === 3 && seg[2] === 'participants') return send(req, res, 200, dnInfo(dn).participants);
      if (seg.length === 4 && seg[2] === 'participants') {
        const p = parts.get(dn)?.get(Number(seg[3]));
        return p ? send(req, res, 200, p) : send(req, res, 404, undefined);
      }
      return send(req, res, 404, undefined);
    }
    if (req.method !== 'POST') return send(req, res, 405, undefined);
    const dn = seg[1] ?? '';
    let parsed: unknown;
    try {
      parsed = body ? JSON.parse(body) : {};
    } catch {
      return send(req, res, 400, { reasontext: 'bad json' });
    }
    const makecall = (seg.length === 3 && seg[2] === 'makecall') || (seg.length === 5 && seg[2] === 'devices' && seg[4] === 'makecall');
    const participantAction = seg.length === 5 && seg[2] === 'participants' ? (seg[4] as string) : null;
    if (!dns.has(dn) || (!makecall && !participantAction)) return send(req, res, 404, undefined);
    const pid = participantAction ? Number(seg[3]) : null;
    actions.push({ dn, action: makecall ? 'makecall' : (participantAction as string), participantId: pid, deviceId: seg[2] === 'devices' ? (seg[3] as string) : null, body: parsed, clientId: who.clientId });
    if (refusal) {
      const r = refusal;
      refusal = null;
      return send(req, res, r.status, { finalstatus: 'Failed', reason: r.reason, reasontext: r.reason });
    }
    const destination = typeof (parsed as { destination?: unknown }).destination === 'string' ? (parsed as { destination: string }).destination : '';
    if (makecall) {
      if (!destination) return send(req, res, 400, { finalstatus: 'Failed', reason: 'InvalidDestination', reasontext: 'destination required' });
      let result: ParticipantWire | null = null;
      if (options.makecallCreatesParticipant ?? true) {
        result = newOutgoing(dn, destination);
        api.upsert(result);
      }
      return send(req, res, 202, { finalstatus: 'Success', reason: '', result, reasontext: '' });
    }
    const p = parts.get(dn)?.get(pid as number);
    if (!p) return send(req, res, 404, { finalstatus: 'Failed', reason: 'NotFound', reasontext: 'participant not found' });
    const fail = (reason: string) => send(req, res, 400, { finalstatus: 'Failed', reason, reasontext: reason });
    switch (participantAction) {
      case 'drop':
        api.remove(dn, p.id);
        break;
      case 'answer':
        if (!p.direct_control) return fail('DirectControlNotSupported');
        if (p.status !== 'Ringing') return fail('NotRinging');
        api.upsert({ ...p, status: 'Connected' });
        break;
      case 'divert':
        if (p.status === 'Connected') return fail('AlreadyConnected');
        break;
      case 'transferto':
        if (p.status !== 'Connected') return fail('NotConnected');
        if (!destination) return fail('InvalidDestination');
        break;
      case 'routeto':
        break;
      default:
        return send(req, res, 404, undefined);
    }
    return send(req, res, 202, { finalstatus: 'Success', reason: '', result: p, reasontext: '' });
  };

  let nextOwnId = 900_000;
  const newOutgoing = (dn: string, destination: string): ParticipantWire => ({
    id: nextOwnId++,
    status: 'Dialing',
    dn,
    party_caller_name: '',
    party_dn: '10007',
    party_caller_id: destination,
    party_did: '',
    device_id: `sip:${dn}@127.0.0.1:5063`,
    party_dn_type: 'Wexternalline',
    direct_control: false,
    originated_by_dn: '',
    originated_by_type: 'None',
    referred_by_dn: '',
    referred_by_type: 'None',
    on_behalf_of_dn: '',
    on_behalf_of_type: 'None',
    callid: nextOwnId,
    legid: 1,
  });

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(req, res, 500, undefined);
      else res.destroy();
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  const conns = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    const who = auth(req);
    if (path !== '/callcontrol/ws' || !who) {
      requests.push({ method: 'UPGRADE', path: path ?? '', status: who ? 404 : 401 });
      socket.end(`HTTP/1.1 ${who ? '404 Not Found' : '401 Unauthorized'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] as string;
    wss.handleUpgrade(req, socket, head, (ws) => {
      requests.push({ method: 'UPGRADE', path: '/callcontrol/ws', status: 101 });
      sockets.set(ws, token);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const api: FakeCallControl = {
    url: `http://127.0.0.1:${port}`,
    actions,
    requests,
    get tokensIssued() {
      return issued;
    },
    get sockets() {
      return [...sockets.keys()].filter((w) => w.readyState === w.OPEN).length;
    },
    upsert(p) {
      let m = parts.get(p.dn);
      if (!m) parts.set(p.dn, (m = new Map()));
      m.set(p.id, p);
      emit(0, p.dn, p.id);
    },
    remove(dn, id) {
      if (parts.get(dn)?.delete(id)) emit(1, dn, id);
    },
    participant(dn, id) {
      return parts.get(dn)?.get(id);
    },
    expireTokens() {
      for (const t of tokens.values()) t.expiresAt = Math.min(t.expiresAt, now());
    },
    sendRaw(text) {
      for (const ws of sockets.keys()) if (ws.readyState === ws.OPEN) ws.send(text);
    },
    upsertRaw(dn, id, body) {
      let m = parts.get(dn);
      if (!m) parts.set(dn, (m = new Map()));
      m.set(id, body as ParticipantWire);
      emit(0, dn, id);
    },
    dropWebSockets() {
      for (const ws of sockets.keys()) ws.terminate();
    },
    refuseNextAction(status, reason) {
      refusal = { status, reason };
    },
    setMonitored(next) {
      dns = new Map(Object.entries(next));
    },
    addDns(more) {
      for (const [dn, type] of Object.entries(more)) dns.set(dn, type);
    },
    async close() {
      for (const ws of sockets.keys()) ws.terminate();
      wss.close();
      for (const s of conns) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return api;
}

/** Something that tells whether a participant change reached the client (CallControlClient does). */
export interface ParticipantView {
  participant(dn: string, id: number): { status: string } | undefined;
}

/**
 * Plays a scenario (./call-control-scenarios.ts) on the fake: before each step the clock is set to the
 * step's second, and the step is waited for until the client has applied it, so talk times measured
 * by our clock are the scenario's.
 */
export async function playScenario(
  fake: FakeCallControl,
  client: ParticipantView,
  steps: readonly ScenarioStep[],
  setClock: (secondsIntoCall: number) => void,
): Promise<void> {
  for (const step of steps) {
    setClock(step.at);
    if ('upsert' in step) {
      fake.upsert(step.upsert);
      const { dn, id, status } = step.upsert;
      await waitFor(`participant ${dn}/${id} ${status}`, () => client.participant(dn, id)?.status === status);
    } else {
      fake.remove(step.remove.dn, step.remove.id);
      await waitFor(`participant ${step.remove.dn}/${step.remove.id} removed`, () => client.participant(step.remove.dn, step.remove.id) === undefined);
    }
  }
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
