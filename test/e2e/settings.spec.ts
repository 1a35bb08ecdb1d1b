// Settings: inline validation with the shared schema, live apply (a port change rebinds the real
// listener and shows the new URL), locked keys, test call, and the main window's screenshots.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { parsePolicy } from '../../shared/policy';
import { expect, openView, sendWebhook, test } from './fixtures';
import { incomingCall, play, post, stamp } from './support/flows';
import { shot } from './support/shots';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

const policy = parsePolicy({ lockReason: 'Managed by IT (ticket 42)', locked: { pbxHost: 'pbx.corp.example' } });
if (!policy.ok) throw new Error(policy.error);

test.use({ bridgeOptions: { settings: { extension: '117', popup: { autoCloseSec: 0 } }, policy: policy.policy } });

test('inline validation, live apply, port change rebinds the listener', async ({ bridge, context }) => {
  const main = await openView(context, bridge, 'main');
  await main.getByRole('tab', { name: 'Settings' }).click();

  const ext = main.getByLabel('Your extension');
  await ext.fill('12a');
  await expect(ext).toHaveAttribute('aria-invalid', 'true');
  await expect(main.locator('[data-field="extension"] .field-error')).toHaveText('An extension is 1 to 10 digits, e.g. 117.');
  await ext.fill('118');
  await expect(ext).not.toHaveAttribute('aria-invalid');
  await expect.poll(() => bridge.settingsService.settings.extension).toBe('118');

  const port = main.getByLabel('Port', { exact: true });
  await port.fill('80a');
  await expect(main.locator('[data-field="listenPort"] .field-error')).toHaveText('Enter a whole number.');
  await port.fill('70000');
  await expect(main.locator('[data-field="listenPort"] .field-error')).toHaveText('Ports go up to 65535.');
  expect(bridge.settingsService.settings.listenPort).toBe(0);

  // The country is chosen from a list (issue #20: a typed "UK" was saved); a code not in it is refused.
  const country = main.getByLabel('Default country');
  await country.selectOption('GB');
  await expect.poll(() => bridge.settingsService.settings.defaultCountry).toBe('GB');
  await country.selectOption('TR');
  await expect.poll(() => bridge.settingsService.settings.defaultCountry).toBe('TR');
  expect(bridge.settingsService.update({ defaultCountry: 'UK' })).toMatchObject({ ok: false, errors: { defaultCountry: 'Choose a country from the list ("UK" is GB).' } });

  const crm = main.getByLabel('Open in CRM URL');
  await crm.fill('javascript:alert(1)');
  await expect(main.locator('[data-field="crmUrlTemplate"] .field-error')).toContainText('must start with https://');

  const sources = main.getByLabel('Allowed sources');
  await sources.fill('127.0.0.1\nnot-an-ip');
  await expect(main.locator('[data-field="allowedSources"] .field-error')).toHaveText('Use an IP address or range, e.g. 192.0.2.10 or 192.0.2.0/24.');
  await sources.fill('');

  // A locked key is read-only with the reason.
  const pbx = main.getByLabel('PBX address');
  await expect(pbx).toBeDisabled();
  await expect(pbx).toHaveValue('pbx.corp.example');
  await expect(main.locator('[data-field="pbxHost"] .locked')).toHaveText('Set by your administrator: Managed by IT (ticket 42)');

  // Port change: the real listener moves, the URL follows, webhooks arrive on the new port.
  const oldUrl = bridge.webhookUrl;
  const newPort = await freePort();
  await port.fill(String(newPort));
  await expect(main.getByRole('banner').getByRole('status')).toHaveText(`Listening on port ${newPort}`);
  await expect(main.getByTestId('webhook-url')).toContainText(`:${newPort}/webhook/`);
  await expect(main.locator('.ini pre').first()).toContainText(`WEBHOOK_URL = http://127.0.0.1:${newPort}/webhook/`);
  expect(bridge.webhookUrl).not.toBe(oldUrl);
  const call = incomingCall({ number: '05551239988', extension: '118', result: 'missed' });
  for (const r of call.requests) expect(await sendWebhook(bridge.webhookUrl, r)).toBeLessThan(300);
  await main.getByRole('tab', { name: /^Log/ }).click();
  await expect(main.locator('.log-toolbar .total')).toHaveText('1 call');

  await main.getByRole('tab', { name: 'Settings' }).click();
  await main.getByRole('button', { name: 'Copy URL' }).first().click();
  await expect.poll(() => bridge.recorded.clipboard.at(-1)).toBe(bridge.webhookUrl);

  // Regenerate the secret (confirmed): the old URL stops working.
  const before = bridge.webhookUrl;
  await main.getByRole('button', { name: 'Regenerate secret…' }).click();
  await main.getByRole('button', { name: 'Regenerate', exact: true }).click();
  await expect(main.getByTestId('webhook-url')).not.toHaveText(before);
  expect(await sendWebhook(before, post({ Event: 'ringing', Callerid: '1', User: '118', Usertype: 'ext', Did: '', Id: `${stamp()}_1-0` }))).toBeGreaterThanOrEqual(400);
});

test('send test call pops a real popup; theme switch; screenshots of the main window', async ({ bridge, context }) => {
  await bridge.updateSettings({ theme: 'light', crmUrlTemplate: 'https://crm.example.com/?q={e164}' });
  const popup = await openView(context, bridge, 'popup');
  const main = await openView(context, bridge, 'main');
  // A live call and some history for the Calls view.
  await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'answered', queue: '820', duration: '03:12' }).requests);
  await play(bridge.webhookUrl, incomingCall({ number: '+442079460958', extension: '117', result: 'missed' }).requests);
  await play(bridge.webhookUrl, incomingCall({ number: '02125550000', extension: '117', result: 'answered', stopAfter: 'talking' }).requests);
  await expect(main.getByRole('heading', { name: 'Active call' })).toBeVisible();
  await expect(main.locator('.active-cards .card .state-label')).toHaveText(/^Talking/);
  await expect(main.getByRole('list', { name: "Today's calls" }).getByRole('listitem')).toHaveCount(3);
  await shot(main, 'main-calls');

  await main.getByRole('tab', { name: 'Settings' }).click();
  await main.getByRole('button', { name: 'Send test call' }).click();
  await expect(main.getByRole('status').filter({ hasText: 'Test call sent' })).toBeVisible();
  await expect(popup.locator('article.card .state-label').filter({ hasText: 'Ringing' })).toBeVisible();
  await shot(main, 'settings');
  // The whole settings page: a window tall enough to show every section.
  await main.setViewportSize({ width: 1100, height: 2400 });
  await shot(main, 'settings-full');
  await main.setViewportSize({ width: 1100, height: 720 });

  await main.getByLabel('Theme').selectOption('dark');
  await expect(main.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(popup.locator('html')).toHaveAttribute('data-theme', 'dark');
  await main.getByRole('tab', { name: /^Log/ }).click();
  await expect(main.locator('.call-row:not(.placeholder)').first()).toBeVisible();
  await shot(main, 'log-view-dark');
});
