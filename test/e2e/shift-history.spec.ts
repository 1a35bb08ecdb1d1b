// Issue #20 item 7: a caller's history lists only calls before the one shown, each entry opens that
// call, "N earlier calls" opens the caller's calls, and Enter on a popup card opens that caller's calls.
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';
import { shotThemes } from './support/shots';

test.use({ bridgeOptions: { settings: { extension: '117', popup: { autoCloseSec: 0 } } }, viewport: { width: 1366, height: 768 } });

test('history is only earlier calls, and it opens', async ({ bridge, context }) => {
  const ids: string[] = [];
  for (const result of ['answered', 'missed', 'answered', 'answered'] as const) {
    const c = incomingCall({ number: '05051234567', extension: '117', result });
    await play(bridge.webhookUrl, c.requests);
    ids.push(c.id);
  }
  await play(bridge.webhookUrl, incomingCall({ number: '02125550101', extension: '117', result: 'answered' }).requests);
  const main = await openView(context, bridge, 'main');
  await main.getByRole('tab', { name: /Log/ }).click();
  // The details of the second call: one earlier call, not the two after it.
  await main.locator(`.log-item[data-call-id="${ids[1]}"] .call-row`).click();
  const details = main.getByRole('complementary');
  await expect(details.locator('.history > p').first()).toHaveText('1 earlier call');
  await expect(details.locator('.history-list li')).toHaveCount(1);
  // An entry opens that call.
  await details.locator('.history-list').getByRole('button').first().click();
  await expect(details.getByRole('heading', { level: 2 })).toHaveText('0505 123 45 67');
  await expect(main.locator(`.log-item[data-call-id="${ids[0]}"] .call-row`)).toHaveAttribute('aria-current', 'true');

  // The popup: a new call from the number; "4 earlier calls" opens the caller's calls in the log.
  const popup = await openView(context, bridge, 'popup');
  await popup.setViewportSize({ width: 380, height: 500 });
  const ringing = incomingCall({ number: '05051234567', extension: '117', result: 'answered', stopAfter: 'ringing' });
  await play(bridge.webhookUrl, ringing.requests);
  const card = popup.locator(`article.card[data-call-id="${ringing.id}"]`);
  await expect(card.getByRole('button', { name: /^4 earlier calls/ })).toBeVisible();
  await shotThemes(popup, 'shift-history-popup', (theme) => bridge.updateSettings({ theme }));
  await card.getByRole('button', { name: /^4 earlier calls/ }).click();
  const search = main.getByRole('searchbox', { name: /^Search/ });
  await expect(search).toHaveValue('05051234567');
  await expect(main.locator('.log-toolbar .total')).toHaveText('5 calls');
  // Enter on the card does the same (after the agent cleared the search), and so does a click on the caller's name.
  await search.fill('');
  await card.focus();
  await popup.keyboard.press('Enter');
  await expect(search).toHaveValue('05051234567');
  await search.fill('');
  await card.getByRole('button', { name: '0505 123 45 67' }).click();
  await expect(search).toHaveValue('05051234567');
});
