// The hub's in-process MQTT broker: aedes 1.2 (a well-kept pure-JS broker; MQTT 3.1 and 3.1.1 only:
// an MQTT 5 CONNECT is refused with return code 1 "unacceptable protocol version", so clients use
// 3.1.1), over TCP and optionally WebSocket, both with TLS when given a certificate.
//
// Access is enforced here on connect (agent name + password, scrypt), subscribe (exact allowed
// filters only, else a negative SUBACK), publish (an agent's own sync requests only, else the
// connection is closed: MQTT 3.1.1 has no PUBACK error) and delivery (authorizeForward checks every
// message against the agent again, behind the subscribe rule). The hub itself publishes with
// broker.publish, which no client can do.
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Logger } from '../../../shared/log';
import { reachableAddresses } from '../listener/listener';
import { mayRead, publishDenied, subscribeDenied } from './access';
import type { Agent } from './agents';
import { verifyPassword } from './agents';
import { MAX_CLIENT_PACKET_BYTES, withPacketLimit } from './packet-limit';
import { memoryPersistenceWithRetainedIndex } from './retained-index';
import { RateLimitedLog } from '../rate-limited-log';

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
  /** Password checks waiting or running at once before logins are refused with 3 (default 256). */
  maxPendingLogins?: number;
  /** Messages published by clients that the hub handles (sync requests), after authorizePublish. */
  onClientPublish: (topic: string, payload: Buffer, clientId: string) => void;
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
}

/** Password checks (scrypt) waiting or running at once; more logins at the same time are refused with 3. */
const MAX_PENDING_PASSWORD_CHECKS = 256;
/** Open connections the broker accepts (the rest are refused at once). */
const MAX_CONNECTIONS = 20_000;

const badCredentials = (): AuthenticateError => Object.assign(new Error('Bad user name or password'), { returnCode: 4 as const });

