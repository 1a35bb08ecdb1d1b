// The hub's in-process MQTT broker: aedes 1.2 (a well-kept pure-JS broker; MQTT 3.1 and 3.1.1 only:
// an MQTT 5 CONNECT is refused with return code 1 "unacceptable protocol version", so clients use
// 3.1.1), over TCP and optionally WebSocket, both with TLS when given a certificate.
//
// Access is enforced here on connect (agent name + password, scrypt on its own thread, failed logins
// throttled; the client id must be the agent's own: shared/hub-protocol.ts agentClientId), subscribe
// (exact allowed filters only, else a negative SUBACK), publish (an agent's own sync requests only,
// QoS 0 or 1, else the connection is closed: MQTT 3.1.1 has no PUBACK error) and delivery
// (authorizeForward checks every message against the agent again, behind the subscribe rule). The
// hub itself publishes with broker.publish, which no client can do. The board's port hands its MQTT over
// WebSocket connections here too (handleWebSocket), so they pass the same gate and checks.
//
// The hub faces the internet, so every port (mqtt, mqtts, ws, wss) goes through one connection gate
// (../listener/connection-gate.ts: a cap per source address or IPv6 /64, slots kept for sources that
// logged in recently, the oldest idle stranger dropped for a newcomer) and a deadline: a connection
// that has not finished its TLS handshake, WebSocket upgrade and a successful CONNECT within 10 s is
// closed (a silent mqtts socket used to stay open for ever and 20,000 of them took the open files).
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Logger } from '../../../../shared/diagnostics-log';
import { normalizeAddress, reachableAddresses } from '../../listener/listener';
import { clientIdBelongsTo } from '../../../../shared/hub-protocol';
import { ConnectionGate, type ConnectionLimits } from '../../listener/connection-gate';
import { mayRead, publishDenied, subscribeDenied } from './access';
import type { Agent } from '../accounts/agents';
import { hashPassword } from '../accounts/agents';
import { LoginThrottle } from './login-throttle';
import { PasswordChecker } from './password-checker';
import { MAX_CLIENT_PACKET_BYTES, withPacketLimit } from './packet-limit';
import { memoryPersistenceWithRetainedIndex } from './retained-index';
import { RateLimitedLog } from '../../rate-limited-log';

