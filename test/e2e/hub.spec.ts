// The desktop app on a Callpop hub, in Chromium through the bridge: the page's core is a real hub client
// of a REAL `callpop hub` (embedded broker) on loopback (test/e2e/support/hub.ts).
import { expect, test } from '@playwright/test';
import { parsePolicy } from '../../shared/policy';
import { openView } from './fixtures';
import { incomingCall, play } from './support/flows';
import { HubRig } from './support/hub';

let rig: HubRig;
test.beforeEach(async () => {
  rig = await HubRig.start();
});
test.afterEach(async ({ context }) => {
  await context.close();
  await rig.stop();
});

test('a ring sent to the hub pops on the page, and the header says connected', async ({ context }) => {
  const bridge = await rig.bridge(context);
  const main = await openView(context, bridge, 'main');
  const popup = await openView(context, bridge, 'popup');
  await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');
  const call = incomingCall({ number: '05551239988', extension: '117', result: 'answered', stopAfter: 'ringing' });
  expect(await play(rig.hub.webhookUrl, call.requests)).toEqual([200]);
  await expect(popup.locator('article.card')).toHaveCount(1);
  await expect(popup.locator('article.card')).toContainText('555 123 99 88');
  expect(bridge.popupVisible).toBe(true);
  await expect(main.getByRole('tab', { name: 'Calls' })).toHaveAttribute('aria-selected', 'true');
  await expect(main.locator('main')).toContainText('555 123 99 88');
});

test('a wrong password shows the refusal in the header and Settings; a new one connects', async ({ context }) => {
  const bridge = await rig.bridge(context, { hubPassword: 'not-annas-password' });
  const main = await openView(context, bridge, 'main');
  await expect(main.getByTestId('service-status')).toHaveText('Hub refused the password');
  const banner = main.getByTestId('hub-banner');
  await expect(banner).toContainText('does not retry');
  await banner.getByRole('button', { name: 'Open Settings' }).click();
  await expect(main.getByRole('tab', { name: 'Settings' })).toHaveAttribute('aria-selected', 'true');
  await expect(main.getByTestId('hub-status')).toContainText('Hub refused the password');
  // The test call needs this PC's own listener: not offered on a hub.
  await expect(main.getByRole('button', { name: 'Send test call' })).toHaveCount(0);
  // Not retried in a loop: still refused a while later, no reconnecting in between.
  await main.waitForTimeout(500);
  expect(bridge.status().service.state).toBe('hub-refused');

  const connection = main.getByTestId('connection');
  await expect(connection.getByLabel('Password', { exact: true })).toHaveAttribute('placeholder', /Saved/);
  await connection.getByLabel('Password', { exact: true }).fill(rig.passwords.anna);
  await connection.getByRole('button', { name: 'Save password' }).click();
  await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');
  await expect(main.getByTestId('hub-status')).toHaveText('Connected to hub · extension 117');
  await expect(banner).toHaveCount(0);
  // The password never reaches the page.
  expect(await main.evaluate(() => document.documentElement.outerHTML)).not.toContain(rig.passwords.anna);
});

test('a core offline during two calls shows them in the log after reconnecting, with one summary and no popups', async ({ context }) => {
  const bridge = await rig.bridge(context);
  const main = await openView(context, bridge, 'main');
  const popup = await openView(context, bridge, 'popup');
  await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');

  rig.relay.setOffline(true);
  await expect(main.getByTestId('service-status')).toHaveText(/^Reconnecting since \d\d:\d\d$/);
  const a = incomingCall({ number: '05551110001', extension: '117', result: 'missed' });
  const b = incomingCall({ number: '05551110002', extension: '117', result: 'missed' });
  await play(rig.hub.webhookUrl, a.requests);
  await play(rig.hub.webhookUrl, b.requests);
  await main.waitForTimeout(300);
  expect(bridge.popupVisible).toBe(false);

  rig.relay.setOffline(false);
  await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');
  await expect(main.getByRole('tab', { name: /Log/ }).locator('.badge')).toHaveText('2');
  await main.getByRole('tab', { name: /Log/ }).click();
  await expect(main.locator('main')).toContainText('555 111 00 01');
  await expect(main.locator('main')).toContainText('555 111 00 02');
  await expect.poll(() => bridge.recorded.notifications.map((n) => n.title)).toEqual(['2 missed calls while you were away']);
  await main.waitForTimeout(500);
  expect(bridge.recorded.notifications).toHaveLength(1);
  expect(bridge.popupVisible).toBe(false);
  await expect(popup.locator('article.card')).toHaveCount(0);
});

test('a policy-preset hub shows its locked fields read-only and asks only for the password', async ({ context }) => {
  const policy = parsePolicy({
    lockReason: 'Set by Contoso IT',
    locked: { source: 'hub', hubUrl: rig.relay.url },
    extensionByLogin: { agent: '117' },
    hubAgentByLogin: { agent: 'anna' },
  });
  if (!policy.ok) throw new Error(policy.error);
  const bridge = await rig.bridge(context, { policy: policy.policy, hubPassword: undefined, settings: { source: 'listener', hubUrl: '', hubAgent: '' } });
  const main = await openView(context, bridge, 'main');
  await expect(main.getByTestId('hub-banner')).toContainText('Enter the hub password');
  await main.getByRole('tab', { name: 'Settings' }).click();
  const connection = main.getByTestId('connection');
  await expect(connection.getByRole('radio', { name: 'Callpop hub' })).toBeChecked();
  await expect(connection.getByRole('radio', { name: 'Callpop hub' })).toBeDisabled();
  await expect(connection.getByRole('radio', { name: 'This PC receives the webhooks' })).toBeDisabled();
  await expect(connection.getByLabel('Hub address')).toBeDisabled();
  await expect(connection.getByLabel('Hub address')).toHaveValue(rig.relay.url);
  await expect(connection.getByLabel('Agent name')).toBeDisabled();
  await expect(connection.getByLabel('Agent name')).toHaveValue('anna');
  await expect(connection.getByLabel('Your extension')).toBeDisabled();
  await expect(connection.locator('.help.locked')).toHaveCount(4);
  await expect(connection.locator('[data-field="hubUrl"] .locked')).toContainText('Set by Contoso IT');
  // The one thing left to the agent:
  await expect(connection.getByLabel('Password', { exact: true })).toBeEnabled();
  await connection.getByLabel('Password', { exact: true }).fill(rig.passwords.anna);
  await connection.getByRole('button', { name: 'Save password' }).click();
  await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');
  await expect(main.getByTestId('hub-banner')).toHaveCount(0);
});

test('names from the hub directory replace bare extensions: answered by / transferred to', async ({ context }) => {
  const bridge = await rig.bridge(context);
  const main = await openView(context, bridge, 'main');
  await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');
  const { findSeedFlow } = await import('../../shared/webhook/seed-flows');
  const { replay } = await import('./support/flows');
  await play(rig.hub.webhookUrl, replay(findSeedFlow('incoming-attended-transfer')!, '117').requests);
  await main.getByRole('tab', { name: /Log/ }).click();
  await expect(main.locator('main')).toContainText('Ben (204)');
});