/** The address to print for a broker bound to `host`: for a wildcard, this machine's first network address (as the webhook URL). */
function hostForUrl(host: string): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? (reachableAddresses(host === '0.0.0.0')[0] ?? '127.0.0.1') : host;
  return h.includes(':') ? `[${h}]` : h;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { site, logger } = options;
  const refusals = new RateLimitedLog(logger, 'broker refusals');
  /** client → agent name, set once authenticated. */
  const agentOf = new WeakMap<Client, string>();
  /** Successful checks by (agent, password hash, password): reconnects skip scrypt (~60 ms each). */
  const verified = new Set<string>();
  const clients = new Set<Client>();
  let checking = 0;

  const broker = await Aedes.createBroker({
    persistence: memoryPersistenceWithRetainedIndex(),
    // A frozen subscriber must not stall delivery to everyone (see aedes' drainTimeout).
    drainTimeout: 10_000,
    connectTimeout: 10_000,
    maxClientsIdLength: 128,
    heartbeatInterval: 60_000,
  });
  const who = (client: Client | null): string => {
    const name = client ? agentOf.get(client) : undefined;
    const addr = (client?.conn as Socket | undefined)?.remoteAddress ?? client?.req?.socket.remoteAddress;
    return `${name ? `agent ${name}` : 'client'} ${JSON.stringify(client?.id ?? '?')}${addr ? ` from ${addr}` : ''}`;
  };

  broker.authenticate = (client, username, password, done) => {
    const name = username ?? '';
    const agent = options.agent(name);
    if (!agent || !password) {
      refusals.note(`Broker refused ${who(client)}: ${agent ? 'no password' : `unknown agent ${JSON.stringify(name.slice(0, 64))}`}`);
      return done(badCredentials(), false);
    }
    // Persistent sessions would make the in-memory broker queue every call of an agent that never
    // comes back (without bound); clients catch up by sync instead. 3.1.1 has no better code than 2.
    if (!client.clean) {
      refusals.note(`Broker refused ${who(client)}: persistent sessions (clean session 0) are not accepted; connect with a clean session, the backfill catches up`);
      return done(Object.assign(new Error('Identifier rejected'), { returnCode: 2 as const }), false);
    }
    const key = createHash('sha256').update(agent.name).update('\0').update(agent.passwordHash).update('\0').update(password).digest('base64');
    const accept = (): void => {
      agentOf.set(client, agent.name);
      done(null, true);
    };
    if (verified.has(key)) return accept();
    // Each check costs ~60 ms of scrypt: bound how many wait, so a flood of logins cannot queue up
    // minutes of work (the excess is told "server unavailable" and retries later).
    if (checking >= (options.maxPendingLogins ?? MAX_PENDING_PASSWORD_CHECKS)) {
      refusals.note(`Broker refused ${who(client)}: too many logins being checked at once`);
      return done(Object.assign(new Error('Server unavailable'), { returnCode: 3 as const }), false);
    }
    checking++;
    verifyPassword(password, agent.passwordHash).finally(() => checking--).then(
      (ok) => {
        // The agent may have been removed or changed while scrypt ran.
        if (!ok || options.agent(name)?.passwordHash !== agent.passwordHash) {
          refusals.note(`Broker refused ${who(client)}: wrong password for agent ${agent.name}`);
          return done(badCredentials(), false);
        }
        if (verified.size > 10_000) verified.clear();
        verified.add(key);
        accept();
      },
      (e: unknown) => {
        logger.error(`Password check failed: ${(e as Error).message}`);
        done(Object.assign(new Error('Server unavailable'), { returnCode: 3 as const }), false);
      },
    );
  };

  broker.authorizeSubscribe = (client, sub, done) => {
    const agent = options.agent(agentOf.get(client) ?? '');
    const reason = agent ? subscribeDenied(agent, site, sub.topic) : 'agent removed';
    if (reason) {
      refusals.note(`Broker refused subscription of ${who(client)} to ${JSON.stringify(sub.topic.slice(0, 200))}: ${reason}`);
      return done(null, null);
    }
    done(null, sub);
  };

  broker.authorizePublish = (client, packet, done) => {
    // client null: a will of a client already gone; agents' wills are checked like any publish.
    const agent = client ? options.agent(agentOf.get(client) ?? '') : undefined;
    const reason = agent ? publishDenied(agent, site, packet.topic, packet.retain) : 'not an agent';
    if (reason) {
      refusals.note(`Broker refused publish of ${who(client)} to ${JSON.stringify(packet.topic.slice(0, 200))}: ${reason}`);
      return done(new Error(reason));
    }
    done(null);
  };

  broker.authorizeForward = (client, packet) => {
    const agent = options.agent(agentOf.get(client) ?? '');
    if (packet.topic.startsWith('$SYS/')) return null;
    return agent && mayRead(agent, site, packet.topic) ? packet : null;
  };

  broker.on('publish', (packet, client) => {
    if (client) options.onClientPublish(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), client.id);
  });
  broker.on('client', (c) => {
    clients.add(c);
    options.onPresence?.();
  });
  broker.on('clientDisconnect', (c) => {
    clients.delete(c);
    options.onPresence?.();
  });
  broker.on('clientError', (c, e) => {
    if (clients.delete(c)) options.onPresence?.();
    logger.debug(`Broker: ${who(c)}: ${e.message}`);
  });
  broker.on('connectionError', (c, e) => refusals.note(`Broker connection error (${who(c)}): ${e.message}`));

  const guard = <S extends Duplex & { remoteAddress?: string }>(s: S, from: string | undefined): Duplex =>
    withPacketLimit(s, MAX_CLIENT_PACKET_BYTES, (n) => refusals.note(`Broker cut a connection${from ? ` from ${from}` : ''}: it announced a packet of at least ${n} bytes (limit ${MAX_CLIENT_PACKET_BYTES})`));
  // No Nagle: aedes writes a PUBLISH in pieces, and Nagle held the rest until the client's delayed ACK
  // (a pop measured 44 ms POST → client every time; 2.5-3 ms with noDelay).
  const tcp: NetServer = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key, noDelay: true }, (s) => broker.handle(guard(s, s.remoteAddress)))
    : createNetServer({ noDelay: true }, (s) => broker.handle(guard(s, s.remoteAddress)));
  tcp.maxConnections = MAX_CONNECTIONS;
  trackSockets(tcp);
  const closers: (() => Promise<void>)[] = [];
  const handleWebSocket = (socket: WebSocket, req: IncomingMessage): void => {
    req.socket.setNoDelay(true);
    const stream = createWebSocketStream(socket);
    stream.on('error', () => socket.terminate());
    broker.handle(guard(stream, req.socket.remoteAddress), req);
  };
  let ws: { server: HttpServer; wss: WebSocketServer } | null = null;
  try {
    const port = await listen(tcp, options.host, options.port, 'broker');
    closers.push(() => closeServer(tcp));
    let wsPort: number | null = null;
    if (options.wsPort !== undefined && options.wsPort !== null) {
      const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
      server.maxConnections = MAX_CONNECTIONS;
      trackSockets(server);
      server.on('request', (_req, res) => {
        res.writeHead(426, { 'Content-Type': 'text/plain' }).end('MQTT over WebSocket only\n');
      });
      const wss = new WebSocketServer({ server, maxPayload: 256 * 1024 });
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
      async close() {
        // Stop accepting first, then let aedes close every client, then wait for the servers.
        const servers = closers.reverse().map((close) => close());
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await Promise.all(servers);
      },
    };
  } catch (e) {
    for (const close of closers.reverse()) await close().catch(() => {});
    if (ws) ws.wss.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
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