export interface BrokerTls {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface EmbeddedBrokerOptions {
  site: string;
  host: string;
  /** 0 = a free port. */
  port: number;
  /** MQTT over WebSocket on this port (0 = free); absent = none. */
  wsPort?: number | null;
  tls?: BrokerTls | null;
  /** The current agent of a name (agents can change while the broker runs). */
  agent: (name: string) => Agent | undefined;
  logger: Logger;
  /** Password checks waiting or running at once before logins are refused with 3 (default 64). */
  maxPendingLogins?: number;
  /** Connection limits of all broker ports together (default brokerConnectionLimits). */
  connectionLimits?: Partial<ConnectionLimits>;
  /** A connection must have logged in this soon after it arrived (default 10 s). */
  loginDeadlineMs?: number;
  /** Open connections per agent (default 8: laptop, desk PC, phone, with room to spare). */
  maxConnectionsPerAgent?: number;
  /** Failed logins before a source (resp. a name) is throttled (defaults: LoginThrottle's). */
  freeFailedLogins?: { perSource?: number; perName?: number };
  /** Messages published by clients that the hub handles (sync requests), after authorizePublish. */
  onClientPublish: (topic: string, payload: Buffer, clientId: string, retain: boolean) => void;
  /** A client's connection closed (its sync answers need not go on). */
  onClientGone?: (clientId: string) => void;
  /** A client connected or left (the board's "offline"). */
  onPresence?: () => void;
}

export interface EmbeddedBroker {
  readonly port: number;
  readonly wsPort: number | null;
  readonly url: string;
  readonly wsUrl: string | null;
  publish(topic: string, payload: string, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /** Close every connection of these agents (removed, or their password or extensions changed). */
  disconnectAgents(names: ReadonlySet<string>): void;
  readonly connectedClients: number;
  /** Names of agents with at least one connection (the board's "offline"). */
  connectedAgents(): Set<string>;
  /** Serve MQTT on a WebSocket accepted elsewhere (the board's port, path /mqtt). */
  handleWebSocket(socket: WebSocket, req: IncomingMessage): void;
  close(): Promise<void>;
  /** A renewed certificate and key for new connections (MQTT over TLS and wss); the caller checks them first. */
  setTls(tls: BrokerTls): void;
}

/** Password checks (scrypt, ~60 ms each on one thread) waiting or running; more at the same time are refused with 3. */
const MAX_PENDING_PASSWORD_CHECKS = 64;
/**
 * All broker ports together. Per source: an office behind one NAT address gets 64 connections until one
 * of its agents logs in, then 256 (the gate's trusted factor); 2,000 of the 10,000 slots are kept for
 * sources that logged in within 24 h, and up to 20,000 such sources are remembered.
 */
export const brokerConnectionLimits: ConnectionLimits = { max: 10_000, perSource: 64, reserved: 2_000, trustedSources: 20_000 };
const LOGIN_DEADLINE_MS = 10_000;
const MAX_CONNECTIONS_PER_AGENT = 8;
/**
 * Publishes of one connection being handled at once (authorized, not yet passed on). aedes handles
 * every packet of a read batch at the same time; an agent sends one sync request at a time.
 */
export const MAX_INBOUND_IN_FLIGHT = 32;

const badCredentials = (): AuthenticateError => Object.assign(new Error('Bad user name or password'), { returnCode: 4 as const });

/** The address to print for a broker bound to `host`: for a wildcard, this machine's first network address (as the webhook URL). */
function hostForUrl(host: string): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? (reachableAddresses(host === '0.0.0.0')[0] ?? '127.0.0.1') : host;
  return h.includes(':') ? `[${h}]` : h;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { site, logger } = options;
  const refusals = new RateLimitedLog(logger, 'broker refusals');
  // Its own budget of lines, so a flood's refusals cannot hide that (and why) logins are throttled.
  const throttled = new RateLimitedLog(logger, 'logins refused by the throttle', 2);
  /** client → agent name, set once authenticated. */
  const agentOf = new WeakMap<Client, string>();
  /** Successful checks by (agent, password hash, password): reconnects skip scrypt (~60 ms each). */
  const verified = new Set<string>();
  const clients = new Set<Client>();
  /** What the agent was when the client logged in: a change since (removed, new password or extensions) closes it. */
  const loggedInAs = new WeakMap<Client, Agent>();
  /** Publishes authorized and not yet passed on, per client. */
  const inbound = new WeakMap<Client, number>();
  /** agent name → its open (logged-in) clients. */
  const byAgent = new Map<string, Set<Client>>();
  const checker = new PasswordChecker();
  const throttle = new LoginThrottle({ freePerSource: options.freeFailedLogins?.perSource, freePerName: options.freeFailedLogins?.perName });
  // Unknown names are checked against this, so a refusal costs and looks the same for any name.
  const decoy = await hashPassword(randomBytes(18).toString('base64url'));
  const limits: ConnectionLimits = { ...brokerConnectionLimits, ...options.connectionLimits };
  const gate = new ConnectionGate(limits, null, () => true);
  const deadlineMs = options.loginDeadlineMs ?? LOGIN_DEADLINE_MS;
  /** The raw TCP socket under each stream handed to aedes (to mark it logged in, and for its address). */
  const rawOf = new WeakMap<Duplex, Socket>();
  /** "address|port" of connections not logged in yet → their deadline (a TLS socket is not its TCP one, the peer is the same). */
  const deadlines = new Map<string, NodeJS.Timeout>();
  const peerOf = (s: Socket): string => `${s.remoteAddress ?? ''}|${s.remotePort ?? ''}`;

