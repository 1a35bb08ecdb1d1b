// Issue #20 item 3: missed calls stay manageable. Missed calls from one caller are one popup card
// ("3 missed calls, last 10:42"), one action dismisses every missed card, Log → Mark all seen clears
// them too, and calling the number back (or an answered call with it) settles every missed call from it.
import type { Page } from '@playwright/test';
import { expect, openView, test } from './fixtures';
import { incomingCall, outgoingCall, play } from './support/flows';
import { shotThemes } from './support/shots';

const cards = (page: Page) => page.locator('article.card');

async function missed(url: string, number: string): Promise<string> {
  const c = incomingCall({ number, extension: '117', result: 'missed', queue: '820' });
  await play(url, c.requests);
  return c.id;
}

test.describe('missed calls during a break', () => {
  test.use({ bridgeOptions: { settings: { extension: '117', clickToCallTemplate: 'tel:{e164}', lineNames: ['820 = Sales'] } }, viewport: { width: 380, height: 700 } });

  test('one card per caller, dismiss all, Mark all seen clears the cards', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    for (const n of ['05051234567', '02125550101', '05051234567', '02125550102', '+905051234567']) await missed(bridge.webhookUrl, n);
    // Three callers: 0505 123 45 67 three times (one of them with +90) is one card.
    await expect(cards(popup)).toHaveCount(3);
    const grouped = cards(popup).filter({ hasText: '0505 123 45 67' });
    await expect(grouped).toHaveCount(1);
    await expect(grouped.locator('.state-label')).toHaveText(/^3 missed calls, last \d\d:\d\d/);
    await shotThemes(popup, 'shift-missed-grouped', (theme) => bridge.updateSettings({ theme }));
    // One action dismisses them all.
    await popup.getByRole('button', { name: /^Dismiss all missed/ }).click();
    await expect(cards(popup)).toHaveCount(0);
    await expect.poll(() => bridge.popupVisible).toBe(false);

    // More come in; Log → Mark all seen clears the cards as well as the badge.
    await missed(bridge.webhookUrl, '02125550103');
    await missed(bridge.webhookUrl, '02125550104');
    await expect(cards(popup)).toHaveCount(2);
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: /Log/ }).click();
    await main.getByRole('button', { name: 'Mark all seen' }).click();
    await expect(cards(popup)).toHaveCount(0);
    await expect.poll(() => bridge.popupVisible).toBe(false);
  });

  test('calling back or an answered call with the number settles every missed call from it', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    for (const n of ['05051234567', '05051234567', '02125550101', '05051234567', '02125550101']) await missed(bridge.webhookUrl, n);
    await expect(cards(popup)).toHaveCount(2);
    const unseen = async () => (await bridge.backend.handle('log:query', { result: 'missed', unseenOnly: true, offset: 0, limit: 50 })).records.map((r) => r.number).sort();
    expect(await unseen()).toEqual(['02125550101', '02125550101', '05051234567', '05051234567', '05051234567']);
    // Call back from the log's row of one of them: all three from 0505 123 45 67 are settled, and its card goes.
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: /Log/ }).click();
    const row = main.locator('.call-row-wrap').filter({ hasText: '0505 123 45 67' }).first();
    await row.hover();
    await row.getByRole('button', { name: /^Call back/ }).click();
    await expect.poll(unseen).toEqual(['02125550101', '02125550101']);
    await expect(cards(popup)).toHaveCount(1);
    // The agent phones 0212 555 01 01 from the desk phone and they answer: both its missed calls are settled.
    await play(bridge.webhookUrl, outgoingCall('02125550101', '117', true).requests);
    await expect.poll(unseen).toEqual([]);
    await expect(cards(popup)).toHaveCount(0);
  });
});

test.describe('missed calls in the log', () => {
  test.use({ bridgeOptions: { settings: { extension: '117' } }, viewport: { width: 1366, height: 768 } });

  test('one row per caller and day: "3 missed calls, last HH:MM"; opening it sees them all', async ({ bridge, context }) => {
    for (const n of ['05051234567', '02125550101', '05051234567', '+905051234567']) await missed(bridge.webhookUrl, n);
    await play(bridge.webhookUrl, incomingCall({ number: '05059998877', extension: '117', result: 'answered' }).requests);
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: /Log/ }).click();
    const rows = main.locator('.log-item .call-row');
    await expect(rows).toHaveCount(3);
    await expect(main.locator('.log-toolbar .total')).toHaveText('5 calls');
    const group = main.locator('.call-row-wrap').filter({ hasText: '0505 123 45 67' });
    await expect(group.locator('.col-result')).toHaveText(/^3 missed calls.*last \d\d:\d\d/);
    await expect(main.locator('.missed-unseen')).toHaveText('4 missed not seen');
    await shotThemes(main, 'shift-missed-log', (theme) => bridge.updateSettings({ theme }));
    await group.locator('.call-row').click();
    await expect(main.locator('.missed-unseen')).toHaveText('1 missed not seen');
  });
});
