// Issue 18 §2 in Chromium: the desktop on a hub whose source is 3CX Call Control (the fake Call Control
// server, test/support/fake-3cx-call-control.ts, a real `callpop hub` with its actions, the page's core a
// real hub client). The card shows Answer / Hang up / Transfer to… only where the source can do them,
// Call back dials from the agent's own phone there (makecall) and opens tel: elsewhere,
// the fake PBX receives exactly the request, and a refusal is shown in words. On a PC's own listener
// (the WebAPI webhooks) the card has none of them.
import { expect, test } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../shared/diagnostics-log';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../main/core/hub/hub';
import { attachCallControl } from '../../main/core/call-control/hub-source';
import { callControlExecutor, startHubActions } from '../../main/core/call-control/hub-actions';
import type { CallControlClient } from '../../main/core/call-control/client';
import { participant } from '../support/call-control-scenarios';
import { startFakeCallControl, type FakeCallControl } from '../support/fake-3cx-call-control';
import { Bridge } from './bridge/bridge';
import { blockNonLoopback, openView } from './fixtures';
import { incomingCall, play } from './support/flows';

let dir = '';
let fake: FakeCallControl;
let hub: Hub;
let cc: CallControlClient;
let password = '';
const bridges: Bridge[] = [];

test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-e2e-cc-'));
  password = (await addAgent(dir, { name: 'anna', extensions: ['117'], displayName: 'Anna' })).password;
  await addAgent(dir, { name: 'ben', extensions: ['204'], displayName: 'Ben' });
  fake = await startFakeCallControl({ clients: { callpop: 'e2e-secret' }, dns: { '117': 'Wextension', '204': 'Wextension' } });
  hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, agentsPollMs: 50, tickMs: 60_000, actions: ['call', 'hangup', 'transfer', 'answer'] });
  cc = await attachCallControl(hub, { dataDir: dir, pbx: new URL(fake.url), clientId: 'callpop', clientSecret: 'e2e-secret', logger: silentLogger });
  await cc.ready;
  startHubActions(hub, { site: 'default', executor: callControlExecutor(cc), logger: silentLogger });
});

test.afterEach(async ({ context }) => {
  await context.close();
  for (const b of bridges.splice(0)) await b.close().catch(() => undefined);
  await cc?.close();
  await hub?.close();
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

test('on a Call Control hub: Answer refused in words, Transfer and Hang up reach the PBX as asked', async ({ context }) => {
  await blockNonLoopback(context);
  const bridge = await Bridge.start({
    hubPassword: password,
    settings: { extension: '117', source: 'hub', hubUrl: hub.brokerUrl, hubAgent: 'anna' },
    backend: { hub: { reconnect: { initialMs: 50, maxMs: 300 }, syncTimeoutMs: 3000 } },
  });
  bridges.push(bridge);
  const main = await openView(context, bridge, 'main');
  const popup = await openView(context, bridge, 'popup');
  await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');

  fake.upsert(participant({ id: 501, dn: '117', status: 'Ringing', callid: 5000, callerId: '05551239988', name: 'ACME Ltd' }));
  const card = popup.locator('article.card');
  await expect(card).toHaveCount(1);
  await expect(card).toContainText('555 123 99 88');
  // No contact for the number: the PBX's own name for the caller.
  await expect(card.locator('.name')).toHaveText('ACME Ltd');
  await expect(card.getByRole('button', { name: 'Answer' })).toBeVisible();
  await expect(card.getByRole('button', { name: 'Hang up' })).toBeVisible();
  // Only a talking call can be transferred.
  await expect(card.getByRole('button', { name: 'Transfer to…' })).toHaveCount(0);

  // The fake phone has no direct control: the hub says so, and nothing reaches the PBX.
  await card.getByRole('button', { name: 'Answer' }).click();
  await expect(card.getByRole('status')).toHaveText('Your phone does not let the PBX answer for you; pick up on the phone.');
  expect(fake.actions).toEqual([]);

  fake.upsert(participant({ id: 501, dn: '117', status: 'Connected', callid: 5000, callerId: '05551239988', name: 'ACME Ltd' }));
  await expect(card.getByRole('button', { name: 'Transfer to…' })).toBeVisible();
  await expect(card.getByRole('button', { name: 'Answer' })).toHaveCount(0);
  await card.getByRole('button', { name: 'Transfer to…' }).click();
  // Colleagues by name from the hub's directory (not herself).
  await expect(card.locator('datalist option')).toHaveCount(1);
  await expect(card.locator('datalist option')).toHaveAttribute('value', '204');
  await expect(card.locator('datalist option')).toHaveText('Ben');
  await card.getByLabel('Transfer to (extension or number)').fill('204');
  await card.getByRole('button', { name: 'Transfer', exact: true }).click();
  await expect(card.getByRole('status')).toHaveText('Done.');
  expect(fake.actions).toEqual([expect.objectContaining({ dn: '117', action: 'transferto', participantId: 501, body: { destination: '204' } })]);

  await card.getByRole('button', { name: 'Hang up' }).click();
  await expect.poll(() => fake.actions.map((a) => a.action)).toEqual(['transferto', 'drop']);
  // The PBX dropped the participant: the call ends on the card, whose Call back now dials from her
  // own phone through the PBX (makecall on 117) instead of opening tel:.
  await card.getByRole('button', { name: 'Call back' }).click();
  await expect.poll(() => fake.actions.at(-1)).toMatchObject({ dn: '117', action: 'makecall', body: { destination: '05551239988' } });
  expect(bridge.recorded.opened).toEqual([]);
});

test('on a PC’s own listener (WebAPI webhooks) the card offers none of the actions', async ({ context }) => {
  await blockNonLoopback(context);
  const bridge = await Bridge.start({ settings: { extension: '117' } });
  bridges.push(bridge);
  const popup = await openView(context, bridge, 'popup');
  const call = incomingCall({ number: '05551239988', extension: '117', result: 'answered', stopAfter: 'ringing' });
  expect(await play(bridge.webhookUrl, call.requests)).toEqual([200]);
  const card = popup.locator('article.card');
  await expect(card).toHaveCount(1);
  await expect(card.getByRole('button', { name: 'Copy number' })).toBeVisible();
  await expect(card.getByTestId('call-actions')).toHaveCount(0);
  await expect(card.getByRole('button', { name: 'Hang up' })).toHaveCount(0);
});
