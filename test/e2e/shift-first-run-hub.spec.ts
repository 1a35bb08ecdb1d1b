// Issue #20 item 4, the hub half: the first run offers "Your extension" or "Sign in to your team's hub"
// side by side; the sign-in is a form in place (hub address list, name, password, extension) checked
// with the settings' own rules, a wrong password is said right there (the hub client's words), and the
// right one connects to a REAL `callpop hub` on loopback, after which a call to the extension pops. An
// extension the hub does not give the agent is refused in words naming hers (the hub's list of them).
import { expect, test } from '@playwright/test';
import { openView } from './fixtures';
import { incomingCall, play } from './support/flows';
import { HubRig } from './support/hub';
import { shot } from './support/shots';

let rig: HubRig;
test.beforeEach(async () => {
  rig = await HubRig.start();
});
test.afterEach(async ({ context }) => {
  await context.close();
  await rig.stop();
});
test.use({ viewport: { width: 1366, height: 768 } });

test('first run: sign in to the hub in place; a wrong password is said there; then connected and a call pops', async ({ context }) => {
  // A new PC: no extension, no hub, no password.
  const bridge = await rig.bridge(context, { hubPassword: undefined, settings: { extension: '', source: 'listener', hubUrl: '', hubAgent: '' } });
  const main = await openView(context, bridge, 'main');
  await main.locator('.notice-banner').getByRole('button', { name: 'Open Settings' }).click();
  const welcome = main.getByRole('group', { name: /^Welcome/ });
  await expect(welcome.getByRole('radio', { name: /^Your extension/ })).toBeChecked();
  await expect(main.getByRole('textbox', { name: 'Your extension' })).toBeFocused();
  await shot(main, 'shift-first-run-choice');

  await welcome.getByRole('radio', { name: /^Sign in to your team's hub/ }).check();
  const form = welcome.getByRole('form', { name: "Sign in to your team's hub" });
  await expect(form).toBeVisible();
  // Nothing typed: each field says what it needs, in place; nothing is saved.
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(form.locator('[data-field="hubUrl"] .field-error')).toContainText('Enter the hub address');
  await expect(form.locator('[data-field="hubAgent"] .field-error')).toContainText('agent name');
  await expect(form.locator('[data-field="password"] .field-error')).toHaveText('Enter your password.');
  await expect(form.locator('[data-field="extension"] .field-error')).toContainText('Enter your extension');
  // A bad address is refused by the settings' own rule, before anything is sent.
  await form.getByLabel('Hub address').fill('http://hub.example.com');
  await form.getByLabel('Your name on the hub').fill('anna');
  await form.getByLabel('Password').fill('not-annas-password');
  await form.getByLabel('Your extension').fill('117');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(form.locator('[data-field="hubUrl"] .field-error')).toBeVisible();
  await expect(form.locator('[data-field="hubAgent"] .field-error')).toHaveCount(0);
  expect(bridge.settingsService.settings.source).toBe('listener');

  // The real hub, with an extension that is not anna's: its broker refuses that extension's topics; the
  // client reads the hub's list of her extensions and stops, saying which are hers (no reconnect loop).
  await form.getByLabel('Hub address').fill(rig.relay.url);
  await form.getByLabel('Password').fill(rig.passwords.anna);
  await form.getByLabel('Your extension').fill('204');
  await form.getByRole('button', { name: 'Sign in' }).click();
  const state = form.getByTestId('hub-sign-in-status');
  await expect(state).toHaveText(
    "Not your extension on this hub: The hub does not give anna extension 204 (anna's extensions there: 117). Check the extension in Settings or ask your administrator.",
  );
  await expect(main.getByTestId('hub-banner')).toContainText('Check the extension in the sign-in form below or ask your administrator. Callpop does not retry until it changes.');
  await shot(form, 'shift-first-run-hub-not-her-extension');

  // A wrong password: refused, said in place.
  await form.getByLabel('Password').fill('not-annas-password');
  await form.getByLabel('Your extension').fill('117');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(state).toContainText('Hub refused the password');
  await expect(state).toContainText('Type the password again');
  expect(bridge.settingsService.settings).toMatchObject({ source: 'hub', hubUrl: rig.relay.url, hubAgent: 'anna', extension: '117' });
  await expect(form.getByLabel('Password')).toHaveValue('');
  // The banner above says the same and points at this form, not at a section further down the page.
  const banner = main.getByTestId('hub-banner');
  await expect(banner).toContainText('Type the password again in the sign-in form below');
  await expect(banner).not.toContainText('Settings → Connection');
  await shot(main, 'shift-first-run-hub-refused');

  // The right password: connected, and the check to make.
  await form.getByLabel('Password').fill(rig.passwords.anna);
  await form.getByRole('button', { name: 'Sign in again' }).click();
  await expect(state).toHaveText('Connected to hub · extension 117');
  await expect(form.getByTestId('hub-sign-in-check')).toContainText('call 117 from another phone');
  await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');
  await shot(main, 'shift-first-run-hub-connected');
  // The password never reaches the page.
  expect(await main.evaluate(() => document.documentElement.outerHTML)).not.toContain(rig.passwords.anna);

  // The check itself: a call to 117 through the hub pops.
  const popup = await openView(context, bridge, 'popup');
  const call = incomingCall({ number: '05551239988', extension: '117', result: 'answered', stopAfter: 'ringing' });
  expect(await play(rig.hub.webhookUrl, call.requests)).toEqual([200]);
  await expect(popup.locator('article.card')).toContainText('555 123 99 88');
});
