// What the main window says on load: the service's notice (no extension yet) with a way to Settings,
// the number of saved contacts, and the webhook URL with the port actually bound (listenPort 0).
import { expect, openView, test } from './fixtures';

test.describe('no extension yet', () => {
  test.use({ bridgeOptions: { settings: { extension: '' } } });

  test('the notice shows until an extension is set, with a link to Settings', async ({ bridge, context }) => {
    const main = await openView(context, bridge, 'main');
    const notice = main.locator('.notice-banner');
    await expect(notice).toContainText('Set your extension');
    await notice.getByRole('button', { name: 'Open Settings' }).click();
    await expect(main.getByRole('tab', { name: 'Settings' })).toHaveAttribute('aria-selected', 'true');
    await main.getByRole('textbox', { name: 'Your extension' }).fill('117');
    await expect(notice).toHaveCount(0);
    expect(bridge.status().service).not.toHaveProperty('notice');
  });
});

test.describe('contacts and URLs', () => {
  test.use({ bridgeOptions: { settings: { extension: '117', listenPort: 0 } } });

  test('Settings shows the saved contacts count on load and the bound port in the webhook URL', async ({ bridge, context }) => {
    await bridge.backend.handle('contacts:importText', { text: 'Name,Phone\nAda,0555 123 99 88\nBob,0555 123 99 77\nCem,0555 123 99 66\n', fileName: 'c.csv' });
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: 'Settings' }).click();
    await expect(main.locator('fieldset', { hasText: 'Import contacts' })).toContainText('3 contacts loaded.');

    const s = bridge.backend.status();
    if (s.state !== 'listening') throw new Error('not listening');
    expect(s.port).toBeGreaterThan(0);
    await expect(main.getByTestId('webhook-url')).toHaveText(`http://127.0.0.1:${s.port}/webhook/${bridge.settingsService.settings.webhookSecret}`);
    await expect(main.locator('.ini pre').first()).not.toContainText(':0/webhook/');
  });
});
