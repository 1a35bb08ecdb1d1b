// Trusting exactly one self-signed hub certificate by its SHA-256 fingerprint (settings.hubFingerprint),
// the way recordings pin the PBX's (../download/tls-pin.ts): the chain check is off for that connection
// only and replaced by a stricter one. MQTT.js writes its CONNECT packet (agent name and password) as
// soon as it has a stream, so the stream it gets holds every byte back until the handshake is done and
// the peer's certificate is the pinned one; a different certificate ends the connection unsent.
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { MqttClient, type IClientOptions } from 'mqtt';
import WebSocket, { createWebSocketStream } from 'ws';
import { normalizeFingerprint, peerMatchesPin } from '../download/tls-pin';

/** Holds writes until open(); reads pass through. */
class PinGate extends Duplex {
  private verified = false;
  private held: { chunk: Buffer; cb: (e?: Error | null) => void }[] = [];

  constructor(private readonly inner: Duplex) {
    super();
    inner.on('data', (d: Buffer) => {
      if (!this.push(d)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (e: Error) => this.destroy(e));
    inner.on('close', () => this.destroy());
  }

  open(): void {
    this.verified = true;
    for (const h of this.held.splice(0)) this.inner.write(h.chunk, h.cb);
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.verified) this.inner.write(chunk, cb);
    else this.held.push({ chunk, cb });
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.inner.end(cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.held = [];
    this.inner.destroy();
    cb(err);
  }
}

// With a code: MQTT.js passes only stream errors that have one on to the client (the status shows it).
const mismatch = (pin: string) =>
  Object.assign(new Error(`The hub's certificate is not the pinned one (SHA-256 ${pin.slice(0, 8)}…); nothing was sent`), { code: 'ERR_CERT_PIN_MISMATCH' });

function pinnedTls(u: URL, pin: string): Duplex {
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const socket = tls.connect({ host, port: Number(u.port || 8883), servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false });
  // No Nagle, as HubClient sets on its own sockets (a held-back PUBACK stalls the next pop ~40 ms).
  socket.setNoDelay(true);
  const gate = new PinGate(socket);
  socket.once('secureConnect', () => (peerMatchesPin(socket, pin) ? gate.open() : gate.destroy(mismatch(pin))));
  return gate;
}

function pinnedWs(u: URL, pin: string): Duplex {
  // The WebSocket upgrade carries no credential (MQTT's CONNECT does, after it); the pin is checked on
  // the upgrade's TLS socket before the stream lets a byte through.
  const ws = new WebSocket(u.href, ['mqtt'], { rejectUnauthorized: false, perMessageDeflate: false });
  const gate = new PinGate(createWebSocketStream(ws));
  ws.once('upgrade', (res) => {
    const socket = res.socket as tls.TLSSocket;
    socket.setNoDelay?.(true);
    if (typeof socket.getPeerCertificate === 'function' && peerMatchesPin(socket, pin)) gate.open();
    else {
      ws.terminate();
      gate.destroy(mismatch(pin));
    }
  });
  return gate;
}

/** Whether `url` can be pinned (TLS), or the reason it cannot. */
export function pinProblem(url: string): string | null {
  const p = new URL(url).protocol;
  return p === 'mqtts:' || p === 'wss:' ? null : 'A certificate fingerprint pins a TLS hub: use an mqtts:// or wss:// address.';
}

/** A drop-in for MQTT.js's connect() that talks only to the hub whose certificate has this fingerprint. */
export function pinnedConnect(fingerprint: string): (url: string, opts: IClientOptions) => MqttClient {
  const pin = normalizeFingerprint(fingerprint);
  return (url, opts) => {
    const problem = pinProblem(url);
    if (problem) throw new Error(problem);
    const u = new URL(url);
    return new MqttClient(() => (u.protocol === 'mqtts:' ? pinnedTls(u, pin) : pinnedWs(u, pin)), { ...opts });
  };
}
