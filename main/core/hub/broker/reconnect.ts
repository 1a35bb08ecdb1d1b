// How a hub connection to an external broker waits between attempts and what it keeps while down;
// shared by the hub's two connections (./external-broker.ts, ./live-connection.ts).
import type { MqttClient } from 'mqtt';
import type { Logger } from '../../../../shared/diagnostics-log';

/**
 * Backoff with jitter: 1 s doubling to 30 s (MQTT.js reads reconnectPeriod before each attempt).
 * With several nodes it doubles once per round through the list: a dead node costs one quick attempt
 * (it doubled at each node that was down or still electing: 8 s and more).
 */
export class NodeBackoff {
  private backoff = 1000;
  private roundCloses = 0;

  constructor(
    private readonly client: MqttClient,
    private readonly nodes: number,
  ) {}

  /** The connection closed: sets the wait before the next attempt. */
  closed(): void {
    const delay = this.backoff;
    if (this.nodes === 1 || ++this.roundCloses >= this.nodes) {
      this.roundCloses = 0;
      this.backoff = Math.min(30_000, this.backoff * 2);
    }
    this.client.options.reconnectPeriod = Math.round(delay * (0.75 + Math.random() * 0.5));
  }

  connected(): void {
    this.backoff = 1000;
    this.roundCloses = 0;
    this.client.options.reconnectPeriod = 1000;
  }
}

/**
 * While disconnected MQTT.js queues messages (in memory) and sends them on reconnect. A long outage on
 * a busy PBX must not grow that without bound: past `max` messages the rest are dropped, with one
 * line; they are in the hub's log, and clients sync when the hub is back.
 */
export class OfflineBound {
  private queued = 0;
  private dropped = 0;

  constructor(
    private readonly max: number,
    private readonly logger: Logger,
    private readonly what: () => string,
  ) {}

  /** False: drop this message (the broker is unreachable and the queue is full). */
  admit(connected: boolean): boolean {
    if (connected) return true;
    if (this.queued >= this.max) {
      if (this.dropped++ === 0) this.logger.warn(`Broker ${this.what()} unreachable: ${this.max} messages queued, dropping the rest until it is back (clients catch up from the hub's log)`);
      return false;
    }
    this.queued++;
    return true;
  }

  connected(): void {
    if (this.dropped > 0) this.logger.info(`Broker ${this.what()} back: ${this.dropped} message(s) were dropped meanwhile`);
    this.queued = 0;
    this.dropped = 0;
  }
}
