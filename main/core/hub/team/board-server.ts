// The supervisors' board on one port (`callpop hub --board-port PORT`): the built board page
// (renderer/board, built into out/board and shipped beside the CLI bundle) over HTTP, or HTTPS with
// the hub's certificate, and MQTT over WebSocket on the path /mqtt of the same port, handed to the
// embedded broker, which checks the login and every subscription as for any client (access.ts: only
// supervisors read the board). One port is enough for a wall display behind a firewall.
//
// Only GET/HEAD of the page's own files are served (no directory listing, no path outside the folder).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../../../shared/diagnostics-log';
import { reachableAddresses } from '../../listener/listener';
import type { BrokerTls, EmbeddedBroker } from '../broker/embedded-broker';

export interface BoardServerOptions {
  host: string;
  port: number;
  tls: BrokerTls | null;
  broker: Pick<EmbeddedBroker, 'handleWebSocket'>;
  site: string;
  logger: Logger;
  /** The built page; default: out/board beside the CLI bundle (or of the checkout, from source). */
  dir?: string;
}

export interface BoardServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const MAX_CONNECTIONS = 2000;

/** out/board: beside out/cli in the bundle, or the checkout's out/board when run from source. */
export function defaultBoardDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From source this file is main/core/hub/team/: four levels under the checkout.
  const candidates = [join(here, '..', 'board'), join(here, '..', '..', '..', '..', 'out', 'board')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

export async function startBoardServer(o: BoardServerOptions): Promise<BoardServer> {
  const dir = normalize(o.dir ?? defaultBoardDir());
  const headers = {
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Method not allowed\n');
        return;
      }
      let path: string;
      try {
        path = decodeURIComponent(new URL(req.url ?? '/', 'http://board').pathname);
      } catch {
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Bad path\n');
        return;
      }
      if (path === '/mqtt') {
        res.writeHead(426, { 'Content-Type': 'text/plain' }).end('MQTT over WebSocket only\n');
        return;
      }
      if (path === '/board-config.json') {
        // What the page needs to know: which site's topics to read.
        res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' }).end(JSON.stringify({ site: o.site }));
        return;
      }
      if (path === '/' || path === '') path = '/index.html';
      const file = normalize(join(dir, path));
      if (!file.startsWith(dir + sep) || path.includes('\0')) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found\n');
        return;
      }
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        const missing = path === '/index.html';
        res.writeHead(missing ? 503 : 404, { 'Content-Type': 'text/plain' }).end(missing ? `The board page is not built (no ${file}): run npm run build.\n` : 'Not found\n');
        return;
      }
      res.writeHead(200, {
        ...headers,
        'Content-Type': types[extname(file)] ?? 'application/octet-stream',
        'Content-Length': body.length,
        // Vite's asset names carry a content hash; the page itself must always be fresh.
        'Cache-Control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    })().catch((e: unknown) => {
      o.logger.error(`Board: ${(e as Error).message}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server: Server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, onRequest) : createHttpServer(onRequest);
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://board').pathname !== '/mqtt') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => o.broker.handleWebSocket(ws, req));
  });
  const port = await new Promise<number>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(new Error(err.code === 'EADDRINUSE' ? `The board port ${o.port} is already in use. Choose another with --board-port, or 0 for a free one.` : `Cannot listen for the board on ${o.host}:${o.port}: ${err.message}`));
    server.once('error', onError);
    server.listen({ host: o.host, port: o.port, exclusive: true }, () => {
      server.off('error', onError);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : o.port);
    });
  });
  const wildcard = o.host === '0.0.0.0' || o.host === '::' || o.host === '';
  const h = wildcard ? (reachableAddresses(o.host === '0.0.0.0')[0] ?? '127.0.0.1') : o.host;
  const url = `${o.tls ? 'https' : 'http'}://${h.includes(':') ? `[${h}]` : h}:${port}/`;
  return {
    url,
    port,
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
