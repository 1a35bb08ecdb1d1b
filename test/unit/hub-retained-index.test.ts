// The hub broker's retained messages: exact filters are answered by lookup, wildcard filters by
// aedes' own scan, and both give what aedes-persistence alone gives.
import { describe, expect, it } from 'vitest';
import memory from 'aedes-persistence';
import { memoryPersistenceWithRetainedIndex } from '../../main/core/hub/broker/retained-index';

type Persistence = ReturnType<typeof memory>;
const packet = (topic: string, payload: string) => ({ cmd: 'publish' as const, topic, payload: Buffer.from(payload), qos: 0 as const, retain: true, dup: false, brokerId: 'b', brokerCounter: 1 });
// Without a callback, as aedes calls it (the callback form waits for a broker to be set).
const store = (p: Persistence, topic: string, payload: string): Promise<void> => (p.storeRetained as unknown as (pkt: unknown) => Promise<void>)(packet(topic, payload));
const retained = async (p: Persistence, patterns: string[]): Promise<string[]> => {
  const out: string[] = [];
  for await (const pkt of p.createRetainedStreamCombi(patterns)) out.push(`${(pkt as { topic: string }).topic}=${String((pkt as { payload: Buffer }).payload)}`);
  return out.sort();
};

describe('memoryPersistenceWithRetainedIndex', () => {
  it('answers exact and wildcard filters as aedes-persistence does, and an empty payload clears a topic', async () => {
    const indexed = memoryPersistenceWithRetainedIndex();
    const plain = memory();
    for (const p of [indexed, plain]) {
      await store(p, 'callpop/v1/s/ext/101/open', 'a');
      await store(p, 'callpop/v1/s/ext/102/open', 'b');
      await store(p, 'callpop/v1/s/hub/status', 'online');
      await store(p, 'callpop/v1/s/ext/101/open', 'a2');
      await store(p, 'callpop/v1/s/ext/102/open', '');
    }
    for (const patterns of [
      ['callpop/v1/s/ext/101/open', 'callpop/v1/s/hub/status', 'callpop/v1/s/ext/102/open', 'callpop/v1/s/ext/999/open'],
      ['callpop/v1/s/ext/+/open'],
      ['callpop/v1/s/#', 'callpop/v1/s/hub/status'],
    ]) {
      expect(await retained(indexed, patterns)).toEqual(await retained(plain, patterns));
    }
    expect(await retained(indexed, ['callpop/v1/s/ext/101/open', 'callpop/v1/s/hub/status'])).toEqual(['callpop/v1/s/ext/101/open=a2', 'callpop/v1/s/hub/status=online']);
    expect(await retained(indexed, ['callpop/v1/s/ext/102/open'])).toEqual([]);
  });
});
