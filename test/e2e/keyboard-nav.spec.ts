// Keyboard in the main window: the section tabs follow the arrow keys (WAI-ARIA tabs, roving
// tabindex), and Esc in a call's details returns the focus to the row it was opened from.
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';

test('tabs follow the arrow keys, Home and End; only the selected tab is in the Tab order', async ({ bridge, context }) => {
  const main = await openView(context, bridge, 'main');
  const tab = (name: RegExp) => main.getByRole('tab', { name });
  await tab(/^Calls/).focus();
  await expect(tab(/^Calls/)).toHaveAttribute('tabindex', '0');
  await expect(tab(/^Log/)).toHaveAttribute('tabindex', '-1');
  await main.keyboard.press('ArrowRight');
  await expect(tab(/^Log/)).toBeFocused();
  await expect(tab(/^Log/)).toHaveAttribute('aria-selected', 'true');
  await main.keyboard.press('End');
  await expect(tab(/^Settings/)).toBeFocused();
  await expect(tab(/^Settings/)).toHaveAttribute('aria-selected', 'true');
  await main.keyboard.press('ArrowRight'); // wraps around
  await expect(tab(/^Calls/)).toBeFocused();
  await main.keyboard.press('ArrowLeft');
  await expect(tab(/^Settings/)).toBeFocused();
  await main.keyboard.press('Home');
  await expect(tab(/^Calls/)).toHaveAttribute('aria-selected', 'true');
});

test('Esc in the details returns the focus to the row it was opened from', async ({ bridge, context }) => {
  for (const n of ['05551230001', '05551230002', '05551230003']) await play(bridge.webhookUrl, incomingCall({ number: n, extension: '117', result: 'answered' }).requests);
  const main = await openView(context, bridge, 'main');
  await main.getByRole('tab', { name: /^Log/ }).click();
  const rows = main.locator('.log-scroll .call-row:not(.placeholder)');
  await expect(rows).toHaveCount(3);
  await rows.first().focus();
  await main.keyboard.press('ArrowDown');
  await expect(rows.nth(1)).toBeFocused();
  await main.keyboard.press('Enter');
  const details = main.getByRole('complementary');
  await expect(details).toBeVisible();
  await details.press('Escape');
  await expect(details).toHaveCount(0);
  await expect(rows.nth(1)).toBeFocused();
});
