// A cap on the size of MQTT packets a client may send to the embedded broker. aedes (like the MQTT
// spec) accepts packets of up to 256 MB and buffers each whole before looking at it, even a CONNECT
// from someone who has not logged in yet: on a hub that faces the internet that is a memory DoS.
// Agents only ever send small packets (CONNECT, SUBSCRIBE, a sync request of a few hundred bytes),
// so the connection is cut as soon as a packet's fixed header announces more than the cap.
import { Duplex } from 'node:stream';

/** Far above anything a Callpop client sends (a sync request is < 1 KiB). */
export const MAX_CLIENT_PACKET_BYTES = 64 * 1024;

/** Follows packet boundaries through a byte stream; returns the length announced so far once a packet's exceeds `max`, else null. */
export function packetSizeChecker(max: number): (chunk: Uint8Array) => number | null {
  /** Bytes of the current packet's body still to skip. */
  let body = 0;
  /** Fixed header bytes after the type byte (the remaining-length varint), -1 = expecting a type byte. */
  let lengthBytes = -1;
  let length = 0;
  let multiplier = 1;
  return (chunk) => {
    for (let i = 0; i < chunk.length; ) {
      if (body > 0) {
        const take = Math.min(body, chunk.length - i);
        body -= take;
        i += take;
        continue;
      }
      const b = chunk[i++]!;
      if (lengthBytes === -1) {
        lengthBytes = 0;
        length = 0;
        multiplier = 1;
        continue;
      }
      length += (b & 0x7f) * multiplier;
      multiplier *= 128;
      lengthBytes++;
      if (length > max) return length;
      if (b & 0x80) {
        // A remaining length has at most 4 bytes; a fifth is malformed.
        if (lengthBytes >= 4) return Number.MAX_SAFE_INTEGER;
        continue;
      }
      body = length;
      lengthBytes = -1;
    }
    return null;
  };
}

/**
 * `inner` as aedes (or the hub client's MQTT.js) should see it: the same bytes both ways, but destroyed
 * (and `onTooBig` told) as soon as the peer announces a packet over `max` bytes. Keeps `remoteAddress`
 * for the broker's log lines, and `setNoDelay`.
 */
export function withPacketLimit(
  inner: Duplex & { remoteAddress?: string; setNoDelay?: (on?: boolean) => unknown },
  max: number,
  onTooBig: (announced: number) => void,
): Duplex & { remoteAddress?: string; setNoDelay?: (on?: boolean) => void } {
  const check = packetSizeChecker(max);
  const outer: Duplex & { remoteAddress?: string; setNoDelay?: (on?: boolean) => void } = new Duplex({
    read() {
      inner.resume();
    },
    write(chunk: Buffer, encoding, callback) {
      inner.write(chunk, encoding, callback);
    },
    // mqtt-packet writes a packet in pieces (header, topic, payload) between cork and uncork: passed on
    // corked too, they leave in one writev instead of a syscall each (the hub's publishes were ~15% of
    // its CPU in socket writes).
    writev(chunks, callback) {
      inner.cork();
      for (let i = 0; i < chunks.length - 1; i++) inner.write(chunks[i]!.chunk);
      inner.write(chunks[chunks.length - 1]!.chunk, callback);
      inner.uncork();
    },
    final(callback) {
      inner.end();
      callback();
    },
    destroy(err, callback) {
      inner.destroy();
      callback(err);
    },
  });
  outer.remoteAddress = inner.remoteAddress;
  // The hub client turns Nagle off on its stream (a PUBACK held back stalls the next PUBLISH ~40 ms).
  if (typeof inner.setNoDelay === 'function') outer.setNoDelay = (on) => void inner.setNoDelay!(on);
  inner.on('data', (chunk: Buffer) => {
    const over = check(chunk);
    if (over !== null) {
      onTooBig(over);
      inner.destroy();
      outer.destroy();
      return;
    }
    if (!outer.push(chunk)) inner.pause();
  });
  inner.on('end', () => outer.push(null));
  inner.on('error', (e) => outer.destroy(e));
  inner.on('close', () => outer.destroy());
  return outer;
}
