// The hub publishes a change before its write is durable (a pop is never held up by the disk), and
// still acknowledges the webhook only once the write is done. Real hub, listener, embedded broker and
// MQTT.js client on loopback, real log files; only the log's durability promise is held back.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { callChangeMessageSchema, topics } from '../../shared/hub-protocol';
import { sendWebhook } from '../../main/core/listener/test-call';
import { addAgent } from '../../main/core/hub/accounts/agents';
import type * as HubLogModuleNs from '../../main/core/hub/log/hub-log';
import { HubHarness, collect, sleep } from './hub-helpers';

/** While set, every hub log write reports durable only after it (a disk that has not finished the fsync). */
let hold: Promise<void> | null = null;
let release: () => void = () => {};

vi.mock('../../main/core/hub/log/hub-log', async (importOriginal) => {
  const real = await importOriginal<typeof HubLogModuleNs>();
  const open = async (...a: Parameters<typeof real.HubLog.open>) => {
    const log = await real.HubLog.open(...a);
    const append = log.append.bind(log);
    log.append = (records) => {
      const r = append(records);
      const held = hold;
      return { seqs: r.seqs, durable: held ? held.then(() => r.durable) : r.durable };
    };
    return log;
  };
  const HubLog = new Proxy(real.HubLog, { get: (target, key, receiver) => (key === 'open' ? open : Reflect.get(target, key, receiver)) });
  return { ...real, HubLog };
});

const h = new HubHarness();
beforeEach(() => h.init());
afterEach(async () => {
  release();
  hold = null;
  await h.cleanup();
});

describe('hub: pop before disk', () => {
  it('publishes the ringing change while its write is pending, and answers the webhook only after the write', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start();
    const c = await h.connect('anna', anna.password);
    const got = collect(c);
    await c.subscribeAsync(topics.calls('default', '202'), { qos: 1 });
    hold = new Promise<void>((resolve) => (release = resolve));
    // Steps before the agent's phone rings (IVR, queue) change no record: answered at once.
    let heldStep = -1;
    for (const [i, raw] of flowRequests(findSeedFlow('incoming-missed')!).entries()) {
      let settled = false;
      const post = sendWebhook(h.hub!.webhookUrl, raw).finally(() => (settled = true));
      await sleep(150);
      if (heldStep === -1 && got.some((m) => callChangeMessageSchema.parse(m.json).change === 'ringing')) {
        heldStep = i;
        // Published, not yet acknowledged: the write is still pending.
        expect(settled).toBe(false);
        release();
      }
      expect((await post).status).toBe(200);
    }
    expect(heldStep).toBeGreaterThan(0);
  });
});
