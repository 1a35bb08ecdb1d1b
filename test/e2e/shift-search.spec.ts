// Issue #20 item 6: the log's search finds a call by the words of its note, the contact's name or
// company, and the queue's or DID's name; a row with a note shows a mark.
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';
import { shotThemes } from './support/shots';

test.use({ bridgeOptions: { settings: { extension: '117', lineNames: ['820 = Sales', '821 = Support'] } }, viewport: { width: 1366, height: 768 } });

test('search covers notes, contact names, companies and queue names; rows with a note are marked', async ({ bridge, context }) => {
  const quote = incomingCall({ number: '05051234567', extension: '117', result: 'answered', queue: '821' });
  const sales = incomingCall({ number: '02125550101', extension: '117', result: 'answered', queue: '820' });
  const plain = incomingCall({ number: '02125550102', extension: '117', result: 'answered' });
  for (const c of [quote, sales, plain]) await play(bridge.webhookUrl, c.requests);
  await bridge.backend.handle('log:setNote', { callId: quote.id, text: 'Wants a quote for 40 seats, ask Mehmet' });
  await bridge.backend.handle('contacts:importText', { text: 'Name,Phone,Company\nAyşe Yılmaz,02125550102,Analytical Engines Ltd\n', fileName: 'contacts.csv' });

  const main = await openView(context, bridge, 'main');
  await main.getByRole('tab', { name: /Log/ }).click();
  const total = main.locator('.log-toolbar .total');
  await expect(total).toHaveText('3 calls');
  const search = main.getByRole('searchbox', { name: /^Search/ });
  const rows = main.locator('.log-item .call-row');
  for (const [q, id] of [
    ['quote', quote.id],
    ['mehmet', quote.id],
    ['Sales', sales.id],
    ['analytical', plain.id],
    ['ayse', plain.id],
  ] as const) {
    await search.fill(q);
    await expect(total, `search "${q}"`).toHaveText('1 call');
    await expect(main.locator(`.log-item[data-call-id="${id}"]`)).toBeVisible();
  }
  await search.fill('');
  await expect(rows).toHaveCount(3);
  // The row with a note says so.
  await expect(main.locator(`.log-item[data-call-id="${quote.id}"] .note-mark`)).toBeVisible();
  await expect(main.locator('.log-item .note-mark')).toHaveCount(1);
  await shotThemes(main, 'shift-search-note-mark', (theme) => bridge.updateSettings({ theme }));
});
