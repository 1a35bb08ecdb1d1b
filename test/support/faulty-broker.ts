// A real MQTT broker (aedes) on loopback that can be told to misbehave the way a broker cluster does
// when a node dies, so the hub client's recovery can be tested deterministically (issue #22) without
// waiting for NATS elections: drop one delivery to one client after the publisher got its PUBACK (a
// message lost in flight), lose a client's will (the node holding its session died with it), shut a
// user out (its node is gone), cut a client's connection, and deliver an old message again to a client
// that just subscribed (a cluster replaying queued live messages on reconnect), and stall the store of
// QoS-1 and retained messages the way a NATS node does while a stream has no leader (it stores them in
// JetStream inside the publisher's read loop: nats-server v2.9.10 server/mqtt.go, mqttProcessPub and
// mqttHandlePubRetain; here the message is held before delivery too). No authentication:
// every login is accepted unless its user is shut out.
//
//   const b = await startFaultyBroker();
//   b.dropDelivery = (clientId, topic) => topic.endsWith('/calls');   // lost in flight, once matched
//   b.shutOut.add('callpop-hub'); b.cut('callpop-hub');               // the hub's node "dies"
//   await b.close();
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type Client } from 'aedes';
import type { IPublishPacket } from 'mqtt';

export interface FaultyBroker {
  readonly url: string;
  /** Deliveries for which this returns true are dropped (the publisher's PUBACK is unaffected). */
  dropDelivery: ((clientId: string, topic: string, payload: Buffer) => boolean) | null;
  /** Wills of clients whose id starts with one of these are never published. */
  readonly loseWillsOf: Set<string>;
  /** Logins of these user names are refused (CONNACK 5). */
  readonly shutOut: Set<string>;
  /** Every message published (by anyone, retained or not) on these topics, oldest first. */
  published(topic: string): { payload: Buffer; retain: boolean }[];
  /** Called after a client's SUBSCRIBE was granted (its retained messages are on their way). */
  onSubscribed: ((clientId: string, topics: string[]) => void) | null;
  /**
   * A subscription this returns 'deny' for is refused in its SUBACK (as Mosquitto and the hub's broker
   * do); 'drop' closes the subscriber's connection instead (as some brokers do).
   */
  refuseSubscription: ((clientId: string, topic: string) => 'deny' | 'drop' | null) | null;
  /** How many TCP connections were accepted so far. */
  connections(): number;
  /** Delivers a message as the broker would (to every subscriber), not retained unless asked. */
  inject(topic: string, payload: Buffer | string, opts?: { retain?: boolean }): Promise<void>;
  /**
   * While on, a QoS-1 or retained PUBLISH is held unconfirmed, and its publisher's later packets are
   * not read, until it is turned off (a store that waits for a stream leader). `heldStores` counts them.
   */
  holdStores(on: boolean): void;
  heldStores(): number;
  /** Drops the TCP connection of every client whose id starts with `prefix` (no DISCONNECT: its will fires unless lost). */
  cut(prefix: string): number;
  close(): Promise<void>;
}

export async function startFaultyBroker(): Promise<FaultyBroker> {
  const log = new Map<string, { payload: Buffer; retain: boolean }[]>();
  const sockets = new Map<Client, Socket>();
  const state: Pick<FaultyBroker, 'dropDelivery' | 'onSubscribed' | 'refuseSubscription'> = { dropDelivery: null, onSubscribed: null, refuseSubscription: null };
  let connections = 0;
  const loseWillsOf = new Set<string>();
  const shutOut = new Set<string>();
  let holding = false;
  const held: (() => void)[] = [];
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, _password, done) => {
      if (username !== undefined && shutOut.has(username)) {
        const e = Object.assign(new Error('shut out'), { returnCode: 5 });
        return done(e as Error & { returnCode: 5 }, false);
      }
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      // aedes checks a will with this hook too, passing the client's own will packet.
      const isWill = client !== null && packet === (client as Client & { will?: unknown }).will;
      if (isWill && [...loseWillsOf].some((p) => client.id.startsWith(p))) return done(new Error('will lost with its node'));
      // aedes reads a client's next bytes only once the packets of the last read are handled.
      if (holding && client !== null && !isWill && (packet.qos > 0 || packet.retain)) return void held.push(() => done(null));
      done(null);
    },
    authorizeSubscribe: (client, sub, done) => {
      const verdict = state.refuseSubscription?.(client.id, sub.topic) ?? null;
      if (verdict === 'drop') {
        sockets.get(client)?.destroy();
        return done(new Error('subscription refused'), null);
      }
      done(null, verdict === 'deny' ? null : sub);
    },
    authorizeForward: (client, packet) => {
      const drop = state.dropDelivery;
      if (drop && drop(client.id, packet.topic, Buffer.from(packet.payload))) return null;
      return packet;
    },
  });
  broker.on('publish', (packet, client) => {
    if (!client || packet.topic.startsWith('$SYS')) return;
    const list = log.get(packet.topic) ?? [];
    list.push({ payload: Buffer.from(packet.payload), retain: packet.retain });
    log.set(packet.topic, list);
  });
  broker.on('subscribe', (subs, client) => state.onSubscribed?.(client.id, subs.map((s) => s.topic)));
  const server: Server = createServer((socket) => {
    connections++;
    const client = broker.handle(socket) as Client;
    sockets.set(client, socket);
    socket.once('close', () => sockets.delete(client));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get dropDelivery() {
      return state.dropDelivery;
    },
    set dropDelivery(fn) {
      state.dropDelivery = fn;
    },
    get onSubscribed() {
      return state.onSubscribed;
    },
    set onSubscribed(fn) {
      state.onSubscribed = fn;
    },
    get refuseSubscription() {
      return state.refuseSubscription;
    },
    set refuseSubscription(fn) {
      state.refuseSubscription = fn;
    },
    connections: () => connections,
    holdStores(on) {
      holding = on;
      if (!on) for (const release of held.splice(0)) release();
    },
    heldStores: () => held.length,
    loseWillsOf,
    shutOut,
    published: (topic) => [...(log.get(topic) ?? [])],
    inject: (topic, payload, opts = {}) =>
      new Promise((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: opts.retain ?? false, dup: false } as IPublishPacket, (e) => (e ? reject(e) : resolve())),
      ),
    cut(prefix) {
      let n = 0;
      for (const [client, socket] of sockets) {
        if (client.id?.startsWith(prefix)) {
          socket.destroy();
          n++;
        }
      }
      return n;
    },
    async close() {
      holding = false;
      for (const release of held.splice(0)) release();
      for (const s of sockets.values()) s.destroy();
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