  const broker = await Aedes.createBroker({
    persistence: memoryPersistenceWithRetainedIndex(),
    // A frozen subscriber must not stall delivery to everyone (see aedes' drainTimeout).
    drainTimeout: 10_000,
    connectTimeout: 10_000,
    maxClientsIdLength: 160,
    heartbeatInterval: 60_000,
  });
  const rawSocketOf = (client: Client | null): Socket | undefined => (client?.conn ? rawOf.get(client.conn as Duplex) : undefined);
  // Normalized: on a dual-stack socket every IPv4 client is "::ffff:a.b.c.d", which as IPv6 would put
  // them all in one /64 for the gate and the throttle.
  const addressOf = (client: Client | null): string => normalizeAddress(rawSocketOf(client)?.remoteAddress ?? client?.req?.socket.remoteAddress ?? '');
  const who = (client: Client | null): string => {
    const name = client ? agentOf.get(client) : undefined;
    const addr = addressOf(client);
    return `${name ? `agent ${name}` : 'client'} ${JSON.stringify((client?.id ?? '?').slice(0, 160))}${addr ? ` from ${addr}` : ''}`;
  };
  const unavailable = (): AuthenticateError => Object.assign(new Error('Server unavailable'), { returnCode: 3 as const });

  broker.authenticate = (client, username, password, done) => {
    const name = username ?? '';
    const address = addressOf(client);
    const agent = options.agent(name);
    const shownName = JSON.stringify(name.slice(0, 64));
    if (!password) {
      refusals.note(`Broker refused ${who(client)}: no password`);
      return done(badCredentials(), false);
    }
    // Persistent sessions would make the in-memory broker queue every call of an agent that never
    // comes back (without bound); clients catch up by sync instead. 3.1.1 has no better code than 2.
    if (!client.clean) {
      refusals.note(`Broker refused ${who(client)}: persistent sessions (clean session 0) are not accepted; connect with a clean session, the backfill catches up`);
      return done(Object.assign(new Error('Identifier rejected'), { returnCode: 2 as const }), false);
    }
    // Before any password check: a source or name that failed too often waits (answered at once, the
    // same for every name).
    const blocked = throttle.blocked(address, name);
    if (blocked) {
      throttled.note(`Broker refused ${who(client)} as ${shownName} without checking: ${blocked}`);
      return done(unavailable(), false);
    }
    const key = agent ? createHash('sha256').update(agent.name).update('\0').update(agent.passwordHash).update('\0').update(password).digest('base64') : '';
    const accept = (): void => {
      // Bound at CONNECT: a client id is one agent's (no takeover of a colleague's session).
      if (!clientIdBelongsTo(client.id, agent!.name)) {
        refusals.note(`Broker refused ${who(client)}: the client id is not agent ${agent!.name}'s (it must be agentClientId(name): cp-NAME-…)`);
        return done(Object.assign(new Error('Identifier rejected'), { returnCode: 2 as const }), false);
      }
      const open = byAgent.get(agent!.name);
      if (open && open.size >= (options.maxConnectionsPerAgent ?? MAX_CONNECTIONS_PER_AGENT) && ![...open].some((c) => c.id === client.id)) {
        refusals.note(`Broker refused ${who(client)}: agent ${agent!.name} already has ${open.size} connections`);
        return done(unavailable(), false);
      }
      throttle.succeeded(address, agent!.name);
      agentOf.set(client, agent!.name);
      loggedInAs.set(client, agent!);
      const raw = rawSocketOf(client);
      if (raw) {
        clearTimeout(deadlines.get(peerOf(raw)));
        deadlines.delete(peerOf(raw));
        // Never dropped to make room for a newcomer.
        gate.setBusy(raw.remoteAddress, raw.remotePort, true);
      }
      if (address) gate.prove(address);
      done(null, true);
    };
    if (agent && verified.has(key)) return accept();
    // Each check costs ~60 ms of scrypt on one thread: bound how many wait, so a flood of logins cannot
    // queue up minutes of work (the excess is told "server unavailable" and retries later).
    if (checker.pending >= (options.maxPendingLogins ?? MAX_PENDING_PASSWORD_CHECKS)) {
      refusals.note(`Broker refused ${who(client)}: too many logins being checked at once`);
      return done(unavailable(), false);
    }
    if (!throttle.begin(address)) {
      throttled.note(`Broker refused ${who(client)} as ${shownName} without checking: its source has logins being checked`);
      return done(unavailable(), false);
    }
    checker.verify(password, agent?.passwordHash ?? decoy).finally(() => throttle.done(address)).then(
      (ok) => {
        // The agent may have been removed or changed while scrypt ran.
        if (!agent || !ok || options.agent(name)?.passwordHash !== agent.passwordHash) {
          throttle.failed(address, name);
          refusals.note(`Broker refused ${who(client)}: ${agent ? `wrong password for agent ${agent.name}` : `unknown agent ${shownName}`}`);
          return done(badCredentials(), false);
        }
        if (verified.size > 10_000) verified.clear();
        verified.add(key);
        accept();
      },
      (e: unknown) => {
        logger.error(`Password check failed: ${(e as Error).message}`);
        done(unavailable(), false);
      },
    );
  };

