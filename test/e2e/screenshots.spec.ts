// Popup screenshots in both themes with cards in every live state (saved under test/artifacts/).
import { expect, openView, test } from './fixtures';
import { findSeedFlow } from '../../shared/webhook/seed-flows';
import { incomingCall, outgoingCall, play, replay } from './support/flows';
import { shot } from './support/shots';
import { HubRig } from './support/hub';
import type { Page } from '@playwright/test';

test.use({ bridgeOptions: { settings: { extension: '117', popup: { autoCloseSec: 0 }, crmUrlTemplate: 'https://crm.example.com/?q={e164}' } }, viewport: { width: 380, height: 640 } });

for (const theme of ['light', 'dark'] as const) {
  test(`popup ${theme}`, async ({ bridge, context }) => {
    await bridge.updateSettings({ theme });
    const popup = await openView(context, bridge, 'popup');
    await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'answered', queue: '820', recordings: ['https://127.0.0.1/webapi/recording/241124101500_12-1-1.mp3'] }).requests);
    await play(bridge.webhookUrl, incomingCall({ number: '+442079460958', extension: '117', result: 'missed' }).requests);
    await play(bridge.webhookUrl, incomingCall({ number: '02125550000', extension: '117', result: 'answered', stopAfter: 'talking' }).requests);
    await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'answered', queue: '820', stopAfter: 'ringing' }).requests);
    await expect(popup.locator('article.card')).toHaveCount(4);
    await expect(popup.locator('html')).toHaveAttribute('data-theme', theme);
    await expect(popup.locator('.history').first()).toBeVisible();
    await shot(popup, `popup-${theme}`);
  });
}

// Missed calls, caller context and notes (engineer log-ux): the popup's missed card with Call back, a
// colleague and the queue by name, a withheld number, a note on the next pop; the log at the window's
// minimum size with the details over it; Settings with the queue names.
test.describe('caller context and the log', () => {
  const contacts = 'Name,Company,Phone\nAda Lovelace,Analytical Engines Ltd,0555 123 99 88\nBob Builder,,204\n';

  test('popup: missed with Call back, colleague by name, withheld, note', async ({ bridge, context }) => {
    await bridge.updateSettings({ defaultCountry: 'TR', lineNames: ['820 = Sales'] });
    await bridge.backend.handle('contacts:importText', { text: contacts, fileName: 'contacts.csv' });
    const earlier = incomingCall({ number: '05551239988', extension: '117', result: 'missed' });
    await play(bridge.webhookUrl, earlier.requests);
    await bridge.backend.handle('log:setNote', { callId: earlier.id, text: 'Wants a quote for 40 seats by Friday' });
    const popup = await openView(context, bridge, 'popup');
    await play(bridge.webhookUrl, incomingCall({ number: '', extension: '117', result: 'missed' }).requests);
    await play(bridge.webhookUrl, replay(findSeedFlow('incoming-attended-transfer')!, '117').requests);
    await play(bridge.webhookUrl, incomingCall({ number: '05324440000', extension: '117', result: 'missed' }).requests);
    // The earlier missed call from Ada is settled by the answered call with her number (issue #20): its card left.
    await expect(popup.locator('article.card')).toHaveCount(3);
    await expect(popup.locator('article.card', { hasText: 'Bob Builder (204)' })).toBeVisible();
    await popup.setViewportSize({ width: 380, height: 1150 });
    await shot(popup, 'popup-missed-colleague-withheld');

    await popup.reload();
    await bridge.backend.handle('log:markSeen', {});
    await play(bridge.webhookUrl, incomingCall({ number: '+90 555 123 99 88', extension: '117', result: 'answered', queue: '820', stopAfter: 'ringing' }).requests);
    const ringing = popup.locator('article.card[data-status="ringing"]');
    await expect(ringing.locator('.history-list')).toContainText('Wants a quote');
    await shot(ringing, 'popup-note-on-next-pop');
  });

  test.describe('main window', () => {
    test.use({ viewport: { width: 720, height: 480 } });

    test('log at 720×480 with the details over the list; settings', async ({ bridge, context }) => {
      await bridge.updateSettings({ defaultCountry: 'TR', lineNames: ['820 = Sales', '0212555000 = Support line'] });
      await bridge.backend.handle('contacts:importText', { text: contacts, fileName: 'contacts.csv' });
      await play(bridge.webhookUrl, replay(findSeedFlow('incoming-attended-transfer')!, '117').requests);
      await play(bridge.webhookUrl, incomingCall({ number: '02125550000', extension: '117', result: 'missed' }).requests);
      await play(bridge.webhookUrl, outgoingCall('05324440000', '117', false).requests);
      await play(bridge.webhookUrl, incomingCall({ number: '442079460958', extension: '117', result: 'answered', queue: '820', recordings: ['https://127.0.0.1/webapi/recording/r.mp3'] }).requests);
      await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'answered', stopAfter: 'talking' }).requests);
      const main = await openView(context, bridge, 'main');
      await main.getByRole('tab', { name: /^Log/ }).click();
      await expect(main.locator('.log-toolbar .total')).toHaveText('5 calls');
      await shot(main, 'log-720x480');
      await main.locator('.log-item', { hasText: 'Bob Builder' }).locator('.call-row').click();
      const details = main.getByRole('complementary');
      await details.getByRole('button', { name: 'Add note' }).click();
      await details.getByLabel('Note on this call').fill('Transferred to Bob for the contract');
      await details.getByRole('button', { name: 'Save note' }).click();
      await expect(details.locator('.note-text')).toBeVisible();
      await shot(main, 'log-720x480-details');
      await main.keyboard.press('Escape');
      await main.getByRole('button', { name: /^Filters/ }).click();
      await shot(main, 'log-720x480-filters');
      await main.getByRole('tab', { name: 'Calls' }).click();
      await expect(main.locator('.call-list li')).toHaveCount(5);
      await shot(main, 'calls-720x480');
      await main.setViewportSize({ width: 1100, height: 720 });
      await main.getByRole('tab', { name: /^Log/ }).click();
      await expect(main.locator('.log-toolbar .total')).toHaveText('5 calls');
      await main.locator('.log-item', { hasText: 'Bob Builder' }).locator('.call-row').click();
      await shot(main, 'log-1100x720-details');
      await main.getByRole('tab', { name: 'Settings' }).click();
      await main.getByRole('group', { name: 'Queue and DID names' }).scrollIntoViewIfNeeded();
      await shot(main, 'settings-queue-names');
      await bridge.updateSettings({ theme: 'dark' });
      await main.setViewportSize({ width: 720, height: 480 });
      await main.getByRole('tab', { name: /^Log/ }).click();
      await main.locator('.log-item', { hasText: 'Bob Builder' }).locator('.call-row').click();
      await expect(main.locator('html')).toHaveAttribute('data-theme', 'dark');
      await shot(main, 'log-720x480-details-dark');
    });
  });
});

