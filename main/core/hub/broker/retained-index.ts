// aedes' in-memory persistence finds a subscription's retained messages by testing every retained
// topic against each filter: O(retained topics) per subscribe. A hub keeps a retained open list per
// extension (thousands of topics) and agents subscribe by exact topic only (the ACL refuses
// wildcards), so 1,000 desktops reconnecting after a hub restart cost some ten million topic tests
// on the hub's one thread (the largest part of its CPU in the bench's connect phase). This keeps the
// retained packets by topic as well and answers exact filters by lookup; a filter with a wildcard
// still goes to aedes' own scan.
import memory from 'aedes-persistence';

interface RetainedPacket {
  topic: string;
  payload: { length: number };
}

/** The async layer inside aedes-persistence's callback wrapper (a public property of aedes-persistence 11). */
interface AsyncRetained {
  storeRetained(packet: RetainedPacket): Promise<void>;
  createRetainedStreamCombi(patterns: string[]): Iterable<unknown> | AsyncIterable<unknown>;
  createRetainedStream(pattern: string): Iterable<unknown> | AsyncIterable<unknown>;
}

const isExact = (filter: string): boolean => !filter.includes('+') && !filter.includes('#');

/** aedes' memory persistence, with retained messages of exact filters found by lookup. */
export function memoryPersistenceWithRetainedIndex(): ReturnType<typeof memory> {
  const persistence = memory();
  const inner = (persistence as unknown as { asyncPersistence: AsyncRetained }).asyncPersistence;
  const byTopic = new Map<string, RetainedPacket>();
  const store = inner.storeRetained.bind(inner);
  inner.storeRetained = async (packet) => {
    await store(packet);
    // As aedes-persistence does: an empty payload clears the topic's retained message.
    if (packet.payload.length === 0) byTopic.delete(packet.topic);
    else byTopic.set(packet.topic, { ...packet });
  };
  const lookup = (topics: string[]): RetainedPacket[] => topics.flatMap((t) => byTopic.get(t) ?? []);
  const combi = inner.createRetainedStreamCombi.bind(inner);
  inner.createRetainedStreamCombi = (patterns) => (patterns.every(isExact) ? lookup(patterns) : combi(patterns));
  const one = inner.createRetainedStream.bind(inner);
  inner.createRetainedStream = (pattern) => (isExact(pattern) ? lookup([pattern]) : one(pattern));
  return persistence;
}
