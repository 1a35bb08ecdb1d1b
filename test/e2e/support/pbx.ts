// A local HTTP server acting as the PBX's recording endpoint: serves a file slowly enough that the
// download progress is visible, and counts requests.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakePbx {
  host: string;
  url(name: string): string;
  body: Buffer;
  requests: string[];
  close(): Promise<void>;
}

export async function startFakePbx(size = 1_200_000, chunks = 24, delayMs = 40): Promise<FakePbx> {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + 7) & 0xff;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
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
    url: (name) => `http://${host}/webapi/recording/${name}`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
