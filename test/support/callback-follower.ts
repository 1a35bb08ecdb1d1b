// A desktop's shared-callbacks list on a plain MQTT.js client, for tests: the real HubCallbacks
// (main/core/hub-client/callbacks.ts, what HubClient runs) fed by the client's messages, so a test sees
// what a desktop would show (the retained list plus the change messages after it). `drop` loses chosen
// messages before they reach it (a change message lost across a reconnect), and the sync requests it
// sends are counted.
import type { MqttClient } from 'mqtt';
import { HubCallbacks } from '../../main/core/hub-client/callbacks';
import type { CallbackItem } from '../../shared/team-protocol';

export interface CallbackFollower {
  callbacks: HubCallbacks;
  items(): CallbackItem[];
  /** Sync requests sent (one after subscribing, one more per gap noticed). */
  syncs(): number;
  /** Messages it ignored as malformed. */
  bad: string[];
}

export async function followCallbacks(c: MqttClient, ext: string, o: { site?: string; drop?: (topic: string, payload: Buffer) => boolean } = {}): Promise<CallbackFollower> {
  let syncs = 0;
  const callbacks = new HubCallbacks(o.site ?? 'default', ext, c.options.clientId!, async (topic, payload) => {
    if (topic.endsWith('/callbacks/req') && (JSON.parse(payload) as { action?: string }).action === 'sync') syncs++;
    await c.publishAsync(topic, payload, { qos: 1 });
  });
  const bad: string[] = [];
  c.on('message', (topic, payload) => {
    if (o.drop?.(topic, payload)) return;
    callbacks.handle(topic, payload, (e) => bad.push(e));
  });
  await c.subscribeAsync(callbacks.subscriptions());
  callbacks.subscribed();
  return { callbacks, items: () => callbacks.list(), syncs: () => syncs, bad };
}
