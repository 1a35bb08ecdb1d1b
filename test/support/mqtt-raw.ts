// MQTT 3.1.1 CONNECTs written by hand on a plain socket, for the hub's attack tests and bench: an
// attacker chooses its source address (127.0.0.2), sends exactly one CONNECT and reads the CONNACK's
// return code, without MQTT.js's reconnects, keep-alives or queues in the way.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RawConnect {
  port: number;
  host?: string;
  localAddress?: string;
  clientId: string;
  username: string;
  password: string;
  /** TLS without checking the certificate (the tests' self-signed one). */
  tls?: boolean;
  /** Give up (code -1) after this long. Default 20 s. */
  timeoutMs?: number;
}

const str = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

/** The remaining-length varint of MQTT's fixed header. */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A 3.1.1 CONNECT with clean session, user name and password, keep-alive 60 s. */
export function connectPacket(o: { clientId: string; username: string; password: string }): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0b1100_0010, 0, 60]), str(o.clientId), str(o.username), str(o.password)]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** A PUBLISH (3.1.1) with the given QoS; packet id 1 when QoS > 0. */
export function publishPacket(topic: string, payload: Buffer | string, qos: 0 | 1 | 2, packetId = 1): Buffer {
  const body = Buffer.concat([str(topic), qos > 0 ? Buffer.from([packetId >> 8, packetId & 0xff]) : Buffer.alloc(0), Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(body.length), body]);
}

/** Opens a socket, sends one CONNECT, resolves with the CONNACK return code (-1: closed or timed out without one) and the socket. */
export function rawConnectSocket(o: RawConnect): Promise<{ code: number; ms: number; socket: Socket }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const host = o.host ?? '127.0.0.1';
    const tcp = netConnect({ host, port: o.port, localAddress: o.localAddress });
    const socket: Socket = o.tls ? tlsConnect({ socket: tcp, rejectUnauthorized: false }) : tcp;
    if (o.tls) tcp.on('error', () => {});
    let got = Buffer.alloc(0);
    let settled = false;
    const done = (code: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, ms: performance.now() - t0, socket });
    };
    const timer = setTimeout(() => done(-1), o.timeoutMs ?? 20_000);
    socket.on(o.tls ? 'secureConnect' : 'connect', () => socket.write(connectPacket(o)));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got[0] === 0x20) done(got[3]!);
    });
    socket.on('error', () => done(-1));
    socket.on('close', () => done(-1));
  });
}

/** One CONNECT on its own connection; resolves with the CONNACK code (-1: none) and the time it took; the socket is closed. */
export async function rawConnect(o: RawConnect): Promise<{ code: number; ms: number }> {
  const { code, ms, socket } = await rawConnectSocket(o);
  socket.destroy();
  return { code, ms };
}
