// The hub client and the hub's list of an agent's extensions (issue #20, first-run hub sign-in), on a real
// aedes broker on loopback (test/support/faulty-broker.ts) that refuses topics the way brokers do: in
// the SUBACK, or by dropping the connection. An extension that is not the agent's ends in a refusal in
// words and no more connections; a hub that does not publish the list (an older one) behaves as before:
// the right extension connects, a refused one keeps being retried.
import { describe, expect, it } from 'vitest';
import { HubClient, type HubClientStatus } from '../../main/core/hub-client/hub-client';
import { HUB_PROTOCOL_VERSION, topics } from '../../shared/hub-protocol';
import { startFaultyBroker, type FaultyBroker } from '../support/faulty-broker';
import { testScope } from '../support/test-scope';
import { sleep, until } from './hub-helpers';

const { cleanups, tempDir } = testScope('callpop-agent-ext-');

async function broker(): Promise<FaultyBroker> {
  const b = await startFaultyBroker();
  cleanups.push(() => b.close());
  return b;
}

/** The hub's retained list of anna's extensions. */
const publishList = (b: FaultyBroker, extensions: string[]): Promise<void> =>
  b.inject(topics.agentExtensions('default', 'anna'), JSON.stringify({ v: HUB_PROTOCOL_VERSION, extensions }), { retain: true });

/** Refuses every topic of extensions other than `own` (as the hub's broker does for an agent). */
const onlyExtensions =
  (own: string[], how: 'deny' | 'drop') =>
  (_clientId: string, topic: string): 'deny' | 'drop' | null => {
    const m = /\/ext\/([^/]+)\//.exec(topic);
    return m && !own.includes(m[1]!) ? how : null;
  };

async function client(url: string, extension: string, agentAnswerMs?: number): Promise<{ client: HubClient; statuses: HubClientStatus[] }> {
  const c = await HubClient.start({ dataDir: await tempDir(), url, user: 'anna', password: 'pw', extension, reconnect: { initialMs: 20, maxMs: 100 }, ...(agentAnswerMs !== undefined && { agentAnswerMs }) });
  cleanups.push(() => c.close());
  const statuses: HubClientStatus[] = [];
  c.onStatus((s) => statuses.push(s));
  return { client: c, statuses };
}

describe('the hub client reads the agent’s extensions', () => {
  for (const how of ['deny', 'drop'] as const) {
    it(`an extension not hers ends in a refusal naming hers, and no more connections (broker refusal: ${how})`, async () => {
      const b = await broker();
      await publishList(b, ['204', '205']);
      b.refuseSubscription = onlyExtensions(['204', '205'], how);
      const { client: c, statuses } = await client(b.url, '117');
      await until(() => c.currentStatus().state === 'refused', 'refused', 10_000);
      expect(c.currentStatus()).toEqual({
        state: 'refused',
        url: b.url,
        about: 'extension',
        reason: "The hub does not give anna extension 117 (anna's extensions there: 204, 205). Check the extension in Settings or ask your administrator.",
      });
      const attempts = b.connections();
      expect(attempts).toBeLessThanOrEqual(3);
      await sleep(1000); // 10 to 50 backoff periods of this test's
      expect(b.connections()).toBe(attempts);
      expect(statuses.at(-1)?.state).toBe('refused');
    });
  }

  it('her extension connects and stays connected', async () => {
    const b = await broker();
    await publishList(b, ['117']);
    b.refuseSubscription = onlyExtensions(['117'], 'deny');
    const { client: c } = await client(b.url, '117');
    await until(() => c.currentStatus().state === 'connected', 'connected');
    await sleep(300);
    expect(c.currentStatus().state).toBe('connected');
    expect(b.connections()).toBe(1);
  });

  it('an older hub (no list): the right extension connects at once, also when the agent topic itself is refused', async () => {
    for (const refuseAgentTopic of [false, true]) {
      const b = await broker();
      b.refuseSubscription = (_id, topic) => (refuseAgentTopic && topic.includes('/agent/') ? 'deny' : null);
      const { client: c } = await client(b.url, '117');
      await until(() => c.currentStatus().state === 'connected', 'connected');
      expect(b.connections()).toBe(1);
    }
  });

  it('an older hub (no list) that refuses the extension: retried as before, never called not hers', async () => {
    const b = await broker();
    b.refuseSubscription = onlyExtensions(['204'], 'deny');
    const { client: c, statuses } = await client(b.url, '117', 50);
    await until(() => b.connections() >= 4, 'several attempts', 10_000);
    expect(statuses.some((s) => s.state === 'refused')).toBe(false);
    expect(c.currentStatus().state).not.toBe('refused');
  });
});
