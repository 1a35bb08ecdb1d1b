// Settings → Connection → 3CX Call Control in Chromium, on the real core (the bridge) and the fake 3CX
// Call Control server: choosing the source, a plain-http PBX URL refused in place (nothing saved), the
// URL, client ID and key saved, the status and the header saying connected, a ringing call popping, and
// the key never coming back to the page.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePolicy } from '../../shared/policy';
import { CALL_CONTROL_SECRET_FILE } from '../../main/core/config/call-control-secret';
import { participant } from '../support/call-control-scenarios';
import { startFakeCallControl, type FakeCallControl } from '../support/fake-3cx-call-control';
import { Bridge } from './bridge/bridge';
import { blockNonLoopback, expect, openView, test } from './fixtures';
import { shot } from './support/shots';

const KEY = 'e2e-K3y_0123456789abcdef';
let fake: FakeCallControl;
test.beforeAll(async () => {
  fake = await startFakeCallControl({ clients: { callpop: KEY }, dns: { '117': 'Wextension' } });
});
test.afterAll(async () => {
  await fake.close();
});

test.use({ bridgeOptions: { settings: { extension: '117', source: 'listener' } } });

test('choose Call Control, a bad URL is refused in place, URL, client and key saved, a call pops', async ({ bridge, context }) => {
  const main = await openView(context, bridge, 'main');
  await main.getByRole('tab', { name: 'Settings' }).click();
  const connection = main.getByTestId('connection');
  // A click, not check(): the radio is checked once main saved the source (a controlled input).
  await connection.getByRole('radio', { name: '3CX Call Control (no WebAPI add-on)' }).click();
  await expect.poll(() => bridge.settingsService.settings.source).toBe('call-control');
  await expect(connection.getByRole('radio', { name: '3CX Call Control (no WebAPI add-on)' })).toBeChecked();
  await expect(connection.getByTestId('pbx-status')).toHaveText('Enter the PBX address for 3CX Call Control (https://pbx.example.com).');
  await expect(connection.getByTestId('pbx-status')).toHaveClass(/error/);

  const url = connection.getByLabel('PBX URL');
  await url.fill('http://pbx.example.com');
  await expect(url).toHaveAttribute('aria-invalid', 'true');
  await expect(connection.locator('[data-field="callControlPbx"] .field-error')).toHaveText('Use https:// (plain http:// only for this computer: 127.0.0.1, ::1, localhost).');
  await url.fill('https://pbx.example.com/api');
  await expect(connection.locator('[data-field="callControlPbx"] .field-error')).toHaveText('Give only the scheme, host and port, e.g. https://pbx.example.com:5001.');
  await main.waitForTimeout(600); // longer than the typing delay: a refused value is never saved
  expect(bridge.settingsService.settings.callControlPbx).toBe('');
  // The fake PBX is on loopback, where plain http is allowed.
  await url.fill(fake.url);
  await expect(url).not.toHaveAttribute('aria-invalid');
  await expect.poll(() => bridge.settingsService.settings.callControlPbx).toBe(fake.url);

  await connection.getByLabel('Client ID').fill('callpop');
  await expect.poll(() => bridge.settingsService.settings.callControlClientId).toBe('callpop');
  await expect(connection.getByTestId('pbx-status')).toHaveText('Enter the API key of the 3CX API client.');

  const key = connection.getByLabel('Key', { exact: true });
  await key.fill('two words');
  await connection.getByRole('button', { name: 'Save key' }).click();
  await expect(connection.locator('.credentials [role="alert"]')).toHaveText('The API key is one line of letters, digits and symbols (no spaces).');
  await key.fill(KEY);
  await connection.getByRole('button', { name: 'Save key' }).click();
  await expect(connection.locator('.credentials [role="status"]')).toHaveText('API key saved.');
  await expect(key).toHaveValue('');
  await expect(key).toHaveAttribute('placeholder', 'Saved (type a new one to replace it)');
  await expect(connection.getByTestId('pbx-status')).toHaveText('Connected to 3CX Call Control · extension 117');
  await expect(main.getByTestId('service-status')).toHaveText('Connected to 3CX Call Control · extension 117');
  await shot(connection, 'settings-call-control');
  // The core keeps it in its own file; settings (what every renderer sees) never hold it.
  expect(await readFile(join(bridge.dataDir, CALL_CONTROL_SECRET_FILE), 'utf8')).toBe(`${KEY}\n`);
  expect(JSON.stringify(bridge.settingsService.settings)).not.toContain(KEY);

  fake.upsert(participant({ id: 9101, dn: '117', status: 'Ringing', callid: 7701, callerId: '05551239988', name: 'Ada Lovelace' }));
  const popup = await openView(context, bridge, 'popup');
  await expect(popup.locator('article.card')).toContainText('Ada Lovelace');

  // After a reload the page only learns that a key is saved.
  await main.reload();
  await main.getByRole('tab', { name: 'Settings' }).click();
  await expect(connection.getByText('Key saved', { exact: true })).toBeVisible();
  expect(await main.content()).not.toContain(KEY);
});

test("a policy-preset PC: source, PBX, client and IT's key file locked; the key cannot be typed over it", async ({ context }) => {
  const dir = await mkdtemp(join(tmpdir(), 'callpop-e2e-cc-key-'));
  const file = join(dir, '3cx-key.txt');
  await writeFile(file, `${KEY}\n`, { mode: 0o600 });
  const policy = parsePolicy({
    lockReason: 'Set by Contoso IT',
    locked: { source: 'call-control', callControlPbx: fake.url, callControlClientId: 'callpop', callControlSecretFile: file },
    extensionByLogin: { agent: '117' },
  });
  if (!policy.ok) throw new Error(policy.error);
  await blockNonLoopback(context);
  const bridge = await Bridge.start({ policy: policy.policy, settings: { source: 'listener' } });
  try {
    const main = await openView(context, bridge, 'main');
    await expect(main.getByTestId('service-status')).toHaveText('Connected to 3CX Call Control · extension 117');
    await main.getByRole('tab', { name: 'Settings' }).click();
    const connection = main.getByTestId('connection');
    await expect(connection.getByRole('radio', { name: '3CX Call Control (no WebAPI add-on)' })).toBeChecked();
    await expect(connection.getByRole('radio', { name: '3CX Call Control (no WebAPI add-on)' })).toBeDisabled();
    for (const label of ['PBX URL', 'Client ID', 'API key file']) await expect(connection.getByLabel(label, { exact: true })).toBeDisabled();
    await expect(connection.locator('[data-field="callControlPbx"] .locked')).toContainText('Set by Contoso IT');
    await expect(connection.getByLabel('Key', { exact: true })).toBeDisabled();
    await expect(connection.locator('#cc-key-help')).toHaveText(`Read from ${file}.`);
    expect(await main.content()).not.toContain(KEY);
  } finally {
    await context.close();
    await bridge.close();
    await rm(dir, { recursive: true, force: true });
  }
});
