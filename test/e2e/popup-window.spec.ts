// The popup window as main drives it: main decides which calls get a card (a reloaded page, or main
// restarted while the core kept its live calls, gets exactly main's cards and the window is shown),
// and the page reports its content height so main can size the window.
import type { Page } from '@playwright/test';
import { expect, openView, test } from './fixtures';
import { play, post, stamp } from './support/flows';

test.use({ bridgeOptions: { settings: { extension: '117', popup: { autoCloseSec: 0 } } } });

const card = (page: Page, id: string) => page.locator(`article.card[data-call-id="${id}"]`);
const ring = (url: string, id: string, number = '05551239988') =>
  play(url, [post({ Event: 'ringing', Callerid: number, User: '117', Usertype: 'ext', Did: '', Id: `${id}-0` })]);
const missed = (url: string, id: string, number = '05551239988') =>
  play(url, [post({ Event: 'incoming', Callerid: number, User: '117', Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${id}-0` })]);

/** What the page should report: the card stack plus the popup's padding. */
const contentHeight = (page: Page) =>
  page.evaluate(() => {
    const main = document.querySelector('main.popup')!;
    const cs = getComputedStyle(main);
    return Math.max(60, Math.ceil(document.querySelector('.stack')!.getBoundingClientRect().height + parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom)));
  });

test('after main restarts with a live call, a reloaded popup page shows it, the window is shown, and main follows it', async ({ bridge, context }) => {
  const popup = await openView(context, bridge, 'popup');
  const id = `${stamp()}_1`;
  await ring(bridge.webhookUrl, id);
  await expect(card(popup, id)).toBeVisible();
  expect(bridge.popupVisible).toBe(true);

  bridge.forgetPopupCards();
  expect(bridge.popupVisible).toBe(false);
  await popup.reload();
  await expect(card(popup, id)).toBeVisible();
  await expect.poll(() => bridge.popupVisible).toBe(true);

  // Main owns the card again: the call's end reaches it, and dismissing hides the window.
  await missed(bridge.webhookUrl, id);
  await expect(card(popup, id).locator('.state-label')).toHaveText('Missed');
  await card(popup, id).getByRole('button', { name: /^Dismiss/ }).click();
  await expect(card(popup, id)).toHaveCount(0);
  await expect.poll(() => bridge.popupVisible).toBe(false);
});

test('a live call main does not pop (externalOnly, internal caller) gets no card when the page loads', async ({ bridge, context }) => {
  await bridge.updateSettings({ popup: { externalOnly: true } });
  const popup = await openView(context, bridge, 'popup');
  const quiet = `${stamp()}_2`;
  await ring(bridge.webhookUrl, quiet, '204');
  await expect.poll(async () => (await bridge.backend.handle('calls:active', {})).map((c) => c.id)).toContain(quiet);
  await popup.reload();
  // A sentinel from outside: once it shows, the page is live and had every card main would send.
  const next = `${stamp()}_3`;
  await ring(bridge.webhookUrl, next, '02125550000');
  await expect(card(popup, next)).toBeVisible();
  await expect(popup.locator('article.card')).toHaveCount(1);
  await expect(card(popup, quiet)).toHaveCount(0);
});

test('the page reports its content height and it grows with each card', async ({ bridge, context }) => {
  const popup = await openView(context, bridge, 'popup');
  const first = `${stamp()}_4`;
  await ring(bridge.webhookUrl, first);
  await expect(card(popup, first)).toBeVisible();
  // The card settles (history, contact) asynchronously: compare both sides at the same moment.
  const reported = async () => [bridge.recorded.popupHeights.at(-1), await contentHeight(popup)];
  await expect.poll(async () => new Set(await reported()).size).toBe(1);
  const one = bridge.recorded.popupHeights.at(-1)!;
  expect(one).toBeGreaterThan(60);

  const second = `${stamp()}_5`;
  await ring(bridge.webhookUrl, second, '02125550000');
  await expect(card(popup, second)).toBeVisible();
  await expect.poll(async () => bridge.recorded.popupHeights.at(-1)).toBeGreaterThan(one);
  await expect.poll(async () => new Set(await reported()).size).toBe(1);
  // Every report is within what main accepts.
  for (const h of bridge.recorded.popupHeights) expect(h).toBeGreaterThanOrEqual(60);
});

test('pausing popups closes the open cards in the page too; the next call shows alone', async ({ bridge, context }) => {
  const popup = await openView(context, bridge, 'popup');
  const main = await openView(context, bridge, 'main');
  const first = `${stamp()}_6`;
  await ring(bridge.webhookUrl, first);
  await expect(card(popup, first)).toBeVisible();
  await main.evaluate(() => window.callpop.setPopupsPaused(true));
  await expect(card(popup, first)).toHaveCount(0);
  expect(bridge.popupVisible).toBe(false);
  await main.evaluate(() => window.callpop.setPopupsPaused(false));
  const next = `${stamp()}_7`;
  await ring(bridge.webhookUrl, next, '02125550000');
  await expect(card(popup, next)).toBeVisible();
  await expect(popup.locator('article.card')).toHaveCount(1);
  expect(bridge.popupVisible).toBe(true);
});
