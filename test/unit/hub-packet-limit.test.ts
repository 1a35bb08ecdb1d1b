// The MQTT packet size guard in front of the embedded broker follows packet boundaries through a byte
// stream however it is cut into chunks.
import { describe, expect, it } from 'vitest';
import { packetSizeChecker } from '../../main/core/hub/broker/packet-limit';

/** An MQTT packet: type byte, remaining length (varint), body. */
function packet(type: number, bodyLength: number): Buffer {
  const len: number[] = [];
  let n = bodyLength;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), Buffer.alloc(bodyLength, 0x61)]);
}

/** Feeds `data` in chunks of `size` bytes; the first verdict that is not null, else null. */
function feed(max: number, data: Buffer, size: number): number | null {
  const check = packetSizeChecker(max);
  for (let i = 0; i < data.length; i += size) {
    const r = check(data.subarray(i, i + size));
    if (r !== null) return r;
  }
  return null;
}

describe('packetSizeChecker', () => {
  const ok = Buffer.concat([packet(0x10, 40), packet(0x82, 0), packet(0x30, 127), packet(0x30, 128), packet(0x30, 16_383), packet(0x30, 16_384), packet(0xc0, 0)]);

  it('lets a stream of packets within the limit through, whatever the chunking', () => {
    for (const size of [1, 2, 3, 7, 64, 1000, ok.length]) expect([size, feed(20_000, ok, size)]).toEqual([size, null]);
  });

  it('reports the first packet over the limit from its header alone, whatever the chunking', () => {
    const data = Buffer.concat([ok, packet(0x30, 20_001).subarray(0, 5)]);
    for (const size of [1, 2, 5, 64, data.length]) expect([size, feed(20_000, data, size)]).toEqual([size, 20_001]);
    // 256 MB announced in a CONNECT before anything else: cut as soon as the length read so far is over.
    expect(feed(65_536, Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), 1)).toBe(2_097_151);
  });

  it('treats a remaining length of more than 4 bytes as malformed', () => {
    expect(feed(Number.MAX_SAFE_INTEGER, Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]), 1)).toBe(Number.MAX_SAFE_INTEGER);
  });
});