  broker.authorizeSubscribe = (client, sub, done) => {
    const agent = options.agent(agentOf.get(client) ?? '');
    // The allowed filters are a few exact forms per extension of the agent (5 each, plus 2), with answers
    // to its own client id only: that bounds the subscriptions a connection can hold (100,000 measured
    // before, when any client id was allowed).
    const reason = agent ? subscribeDenied(agent, site, sub.topic, client.id) : 'agent removed';
    if (reason) {
      refusals.note(`Broker refused subscription of ${who(client)} to ${JSON.stringify(sub.topic.slice(0, 200))}: ${reason}`);
      return done(null, null);
    }
    done(null, sub);
  };

  broker.authorizePublish = (client, packet, done) => {
    // client null: a will of a client already gone; agents' wills are checked like any publish.
    const agent = client ? options.agent(agentOf.get(client) ?? '') : undefined;
    // QoS 2 holds state per message until the client releases it (932 MB measured for 20 connections
    // that never did); agents have no reason to use it.
    const inFlight = client ? (inbound.get(client) ?? 0) : 0;
    const reason = !agent
      ? 'not an agent'
      : packet.qos === 2
        ? 'QoS 2 is not accepted'
        : inFlight >= MAX_INBOUND_IN_FLIGHT
          ? `more than ${MAX_INBOUND_IN_FLIGHT} publishes in flight`
          : publishDenied(agent, site, packet.topic, packet.retain);
    if (reason) {
      refusals.note(`Broker refused publish of ${who(client)} to ${JSON.stringify(packet.topic.slice(0, 200))}: ${reason}`);
      return done(new Error(reason));
    }
    if (client) inbound.set(client, inFlight + 1);
    done(null);
  };

  broker.authorizeForward = (client, packet) => {
    const agent = options.agent(agentOf.get(client) ?? '');
    if (packet.topic.startsWith('$SYS/')) return null;
    return agent && mayRead(agent, site, packet.topic, client.id) ? packet : null;
  };

