// A local HTTP server acting as the PBX's recording endpoint: serves a file slowly enough that the
// download progress is visible, and counts requests. With `basic`, recordings need those Basic
// credentials (401 with a WWW-Authenticate challenge otherwise), like a PBX behind authentication.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePbx {
  host: string;
  url(name: string): string;
  body: Buffer;
  requests: string[];
  /** The Authorization header of each request ('' when absent). */
  authorizations: string[];
  close(): Promise<void>;
}

export async function startFakePbx(size = 1_200_000, chunks = 24, delayMs = 40, opts: { basic?: { username: string; password: string } } = {}): Promise<FakePbx> {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + 7) & 0xff;
  const requests: string[] = [];
  const authorizations: string[] = [];
  const expected = opts.basic ? `Basic ${Buffer.from(`${opts.basic.username}:${opts.basic.password}`, 'utf8').toString('base64')}` : null;
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    authorizations.push(req.headers.authorization ?? '');
    if (expected && req.headers.authorization !== expected) {
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="3CX recordings"', 'content-type': 'text/plain' }).end('unauthorized');
    }
    if (!/^\/webapi\/recording\/[\w.-]+\.mp3$/.test(req.url ?? '')) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': size });
    const step = Math.ceil(size / chunks);
    let off = 0;
    const tick = () => {
      if (res.destroyed) return;
      const next = Math.min(size, off + step);
      res.write(body.subarray(off, next));
      off = next;
      if (off >= size) res.end();
      else setTimeout(tick, delayMs);
    };
    tick();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    body,
    requests,
    authorizations,
    url: (name) => `http://${host}/webapi/recording/${name}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
