// The embedded broker's ports (./embedded-broker.ts): the connection gate and login deadline every
// port's TCP connections pass first, listening with an error that says what to do, and closing a
// server without waiting for ever on sockets aedes does not know yet.
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { admitThroughGate, reachableAddresses } from '../../listener/listener';
import type { ConnectionGate } from '../../listener/connection-gate';
import type { RateLimitedLog } from '../../rate-limited-log';

export interface GateOptions {
  gate: ConnectionGate;
  refusals: RateLimitedLog;
  /** "address|port" of connections not logged in yet → their deadline (cleared by the login). */
  deadlines: Map<string, NodeJS.Timeout>;
  deadlineMs: number;
  peerOf(socket: Socket): string;
  /** A backstop only: the gate enforces the limits. */
  maxConnections: number;
}

/** The address to print for a broker bound to `host`: for a wildcard, this machine's first network address (as the webhook URL). */
export function hostForUrl(host: string): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? (reachableAddresses(host === '0.0.0.0')[0] ?? '127.0.0.1') : host;
  return h.includes(':') ? `[${h}]` : h;
}

/** Every broker port's TCP connections pass the gate first, and get the login deadline. */
export function gateConnections(server: NetServer, o: GateOptions): void {
  const { gate, refusals, deadlines, deadlineMs, peerOf } = o;
  admitThroughGate(
    server,
    gate,
    (from, reason) => refusals.note(`Broker refused a connection from ${from || '?'}: ${reason}`),
    (socket, from) => {
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
    },
  );
  // A backstop only: the gate enforces the limits.
  server.maxConnections = o.maxConnections;
}

export function listen(server: NetServer, host: string, port: number, what: string): Promise<number> {
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

export function trackSockets(server: NetServer): void {
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
export function closeServer(server: NetServer): Promise<void> {
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
