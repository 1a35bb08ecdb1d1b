// A bounded slowloris on loopback for the listener's tests and bench: sockets from many loopback
// source addresses (127.0.0.0/8 is all loopback on Linux), each trickling one header line per
// period and never finishing its request head (or, for TLS, never starting the handshake).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';

export interface SlowlorisOptions {
  port: number;
  /** Local source addresses, e.g. loopbackSources(2, 40) = 127.0.0.2 … 127.0.0.41. */
  sources: readonly string[];
  perSource: number;
  /** Period of the header trickle. */
  lineEveryMs?: number;
  /** 'headers': an HTTP head, one line per period; 'silent': connect and send nothing (a stalled TLS handshake). */
  mode?: 'headers' | 'silent';
  /** Open a new socket one period after one closes (a persistent attacker), until stop(). */
  reconnect?: boolean;
}

export interface Slowloris {
  /** Sockets opened so far (reconnects included). */
  total(): number;
  /** Sockets connected and not closed (the slots the attack holds). */
  open(): number;
  /** Sockets closed (refused, evicted or timed out). */
  closed(): number;
  /** Bytes the listener sent to attack sockets (a refused connection gets none). */
  bytesReceived(): number;
  /** Every socket has either connected or closed. */
  settled(): Promise<void>;
  /** Stop trickling and close every socket; resolves once all are closed. */
  stop(): Promise<void>;
}

export const loopbackSources = (first: number, count: number): string[] => Array.from({ length: count }, (_, i) => `127.0.0.${first + i}`);

export function slowloris(o: SlowlorisOptions): Slowloris {
  const sockets: Socket[] = [];
  const open = new Set<Socket>();
  const closedAll: Promise<void>[] = [];
  const settledAll: Promise<void>[] = [];
  let closed = 0;
  let received = 0;
  let line = 0;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const period = o.lineEveryMs ?? 1000;
  const openOne = (source: string, first: boolean): void => {
    const s = connect({ host: '127.0.0.1', port: o.port, localAddress: source });
    sockets.push(s);
    s.on('error', () => {});
    s.on('data', (d: Buffer) => (received += d.length));
    if (first) settledAll.push(new Promise((r) => s.once('connect', r).once('close', r)));
    s.once('connect', () => {
      if (s.destroyed) return;
      open.add(s);
      if (o.mode !== 'silent') s.write(`POST /webhook/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    });
    closedAll.push(
      new Promise((r) =>
        s.once('close', () => {
          open.delete(s);
          closed++;
          r();
          if (!o.reconnect || stopped) return;
          const t = setTimeout(() => {
            timers.delete(t);
            if (!stopped) openOne(source, false);
          }, period);
          timers.add(t);
        }),
      ),
    );
  };
  for (const source of o.sources) for (let i = 0; i < o.perSource; i++) openOne(source, true);
  const trickle =
    o.mode === 'silent'
      ? null
      : setInterval(() => {
          line++;
          for (const s of open) s.write(`X-Trickle-${line}: ${'x'.repeat(8)}\r\n`);
        }, period);
  return {
    total: () => sockets.length,
    open: () => open.size,
    closed: () => closed,
    bytesReceived: () => received,
    settled: async () => void (await Promise.all(settledAll)),
    async stop() {
      stopped = true;
      if (trickle) clearInterval(trickle);
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await Promise.all(closedAll);
    },
  };
}

export interface PostOptions {
  port: number;
  path: string;
  body: string;
  localAddress?: string;
  /** Trust this certificate and use https. */
  ca?: string | Buffer;
}

/** One POST on its own connection from a chosen loopback source; resolves with the status, rejects on a network error. */
export function postFrom(o: PostOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = o.ca ? httpsRequest : httpRequest;
    const req = request(
      {
        host: '127.0.0.1',
        port: o.port,
        method: 'POST',
        path: o.path,
        agent: false,
        localAddress: o.localAddress,
        ...(o.ca && { ca: o.ca }),
        headers: { 'Content-Type': 'application/json', Connection: 'close' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.end(o.body);
  });
}
