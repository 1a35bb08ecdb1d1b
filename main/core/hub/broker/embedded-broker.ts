// The hub's in-process MQTT broker: aedes 1.2 (a well-kept pure-JS broker; MQTT 3.1 and 3.1.1 only:
// an MQTT 5 CONNECT is refused with return code 1 "unacceptable protocol version", so clients use
// 3.1.1), over TCP and optionally WebSocket, both with TLS when given a certificate.
//
// Access is enforced here on connect (agent name + password, scrypt on its own thread, failed logins
// throttled; the client id must be the agent's own: shared/hub-protocol.ts agentClientId; ./broker-login.ts), subscribe
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
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Logger } from '../../../../shared/diagnostics-log';
import { normalizeAddress } from '../../listener/listener';
import { ConnectionGate, type ConnectionLimits } from '../../listener/connection-gate';
import { mayRead, publishDenied, subscribeDenied } from './access';
import type { Agent } from '../accounts/agents';
import { BrokerLogin } from './broker-login';
import { closeServer, gateConnections, hostForUrl, listen, trackSockets } from './broker-ports';
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
  publish(topic: string, payload: string | Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  /** Stores the retained message later subscribers of `topic` get; sends it to no current subscriber (the Transport's `keepRetained`). */
  keepRetained(topic: string, payload: Buffer): Promise<void>;
  /** In the hub's process: every message reaches it at once (the Transport's `liveUp`). */
  readonly liveUp: true;
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

/**
 * All broker ports together. Per source: an office behind one NAT address gets 64 connections until one
 * of its agents logs in, then 256 (the gate's trusted factor); 2,000 of the 10,000 slots are kept for
 * sources that logged in within 24 h, and up to 20,000 such sources are remembered.
 */
export const brokerConnectionLimits: ConnectionLimits = { max: 10_000, perSource: 64, reserved: 2_000, trustedSources: 20_000 };
const LOGIN_DEADLINE_MS = 10_000;
/**
 * Publishes of one connection being handled at once (authorized, not yet passed on). aedes handles
 * every packet of a read batch at the same time; an agent sends one sync request at a time.
 */
export const MAX_INBOUND_IN_FLIGHT = 32;

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { site, logger } = options;
  const refusals = new RateLimitedLog(logger, 'broker refusals');
  /** client → agent name, set once authenticated. */
  const agentOf = new WeakMap<Client, string>();
  const clients = new Set<Client>();
  /** What the agent was when the client logged in: a change since (removed, new password or extensions) closes it. */
  const loggedInAs = new WeakMap<Client, Agent>();
  /** Publishes authorized and not yet passed on, per client. */
  const inbound = new WeakMap<Client, number>();
  /** agent name → its open (logged-in) clients. */
  const byAgent = new Map<string, Set<Client>>();
  const limits: ConnectionLimits = { ...brokerConnectionLimits, ...options.connectionLimits };
  const gate = new ConnectionGate(limits, null, () => true);
  const deadlineMs = options.loginDeadlineMs ?? LOGIN_DEADLINE_MS;
  /** The raw TCP socket under each stream handed to aedes (to mark it logged in, and for its address). */
  const rawOf = new WeakMap<Duplex, Socket>();
  /** "address|port" of connections not logged in yet → their deadline (a TLS socket is not its TCP one, the peer is the same). */
  const deadlines = new Map<string, NodeJS.Timeout>();
  const peerOf = (s: Socket): string => `${s.remoteAddress ?? ''}|${s.remotePort ?? ''}`;
  const rawSocketOf = (client: Client | null): Socket | undefined => (client?.conn ? rawOf.get(client.conn as Duplex) : undefined);
  // Normalized: on a dual-stack socket every IPv4 client is "::ffff:a.b.c.d", which as IPv6 would put
  // them all in one /64 for the gate and the throttle.
  const addressOf = (client: Client | null): string => normalizeAddress(rawSocketOf(client)?.remoteAddress ?? client?.req?.socket.remoteAddress ?? '');
  const who = (client: Client | null): string => {
    const name = client ? agentOf.get(client) : undefined;
    const addr = addressOf(client);
    return `${name ? `agent ${name}` : 'client'} ${JSON.stringify((client?.id ?? '?').slice(0, 160))}${addr ? ` from ${addr}` : ''}`;
  };
  const login = await BrokerLogin.create({
    agent: options.agent,
    logger,
    refusals,
    maxPendingLogins: options.maxPendingLogins,
    maxConnectionsPerAgent: options.maxConnectionsPerAgent,
    freeFailedLogins: options.freeFailedLogins,
    addressOf,
    who,
    byAgent,
    loggedIn: (client, agent, address) => {
      agentOf.set(client, agent.name);
      loggedInAs.set(client, agent);
      const raw = rawSocketOf(client);
      if (raw) {
        clearTimeout(deadlines.get(peerOf(raw)));
        deadlines.delete(peerOf(raw));
        // Never dropped to make room for a newcomer.
        gate.setBusy(raw.remoteAddress, raw.remotePort, true);
      }
      if (address) gate.prove(address);
    },
  });

  const broker = await Aedes.createBroker({
    persistence: memoryPersistenceWithRetainedIndex(),
    // A frozen subscriber must not stall delivery to everyone (see aedes' drainTimeout).
    drainTimeout: 10_000,
    connectTimeout: 10_000,
    maxClientsIdLength: 160,
    heartbeatInterval: 60_000,
  });
  broker.authenticate = login.authenticate;

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
  const gated = (server: NetServer): void => gateConnections(server, { gate, refusals, deadlines, deadlineMs, peerOf, maxConnections: limits.max * 2 });
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
      liveUp: true,
      publish(topic, payload, opts) {
        return new Promise((resolve, reject) =>
          broker.publish({ cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts.qos, retain: opts.retain, dup: false }, (e) => (e ? reject(e) : resolve())),
        );
      },
      keepRetained(topic, payload) {
        // What aedes' own retained publish stores (its persistence), minus the delivery to subscribers:
        // a later SUBSCRIBE reads it from there (aedes' handlers/subscribe.js uses cmd, topic, payload, qos).
        return (broker as unknown as { persistence: { storeRetained(p: object): Promise<void> } }).persistence.storeRetained({ cmd: 'publish', topic, payload, qos: 1, retain: true, dup: false });
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
        await login.close();
      },
    };
  } catch (e) {
    for (const close of closers.reverse()) await close().catch(() => {});
    if (ws) ws.wss.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await login.close();
    throw e;
  }
}