  broker.on('publish', (packet, client) => {
    if (client) inbound.set(client, Math.max(0, (inbound.get(client) ?? 1) - 1));
    if (client) options.onClientPublish(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), client.id, packet.retain);
  });
  const gone = (c: Client): void => {
    clients.delete(c);
    const name = agentOf.get(c);
    const open = name ? byAgent.get(name) : undefined;
    if (open?.delete(c) && open.size === 0) byAgent.delete(name!);
    if (name) options.onClientGone?.(c.id);
    options.onPresence?.();
  };
  broker.on('client', (c) => {
    // Logged in just before a reload cut the agent (disconnectAgents saw no client yet): cut it now.
    const as = loggedInAs.get(c);
    const now = as ? options.agent(as.name) : undefined;
    if (as && (!now || now.passwordHash !== as.passwordHash || now.extensions.join() !== as.extensions.join())) {
      logger.info(`Broker: closing ${who(c)} (agent removed or changed while it logged in)`);
      c.close();
      return;
    }
    clients.add(c);
    const name = agentOf.get(c);
    if (name) byAgent.set(name, (byAgent.get(name) ?? new Set()).add(c));
    options.onPresence?.();
  });
  broker.on('clientDisconnect', gone);
  broker.on('clientError', (c, e) => {
    gone(c);
    logger.debug(`Broker: ${who(c)}: ${e.message}`);
  });
  broker.on('connectionError', (c, e) => refusals.note(`Broker connection error (${who(c)}): ${e.message}`));

  const guard = <S extends Duplex & { remoteAddress?: string }>(s: S, raw: Socket): Duplex => {
    const from = raw.remoteAddress;
    const guarded = withPacketLimit(s, MAX_CLIENT_PACKET_BYTES, (n) => refusals.note(`Broker cut a connection${from ? ` from ${from}` : ''}: it announced a packet of at least ${n} bytes (limit ${MAX_CLIENT_PACKET_BYTES})`));
    rawOf.set(guarded, raw);
    return guarded;
  };
  /** Every broker port's TCP connections pass the gate first, and get the login deadline. */
  const gated = (server: NetServer): void => {
    const protocolListeners = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      const from = normalizeAddress(socket.remoteAddress ?? '');
      const admission = from ? gate.admit(socket, from) : ({ ok: false, reason: 'connection already closed' } as const);
      if (!admission.ok) {
        refusals.note(`Broker refused a connection from ${from || '?'}: ${admission.reason}`);
        socket.resetAndDestroy();
        return;
      }
      const peer = peerOf(socket);
      const timer = setTimeout(() => {
        deadlines.delete(peer);
        refusals.note(`Broker closed a connection from ${from}: no successful login within ${deadlineMs / 1000} s`);
        socket.destroy();
      }, deadlineMs);
      deadlines.set(peer, timer);
      socket.once('close', () => {
        clearTimeout(timer);
        if (deadlines.get(peer) === timer) deadlines.delete(peer);
      });
      for (const listener of protocolListeners) listener.call(server, socket);
    });
    // A backstop only: the gate enforces the limits.
    server.maxConnections = limits.max * 2;
  };
  // No Nagle: aedes writes a PUBLISH in pieces, and Nagle held the rest until the client's delayed ACK
  // (a pop measured 44 ms POST → client every time; 2.5-3 ms with noDelay).
  const tcp: NetServer = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, noDelay: true, handshakeTimeout: deadlineMs }, (s) => broker.handle(guard(s, s)))
    : createNetServer({ noDelay: true }, (s) => broker.handle(guard(s, s)));
  gated(tcp);
  trackSockets(tcp);
  const closers: (() => Promise<void>)[] = [];
  const handleWebSocket = (socket: WebSocket, req: IncomingMessage): void => {
    req.socket.setNoDelay(true);
    const stream = createWebSocketStream(socket);
    stream.on('error', () => socket.terminate());
    broker.handle(guard(stream, req.socket), req);
  };
  let ws: { server: HttpServer; wss: WebSocketServer } | null = null;
  try {
    const port = await listen(tcp, options.host, options.port, 'broker');
    closers.push(() => closeServer(tcp));
    let wsPort: number | null = null;
    if (options.wsPort !== undefined && options.wsPort !== null) {
      const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
      gated(server);
      trackSockets(server);
      server.on('request', (_req, res) => {
        res.writeHead(426, { 'Content-Type': 'text/plain' }).end('MQTT over WebSocket only\n');
      });
      const wss = new WebSocketServer({ server, maxPayload: 256 * 1024 });
      // ws re-emits the HTTP server's errors (a listen EACCES/EADDRINUSE) on wss: listen() below reports them.
      wss.on('error', () => {});
      wss.on('connection', handleWebSocket);
      wsPort = await listen(server, options.host, options.wsPort, 'broker WebSocket');
      ws = { server, wss };
      closers.push(async () => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        await closeServer(server);
      });
    }
    const scheme = options.tls ? 'mqtts' : 'mqtt';
    const host = hostForUrl(options.host);
    return {
      port,
      wsPort,
      url: `${scheme}://${host}:${port}`,
      wsUrl: wsPort === null ? null : `${options.tls ? 'wss' : 'ws'}://${host}:${wsPort}`,
      get connectedClients() {
        return broker.connectedClients;
      },
      connectedAgents() {
        const names = new Set<string>();
        for (const c of clients) {
          const name = agentOf.get(c);
          if (name) names.add(name);
        }
        return names;
      },
      handleWebSocket,
      publish(topic, payload, opts) {
        return new Promise((resolve, reject) =>
          broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: opts.qos, retain: opts.retain, dup: false }, (e) => (e ? reject(e) : resolve())),
        );
      },
      disconnectAgents(names) {
        for (const c of [...clients]) {
          const name = agentOf.get(c);
          if (name && names.has(name)) {
            logger.info(`Broker: closing ${who(c)} (agent removed or changed)`);
            c.close();
          }
        }
      },
      setTls(tls) {
        if (!options.tls) throw new Error('The broker was started without TLS.');
        const context = { cert: tls.cert, key: tls.key };
        (tcp as unknown as { setSecureContext(o: object): void }).setSecureContext(context);
        if (ws) (ws.server as unknown as { setSecureContext(o: object): void }).setSecureContext(context);
      },
      async close() {
        // Stop accepting first, then let aedes close every client, then wait for the servers.
        const servers = closers.reverse().map((close) => close());
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await Promise.all(servers);
        for (const t of deadlines.values()) clearTimeout(t);
        deadlines.clear();
        await checker.close();
      },
    };
  } catch (e) {
    for (const close of closers.reverse()) await close().catch(() => {});
    if (ws) ws.wss.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await checker.close();
    throw e;
  }
}

