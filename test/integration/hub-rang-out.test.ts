// Issue #20 item 9 through a real hub (embedded broker on loopback, real HubClients, real call logs):
// a call that rings with no end event is ended by the hub's ring timeout with the record's marker
// (endedBy "ring-timeout"); the marker crosses the wire live, lands in the agent's own call log, stays
// in the hub's log across a hub restart, and reaches a desktop catching up from nothing.
import { describe, expect, it } from 'vitest';
import { outcomeLabel } from '../../shared/call-outcome';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../main/core/hub/hub';
import { HubClient, type HubCallUpdate } from '../../main/core/hub-client/hub-client';
import { testScope } from '../support/test-scope';

const { cleanups, tempDir } = testScope('callpop-hub-rang-out-');
const secret = 'rangoutsecret_0123456789AB';

async function until(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a rang-out call through the hub', () => {
  it('carries its marker live, into the agent log, across a hub restart and in a catch-up', async () => {
    let clockMs = Date.now();
    const hubDir = await tempDir();
    const { password } = await addAgent(hubDir, { name: 'anna', extensions: ['117'] });
    const start = (port = 0): Promise<Hub> =>
      startHub({ dataDir: hubDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port }, secret, tickMs: 20, agentsPollMs: 100, ringTimeoutSec: 10, now: () => clockMs });
    let hub = await start();
    const port = Number(new URL(hub.brokerUrl).port);
    cleanups.push(() => hub.close());
    const client = async (): Promise<{ client: HubClient; live: HubCallUpdate[] }> => {
      const c = await HubClient.start({ dataDir: await tempDir(), url: hub.brokerUrl, user: 'anna', password, extension: '117', reconnect: { initialMs: 50, maxMs: 300 }, syncTimeoutMs: 2000 });
      cleanups.push(() => c.close());
      const live: HubCallUpdate[] = [];
      c.onUpdates((u) => live.push(...u));
      await until('synced', () => {
        const s = c.currentStatus();
        return s.state === 'connected' && s.synced;
      });
      return { client: c, live };
    };
    const desk = await client();

    const id = `261207${String(Date.now()).slice(-6)}_91`;
    const res = await fetch(hub.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Event: 'ringing', Callerid: '05551230091', User: '117', Usertype: 'ext', Did: '', Id: `${id}-0` }),
    });
    expect(res.status).toBe(200);
    await until('the ring reached the desk', () => desk.live.some((u) => u.record.id === id && u.record.status === 'ringing'));
    // No end event ever comes; the hub's ring timeout (10 s on its clock) ends it.
    clockMs += 11_000;
    await until('the ring timeout reached the desk', () => desk.live.some((u) => u.record.id === id && u.record.status === 'ended'));
    const ended = desk.live.find((u) => u.record.id === id && u.record.status === 'ended')!;
    expect(ended.change).toBe('missed');
    expect(ended.record).toMatchObject({ result: 'missed', endedBy: 'ring-timeout' });
    await until('in the agent log', () => desk.client.store.get(id)?.status === 'ended');
    expect(desk.client.store.get(id)!.endedBy).toBe('ring-timeout');
    expect(outcomeLabel(desk.client.store.get(id)!)).toBe('Missed (rang out, no end seen)');

    // The hub's own log keeps it: after a restart a desktop with an empty log catches up with the marker.
    await hub.close();
    hub = await start(port);
    const fresh = await client();
    await until('caught up', () => fresh.client.store.get(id) !== undefined);
    expect(fresh.client.store.get(id)).toMatchObject({ status: 'ended', result: 'missed', endedBy: 'ring-timeout' });
  }, 30_000);
});
