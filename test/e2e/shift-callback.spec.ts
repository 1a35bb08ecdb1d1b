// Issue #20 item 2: Call back on a row of the log (or of today's calls) must not move the list under the
// mouse. The state shows in the row itself, and any message in a toast over the window's corner that
// goes by itself.
import type { Locator, Page } from '@playwright/test';
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';
import { shotThemes } from './support/shots';

const tops = (rows: Locator) => rows.evaluateAll((els) => els.map((el) => Math.round(el.getBoundingClientRect().top)));

async function threeCalls(webhookUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (const number of ['05051234567', '05052223344', '05053334455']) {
    const c = incomingCall({ number, extension: '117', result: 'answered' });
    await play(webhookUrl, c.requests);
    ids.push(c.id);
  }
  return ids;
}

async function callBackInPlace(page: Page, rows: Locator, row: Locator, name: string, setTheme: (t: 'light' | 'dark') => Promise<void>) {
  const before = await tops(rows);
  await row.hover();
  const button = row.getByRole('button', { name: /^Call back/ });
  await button.click();
  // Shown in the row, and nothing moved.
  await expect(row.getByText('Calling…')).toBeVisible();
  expect(await tops(rows)).toEqual(before);
  await shotThemes(page, name, setTheme);
  // It goes by itself; the button is back in the same place.
  await expect(row.getByText('Calling…')).toHaveCount(0, { timeout: 15_000 });
  await expect(button).toBeVisible();
  expect(await tops(rows)).toEqual(before);
}

test.describe('Call back keeps the list still', () => {
  test.use({ bridgeOptions: { settings: { extension: '117', clickToCallTemplate: 'tel:{e164}' } }, viewport: { width: 1366, height: 768 } });

  test('in the log', async ({ bridge, context }) => {
    const ids = await threeCalls(bridge.webhookUrl);
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: /Log/ }).click();
    const rows = main.locator('.log-item');
    await expect(rows).toHaveCount(3);
    await callBackInPlace(main, rows, main.locator(`.log-item[data-call-id="${ids[1]}"]`), 'shift-callback-log', (theme) => bridge.updateSettings({ theme }));
    await expect.poll(() => bridge.recorded.opened).toEqual(['tel:+905052223344']);
  });

  test("in today's calls, and a failure is a toast that covers no row and goes by itself", async ({ bridge, context }) => {
    await threeCalls(bridge.webhookUrl);
    const main = await openView(context, bridge, 'main');
    const rows = main.getByRole('list', { name: "Today's calls" }).getByRole('listitem');
    await expect(rows).toHaveCount(3);
    await callBackInPlace(main, rows, rows.nth(1), 'shift-callback-today', (theme) => bridge.updateSettings({ theme }));
    // A caller id with nothing to dial: the agent is told, and still nothing moves.
    await play(bridge.webhookUrl, incomingCall({ number: 'Anonymous', extension: '117', result: 'answered' }).requests);
    await expect(rows).toHaveCount(4);
    const before = await tops(rows);
    await rows.nth(0).hover();
    await rows.nth(0).getByRole('button', { name: /^Call back/ }).click();
    const toast = main.getByRole('alert');
    await expect(toast).toBeVisible();
    expect(await tops(rows)).toEqual(before);
    await shotThemes(main, 'shift-callback-error', (theme) => bridge.updateSettings({ theme }));
    await expect(toast).toHaveCount(0, { timeout: 20_000 });
  });
});

test.describe('Call back keeps the popup still', () => {
  test.use({ bridgeOptions: { settings: { extension: '117', clickToCallTemplate: 'tel:{e164}', popup: { autoCloseSec: 0 } } }, viewport: { width: 380, height: 600 } });

  test('the card below does not move when a card says "Calling…"', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    await threeCalls(bridge.webhookUrl);
    const cards = popup.locator('article.card');
    await expect(cards).toHaveCount(3);
    const before = await tops(cards);
    await cards.first().getByRole('button', { name: 'Call back' }).click();
    await expect(cards.first().getByRole('status')).toHaveText('Calling…');
    expect(await tops(cards)).toEqual(before);
    await shotThemes(popup, 'shift-callback-popup', (theme) => bridge.updateSettings({ theme }));
    await expect(cards.first().getByRole('status')).toHaveCount(0, { timeout: 15_000 });
  });
});