function listen(server: NetServer, host: string, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `The ${what} port ${port} is already in use (another broker, e.g. Mosquitto, or another hub?). Choose another with --broker-port${what.includes('WebSocket') ? '/--broker-ws-port' : ''}, or 0 for a free one.`
            : err.code === 'EACCES'
              ? `The ${what} port ${port} may not be used by this user (ports below 1024 need root or CAP_NET_BIND_SERVICE). Choose a port above 1024 with --broker-port${what.includes('WebSocket') ? '/--broker-ws-port (e.g. 8083)' : ' (e.g. 1883)'}, or give the service AmbientCapabilities=CAP_NET_BIND_SERVICE.`
              : `Cannot listen for the ${what} on ${host}:${port}: ${err.message}`,
        ),
      );
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

/** Every socket a server accepted and that is still open, so closing the server can end them all. */
const openSockets = new WeakMap<NetServer, Set<Socket>>();

function trackSockets(server: NetServer): void {
  const sockets = new Set<Socket>();
  openSockets.set(server, sockets);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
}

/**
 * Stops accepting and waits for the server to close. Sockets aedes does not know as clients yet (a
 * CONNECT still being authenticated, a WebSocket upgrade under way) would otherwise keep it open for ever:
 * what is left a moment after aedes closed its clients is destroyed.
 */
function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as HttpServer).closeAllConnections?.();
    const left = setTimeout(() => {
      for (const s of openSockets.get(server) ?? []) s.destroy();
    }, 500);
    left.unref();
    server.once('close', () => clearTimeout(left));
  });
}
