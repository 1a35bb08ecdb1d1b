// Pre-auth connection exhaustion (slowloris) against the real listener, all on loopback: attacker
// sockets come from 127.0.0.2 and up, the PBX from 127.0.0.1, so allow-lists and per-source caps
// apply as they would on a LAN. Bounded: at most 600 sockets, each attack stopped in afterEach.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startListener, type Listener, type ListenerOptions } from '../../main/core/listener/listener';
import { sourceKey } from '../../main/core/listener/connection-gate';
import { loopbackSources, postFrom, slowloris, type Slowloris } from '../support/slowloris';
import { selfSignedCert } from '../support/self-signed-cert';

const secret = 'attackSecret_0123456789abc';
const path = `/webhook/${secret}`;
const pbx = '127.0.0.1';
const webhook = (n: number): string => JSON.stringify({ Event: 'ringing', Callerid: '05551239988', User: '202', Usertype: 'ext', Did: '', Id: `230307114903_${n}-0` });

let listener: Listener | null = null;
let attack: Slowloris | null = null;
let received = 0;
let release: (() => void) | null = null;

async function start(extra: Partial<ListenerOptions> = {}): Promise<Listener> {
  received = 0;
  listener = await startListener({
    host: '127.0.0.1',
    port: 0,
    secret,
    // Node's own header timeout must not be what saves the PBX here: far beyond any test.
    timeouts: { headersMs: 120_000, requestMs: 120_000 },
    onWebhook: async () => {
      received++;
      return { status: 'ok' };
    },
    ...extra,
  });
  return listener;
}

/** Wait until the attack's sockets are all connected or closed and the count of open ones holds still. */
async function steady(a: Slowloris): Promise<number> {
  await a.settled();
  let last = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 150));
    if (a.open() === last) return last;
    last = a.open();
  }
}

/** The open count once a reset sent before now has surely reached the attacker. */
async function settledOpen(a: Slowloris): Promise<number> {
  await new Promise((r) => setTimeout(r, 200));
  return a.open();
}

afterEach(async () => {
  release?.();
  release = null;
  await attack?.stop();
  attack = null;
  await listener?.close();
  listener = null;
});

