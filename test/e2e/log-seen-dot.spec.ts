// Issue #20 (polish): a row marked seen in the log loses its unseen dot no later than the unseen count
// drops, whichever way it is marked (opening the row, opening a row of several missed calls, Call back
// on the row, or elsewhere, e.g. the popup). The page records every state the DOM goes through
// (a MutationObserver, no timing): none may show the lower count with the row's dot still there.
import type { Page } from '@playwright/test';
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';
import { shot } from './support/shots';

/** Starts recording, at every DOM change, the count line and whether the row of `number` shows a dot. */
async function watch(main: Page, number: string): Promise<void> {
  await main.evaluate((n) => {
    const w = window as unknown as { seenStates: { count: string; dot: boolean }[]; seenObserver?: MutationObserver };
    w.seenObserver?.disconnect();
    w.seenStates = [];
    const note = () => {
      const row = [...document.querySelectorAll('[data-call-id]')].find((el) => el.textContent?.includes(n));
      w.seenStates.push({ count: document.querySelector('.missed-unseen')?.textContent ?? '', dot: row?.querySelector('.unseen-dot') != null });
    };
    note();
    w.seenObserver = new MutationObserver(note);
    w.seenObserver.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  }, number);
}
/** Every state recorded since watch(): the count line seen with the row's dot. */
const states = (main: Page) => main.evaluate(() => (window as unknown as { seenStates: { count: string; dot: boolean }[] }).seenStates);

test('the unseen dot leaves a row no later than the unseen count drops, whichever way it is marked seen', async ({ bridge, context }) => {
  const calls = [
    incomingCall({ number: '02125550000', extension: '117', result: 'missed' }),
    incomingCall({ number: '02125550011', extension: '117', result: 'missed' }),
    incomingCall({ number: '02125550022', extension: '117', result: 'missed' }),
    incomingCall({ number: '02125550022', extension: '117', result: 'missed' }),
    incomingCall({ number: '02125550033', extension: '117', result: 'missed' }),
  ];
  for (const c of calls) await play(bridge.webhookUrl, c.requests);
  const main = await openView(context, bridge, 'main');
  await main.getByRole('tab', { name: /^Log/ }).click();
  const rows = main.getByRole('list', { name: 'Calls, newest first' }).locator('.call-row:not(.placeholder)');
  const unseen = main.locator('.missed-unseen');
  await expect(rows).toHaveCount(4);
  await expect(unseen).toHaveText('5 missed not seen');
  await expect(rows.locator('.unseen-dot')).toHaveCount(4);
  const noStaleDot = async (count: string) => {
    const seen = await states(main);
    expect(seen.some((s) => s.count === count)).toBe(true);
    expect(seen.filter((s) => s.count === count && s.dot)).toEqual([]);
  };

  // Opening a row of one missed call.
  await watch(main, '(0212) 555 00 00');
  const one = rows.filter({ hasText: '(0212) 555 00 00' });
  await one.click();
  await expect(unseen).toHaveText('4 missed not seen');
  await expect(one.locator('.unseen-dot')).toHaveCount(0);
  await noStaleDot('4 missed not seen');

  // Opening a row of two missed calls from one number.
  await watch(main, '2 missed calls');
  const two = rows.filter({ hasText: '2 missed calls' });
  await two.click();
  await expect(unseen).toHaveText('2 missed not seen');
  await expect(two.locator('.unseen-dot')).toHaveCount(0);
  await noStaleDot('2 missed not seen');

  // Call back on the row settles it.
  await watch(main, '(0212) 555 00 11');
  const item = main.locator('[data-call-id]').filter({ hasText: '(0212) 555 00 11' });
  await item.hover();
  await item.getByRole('button', { name: /^Call back/ }).click();
  await expect(unseen).toHaveText('1 missed not seen');
  await expect(item.locator('.unseen-dot')).toHaveCount(0);
  await noStaleDot('1 missed not seen');

  // Marked seen elsewhere (as the popup's Call back does) while the log shows it.
  await watch(main, '(0212) 555 00 33');
  const elsewhere = main.locator('[data-call-id]').filter({ hasText: '(0212) 555 00 33' });
  await bridge.backend.handle('log:markSeen', { ids: [(await elsewhere.getAttribute('data-call-id'))!] });
  await expect(unseen).toHaveText('No unseen missed calls');
  await expect(rows.locator('.unseen-dot')).toHaveCount(0);
  await noStaleDot('No unseen missed calls');
  await shot(main, 'log-seen-dot');
});
