// HubClient against a hostile (or spoofed) hub: a bare TCP server on loopback that accepts the CONNECT
// and then announces a 200 MB PUBLISH on the client's calls topic. The client must cut the connection
// at the packet's header (not buffer it), store nothing, say so once, and reconnect as after any loss.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '../../shared/hub-protocol';
import { HubClient } from '../../main/core/hub-client/hub-client';
import { remainingLength } from '../support/mqtt-raw';
import { until } from './hub-helpers';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('HubClient against a hostile hub', () => {
  it('cuts a connection whose packet announces 200 MB (after reading at most a few MB), stores nothing and reconnects', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'callpop-hostile-hub-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const connections: { socket: Socket; sent: number; closed: boolean }[] = [];
    const server: Server = createServer((socket) => {
      const c = { socket, sent: 0, closed: false };
      connections.push(c);
      socket.on('error', () => {});
      socket.on('close', () => (c.closed = true));
      socket.once('data', () => {
        // CONNACK accepted, then a PUBLISH (QoS 0) announcing 200 MB, its body trickled in 1 MB pieces.
        socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        const topic = Buffer.from(topics.calls('default', '117'));
        const size = 200 * 1024 * 1024;
        socket.write(Buffer.concat([Buffer.from([0x30]), remainingLength(size), Buffer.from([topic.length >> 8, topic.length & 0xff]), topic]));
        const piece = Buffer.alloc(1024 * 1024, 0x20);
        const more = (): void => {
          if (c.closed || c.sent >= size) return;
          c.sent += piece.length;
          if (socket.write(piece)) setImmediate(more);
          else socket.once('drain', more);
        };
        more();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const c of connections) c.socket.destroy();
          server.close(() => r());
        }),
    );
    const port = (server.address() as { port: number }).port;
    const logs: string[] = [];
    const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    const client = await HubClient.start({ dataDir, url: `mqtt://127.0.0.1:${port}`, user: 'anna', password: 'secret-password', extension: '117', logger, reconnect: { initialMs: 50, maxMs: 100 } });
    cleanups.push(() => client.close());
    await until(() => connections.length >= 2, 'a reconnect after the cut', 10_000);
    expect(connections[0]!.closed).toBe(true);
    // Cut at the header: the server got to send a few pieces at most, never the 200 MB.
    expect(connections[0]!.sent).toBeLessThan(32 * 1024 * 1024);
    expect(logs.some((l) => /The hub sent a packet of at least \d+ bytes \(limit 33554432\); connection cut/.test(l))).toBe(true);
    expect(client.store.size).toBe(0);
  }, 20_000);
});