// The pop (engineer pop): a ringing card with its timer above an ended one, a card gone quiet
// ("Missed (rang out, no end seen)"), the TEST card of "Send test call", and the keyboard hint after the shortcut.
test.describe('the pop', () => {
  test('popup: ringing with its timer above an ended call, keyboard hint', async ({ bridge, context }) => {
    const popup = await context.newPage();
    await popup.clock.install();
    await popup.addInitScript(bridge.initScript);
    await popup.goto(bridge.url('popup.html'));
    await play(bridge.webhookUrl, incomingCall({ number: '+442079460958', extension: '117', result: 'answered', queue: '820' }).requests);
    await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'answered', queue: '820', stopAfter: 'ringing' }).requests);
    await expect(popup.locator('article.card')).toHaveCount(2);
    await popup.clock.fastForward(23_000);
    await expect(popup.locator('article.card').first().locator('.state-label')).toHaveText('Ringing 0:23');
    await shot(popup, 'popup-ringing-timer');
    bridge.pressShortcut();
    await expect(popup.locator('.key-hint')).toBeVisible();
    await shot(popup, 'popup-keyboard');
  });

  test('popup: stopped ringing?', async ({ bridge, context }) => {
    await bridge.updateSettings({ ringTimeoutSec: 30 });
    const popup = await context.newPage();
    await popup.clock.install();
    await popup.addInitScript(bridge.initScript);
    await popup.goto(bridge.url('popup.html'));
    await play(bridge.webhookUrl, incomingCall({ number: '02125550000', extension: '117', result: 'answered', stopAfter: 'ringing' }).requests);
    await expect(popup.locator('article.card')).toHaveCount(1);
    await popup.clock.fastForward(20_000);
    await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'answered', stopAfter: 'ringing' }).requests);
    await expect(popup.locator('article.card')).toHaveCount(2);
    await popup.clock.fastForward(11_000);
    await expect(popup.locator('article.card .state-label').filter({ hasText: 'Missed (rang out, no end seen)' })).toHaveCount(1);
    await shot(popup, 'popup-stopped-ringing');
  });

  test('popup and log: TEST call', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: 'Settings' }).click();
    await main.getByRole('button', { name: 'Send test call' }).click();
    await expect(popup.locator('article.card .test-badge')).toBeVisible();
    await expect(popup.locator('article.card .state-label')).toHaveText(/^Talking/, { timeout: 15_000 });
    await shot(popup, 'popup-test-call');
    await main.setViewportSize({ width: 1000, height: 420 });
    await main.getByRole('tab', { name: /^Log/ }).click();
    await expect(main.locator('.call-row .test-badge').first()).toBeVisible({ timeout: 15_000 });
    await shot(main, 'log-test-call');
  });
});