describe('listener under a slowloris', () => {
  it('with an allow-list, refuses other sources at connect time: a PBX webhook sent during the attack is answered at once', async () => {
    const l = await start({ allowedSources: [pbx], allowLoopback: false });
    attack = slowloris({ port: l.port, sources: loopbackSources(2, 40), perSource: 15 });
    // Sent while the 600 connections are still arriving, and again once they all have.
    expect(await postFrom({ port: l.port, path, body: webhook(1), localAddress: pbx })).toBe(200);
    expect(await steady(attack)).toBe(0);
    expect(await postFrom({ port: l.port, path, body: webhook(2), localAddress: pbx })).toBe(200);
    expect(received).toBe(2);
    expect(attack.closed()).toBe(600);
    // Refused before any byte: not even an HTTP error answer went to the attackers.
    expect(attack.bytesReceived()).toBe(0);
  });

  it('without an allow-list, a PBX never seen before gets through while the attack holds every slot it may', async () => {
    const l = await start();
    attack = slowloris({ port: l.port, sources: loopbackSources(2, 40), perSource: 15 });
    // 600 sockets, 15 per source (under the per-source cap of 16): they may hold 512 - 64 reserved slots.
    expect(await steady(attack)).toBe(448);
    expect(await postFrom({ port: l.port, path, body: webhook(1), localAddress: pbx })).toBe(200);
    // Answered while the attack still holds its slots (it made room by dropping one attacker), so
    // long before any timeout could have freed one.
    await expect.poll(() => attack?.open()).toBe(447);
    // A second webhook: the PBX is now trusted and takes a reserved slot, dropping no one.
    expect(await postFrom({ port: l.port, path, body: webhook(2), localAddress: pbx })).toBe(200);
    expect(await settledOpen(attack)).toBe(447);
    expect(received).toBe(2);

    // Recovery right after the attack stops: a source never seen before is served at once.
    await attack.stop();
    expect(await postFrom({ port: l.port, path, body: webhook(3), localAddress: '127.0.0.200' })).toBe(200);
  });

  it('against an attacker that reconnects every dropped socket, webhooks from new sources keep getting through', async () => {
    const l = await start();
    attack = slowloris({ port: l.port, sources: loopbackSources(2, 40), perSource: 15, lineEveryMs: 200, reconnect: true });
    expect(await steady(attack)).toBeGreaterThanOrEqual(440);
    for (let i = 1; i <= 5; i++) expect(await postFrom({ port: l.port, path, body: webhook(i), localAddress: `127.0.1.${i}` })).toBe(200);
    expect(received).toBe(5);
    // Still under attack: the attacker holds its slots throughout.
    expect(attack.open()).toBeGreaterThanOrEqual(440);
  });

  it('a PBX that posted before the attack uses the reserved slots and drops no attacker', async () => {
    const l = await start();
    expect(await postFrom({ port: l.port, path, body: webhook(1), localAddress: pbx })).toBe(200);
    attack = slowloris({ port: l.port, sources: loopbackSources(2, 40), perSource: 15 });
    expect(await steady(attack)).toBe(448);
    for (let i = 2; i <= 4; i++) expect(await postFrom({ port: l.port, path, body: webhook(i), localAddress: pbx })).toBe(200);
    expect(await settledOpen(attack)).toBe(448);
    expect(received).toBe(4);
  });

  it('caps the connections of one source', async () => {
    const l = await start({ maxConnectionsPerSource: 8 });
    attack = slowloris({ port: l.port, sources: ['127.0.0.9'], perSource: 40 });
    expect(await steady(attack)).toBe(8);
    expect(attack.closed()).toBe(32);
    expect(await postFrom({ port: l.port, path, body: webhook(1), localAddress: pbx })).toBe(200);
    expect(await settledOpen(attack)).toBe(8);
  });

  it('caps an allow-listed source too, at four times the per-source cap', async () => {
    const l = await start({ allowedSources: ['127.0.0.0/8'], allowLoopback: false, maxConnectionsPerSource: 4 });
    attack = slowloris({ port: l.port, sources: ['127.0.0.9'], perSource: 40 });
    expect(await steady(attack)).toBe(16);
    expect(await postFrom({ port: l.port, path, body: webhook(1), localAddress: pbx })).toBe(200);
  });

  it('never drops a connection whose webhook is being handled to make room', async () => {
    let handled = 0;
    const l = await start({
      maxConnections: 4,
      maxConnectionsPerSource: 4,
      onWebhook: async () => {
        handled++;
        await new Promise<void>((r) => (release = r));
        return { status: 'ok' };
      },
    });
    const inFlight = postFrom({ port: l.port, path, body: webhook(1), localAddress: pbx });
    await expect.poll(() => handled).toBe(1);
    // Ten newcomers, each dropping the oldest idle connection: never the PBX's, which is the oldest.
    attack = slowloris({ port: l.port, sources: loopbackSources(2, 10), perSource: 1 });
    expect(await steady(attack)).toBe(3);
    release?.();
    expect(await inFlight).toBe(200);
  });

  it('applies before the TLS handshake: stalled handshakes cannot lock the PBX out of an HTTPS listener', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callpop-attack-tls-'));
    try {
      const { cert, key } = selfSignedCert(dir);
      const l = await start({ tls: { cert, key }, maxConnections: 64, maxConnectionsPerSource: 8 });
      attack = slowloris({ port: l.port, sources: loopbackSources(2, 10), perSource: 8, mode: 'silent' });
      // 64 slots, 8 reserved: the stalled handshakes hold 56.
      expect(await steady(attack)).toBe(56);
      expect(await postFrom({ port: l.port, path, body: webhook(1), localAddress: pbx, ca: cert })).toBe(200);
      await expect.poll(() => attack?.open()).toBe(55);
      expect(await postFrom({ port: l.port, path, body: webhook(2), localAddress: pbx, ca: cert })).toBe(200);
      expect(await settledOpen(attack)).toBe(55);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sourceKey', () => {
  it('counts IPv4 by address and IPv6 by /64', () => {
    expect(sourceKey('192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::5')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('fe80::1:2:3:4')).toBe('fe80:0:0:0::/64');
    expect(sourceKey('::ffff:1.2.3.4')).toBe('0:0:0:0::/64');
  });
});
