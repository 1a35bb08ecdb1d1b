// Popup screenshots in both themes with cards in every live state (saved under test/artifacts/).
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';
import { shot } from './support/shots';

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
