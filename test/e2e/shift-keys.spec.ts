// Issue #20 item 10: the keyboard and half a screen. Ctrl+F and "/" focus the log's search from any
// view, Tab reaches the first call in a few stops, the popup has a key for the note and Tab reaches a
// card's actions before its Dismiss; at 683 px the Calls view shows whole numbers and the header fits.
import type { Page } from '@playwright/test';
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';
import { shot, shotThemes } from './support/shots';

test.use({ bridgeOptions: { settings: { extension: '117', popup: { autoCloseSec: 0 } } }, viewport: { width: 1366, height: 768 } });

const focusedIsSearch = (page: Page) => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type === 'search');

test('Ctrl+F and / focus the search; Tab reaches the first call in a few stops', async ({ bridge, context }) => {
  const c = incomingCall({ number: '+442079460958', extension: '117', result: 'answered' });
  await play(bridge.webhookUrl, c.requests);
  const main = await openView(context, bridge, 'main');
  await expect(main.getByRole('list', { name: "Today's calls" }).getByRole('listitem')).toHaveCount(1);
  // From the Calls view: Ctrl+F opens the log with the search focused.
  await main.keyboard.press('Control+f');
  await expect(main.getByRole('searchbox', { name: /^Search/ })).toBeFocused();
  await main.getByRole('tab', { name: /Log/ }).focus();
  await main.keyboard.press('/');
  await expect(main.getByRole('searchbox', { name: /^Search/ })).toBeFocused();
  // Tab from the Log tab to the first call.
  await main.getByRole('tab', { name: /Log/ }).focus();
  let stops = 0;
  while (stops < 20 && !(await main.evaluate(() => document.activeElement?.classList.contains('call-row') ?? false))) {
    await main.keyboard.press('Tab');
    stops++;
  }
  expect(await focusedIsSearch(main)).toBe(false);
  // Search, Direction, Result, Dates, Unseen only, Export CSV, Export JSON, the call (it was 15).
  expect(stops).toBeLessThanOrEqual(8);
});

test('popup: N opens the note; Tab reaches the actions before Dismiss', async ({ bridge, context }) => {
  const popup = await openView(context, bridge, 'popup');
  await popup.setViewportSize({ width: 380, height: 400 });
  const c = incomingCall({ number: '05051234567', extension: '117', result: 'answered' });
  await play(bridge.webhookUrl, c.requests);
  const card = popup.locator(`article.card[data-call-id="${c.id}"]`);
  await card.focus();
  await expect(popup.locator('.key-hint')).toContainText('N note');
  await popup.keyboard.press('n');
  await expect(card.getByRole('textbox', { name: 'Note on this call' })).toBeFocused();
  await popup.keyboard.press('Escape');
  await card.focus();
  const order: string[] = [];
  for (let i = 0; i < 6; i++) {
    await popup.keyboard.press('Tab');
    order.push(await popup.evaluate(() => document.activeElement?.getAttribute('aria-label') || document.activeElement?.textContent?.trim() || ''));
  }
  expect(order.indexOf('Call back')).toBeGreaterThanOrEqual(0);
  expect(order.indexOf('Dismiss')).toBeGreaterThan(order.indexOf('Call back'));
});

test('683 px: whole numbers in the Calls view and a header on one line', async ({ bridge, context }) => {
  for (const n of ['+442079460958', '+905051234567', '+12025550143']) await play(bridge.webhookUrl, incomingCall({ number: n, extension: '117', result: 'answered', queue: '820' }).requests);
  const main = await openView(context, bridge, 'main');
  await main.setViewportSize({ width: 683, height: 768 });
  const rows = main.getByRole('list', { name: "Today's calls" }).getByRole('listitem');
  await expect(rows).toHaveCount(3);
  await expect(rows.first()).toContainText('+1 202 555 0143');
  const cut = await main.locator('.who-main').evaluateAll((els) => els.filter((el) => el.scrollWidth > el.clientWidth).map((el) => el.textContent));
  expect(cut).toEqual([]);
  const header = await main.locator('.topbar').evaluate((el) => el.getBoundingClientRect().height);
  const tab = await main.getByRole('tab', { name: 'Calls' }).evaluate((el) => el.getBoundingClientRect().height);
  expect(header).toBeLessThan(tab * 2);
  await shotThemes(main, 'shift-calls-683', (theme) => bridge.updateSettings({ theme }));
  await main.getByRole('tab', { name: /Log/ }).click();
  await shot(main, 'shift-log-683-light');
});