// Team mode (issue 9): Settings → Connection in both modes, and each state of the hub connection in the
// header (with its banner) and in Settings, against a real `callpop hub` (test/e2e/support/hub.ts).
test.describe('hub connection', () => {
  test.use({ viewport: { width: 1000, height: 720 } });
  let rig: HubRig | null = null;
  test.afterEach(async () => {
    await rig?.stop();
    rig = null;
  });

  const connectionShot = async (main: Page, name: string) => {
    await main.getByRole('tab', { name: 'Settings' }).click();
    const connection = main.getByTestId('connection');
    await connection.scrollIntoViewIfNeeded();
    await shot(connection, name);
  };
  const headerShot = async (main: Page, name: string) => {
    await shot(main.locator('.app'), name);
  };

  test('Connection: this PC receives the webhooks', async ({ context }) => {
    rig = await HubRig.start();
    const bridge = await rig.bridge(context, { settings: { source: 'listener' } });
    const main = await openView(context, bridge, 'main');
    await expect(main.getByTestId('service-status')).toHaveText(/^Listening on port \d+/);
    await main.setViewportSize({ width: 1000, height: 1500 }); // the listener's fields and URLs fit whole
    await connectionShot(main, 'settings-connection-listener');
  });

  test('Connection: Callpop hub, connected', async ({ context }) => {
    rig = await HubRig.start();
    const bridge = await rig.bridge(context);
    const main = await openView(context, bridge, 'main');
    await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');
    await headerShot(main, 'hub-state-connected');
    await connectionShot(main, 'settings-connection-hub');
  });

  test('hub states: reconnecting, refused, setup, offline', async ({ context }) => {
    rig = await HubRig.start();
    const bridge = await rig.bridge(context);
    const main = await openView(context, bridge, 'main');
    await expect(main.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');
    rig.relay.setOffline(true);
    await expect(main.getByTestId('service-status')).toHaveText(/^Reconnecting since/);
    await headerShot(main, 'hub-state-reconnecting');
    await main.close();
    await rig.stop();

    rig = await HubRig.start();
    const refused = await rig.bridge(context, { hubPassword: 'wrong-password-1' });
    const page = await openView(context, refused, 'main');
    await expect(page.getByTestId('service-status')).toHaveText('Hub refused the password');
    await headerShot(page, 'hub-state-refused');
    await connectionShot(page, 'settings-connection-hub-refused');
    await page.close();

    const setup = await rig.bridge(context, { hubPassword: undefined });
    const asks = await openView(context, setup, 'main');
    await expect(asks.getByTestId('hub-banner')).toContainText('Enter the hub password');
    await headerShot(asks, 'hub-state-password-needed');
    await asks.close();
    await rig.stop();

    // "Hub offline" needs a broker that outlives the hub: a real Mosquitto the hub publishes to.
    rig = await HubRig.start({ external: true });
    const withBroker = await rig.bridge(context);
    const off = await openView(context, withBroker, 'main');
    await expect(off.getByTestId('service-status')).toHaveText('Connected to hub · extension 117');
    await rig.hub.close();
    await expect(off.getByTestId('service-status')).toHaveText(/^Hub offline since \d\d:\d\d$/);
    await headerShot(off, 'hub-state-offline');
  });
});
