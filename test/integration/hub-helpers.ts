// Shared by the hub's integration tests: a hub on loopback in a temp folder, MQTT.js agent clients,
// message collection and polling. Everything started here is stopped by cleanup().
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startHub, type Hub, type HubOptions } from '../../main/core/hub/hub';
import { agentClientId } from '../../shared/hub-protocol';

export interface Received {
  topic: string;
  text: string;
  json: unknown;
  retain: boolean;
}

export class HubHarness {
  dataDir = '';
  hub: Hub | null = null;
  readonly clients: MqttClient[] = [];
  readonly logs: string[] = [];
  readonly logger = { debug() {}, info: (m: string) => this.logs.push(m), warn: (m: string) => this.logs.push(m), error: (m: string) => this.logs.push(m) };

  async init(): Promise<void> {
    this.dataDir = await mkdtemp(join(tmpdir(), 'callpop-hub-'));
    this.logs.length = 0;
  }

  async start(more: Partial<HubOptions> = {}): Promise<Hub> {
    this.hub = await startHub({ dataDir: this.dataDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, logger: this.logger, agentsPollMs: 50, tickMs: 60_000, ...more });
    return this.hub;
  }

  async connect(username: string, password: string, more: IClientOptions = {}): Promise<MqttClient> {
    const c = await mqtt.connectAsync(this.hub!.brokerUrl, { username, password, clientId: agentClientId(username), reconnectPeriod: 0, protocolVersion: 4, ...more });
    this.clients.push(c);
    return c;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
    await this.hub?.close();
    this.hub = null;
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}

export function collect(c: MqttClient): Received[] {
  const got: Received[] = [];
  c.on('message', (topic, payload, packet) => {
    const text = payload.toString();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* kept as text */
    }
    got.push({ topic, text, json, retain: packet.retain });
  });
  return got;
}

export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Granted QoS of one subscription (128 = refused). */
export async function grantedQos(c: MqttClient, filter: string): Promise<number> {
  try {
    const granted = await c.subscribeAsync(filter, { qos: 1 });
    return granted[0]!.qos;
  } catch (e) {
    // MQTT.js rejects a SUBACK with a failure code; the packet says which.
    const granted = (e as { packet?: { granted?: (number | { qos: number })[] } }).packet?.granted?.[0];
    if (granted === undefined) throw e;
    return typeof granted === 'number' ? granted : granted.qos;
  }
}
