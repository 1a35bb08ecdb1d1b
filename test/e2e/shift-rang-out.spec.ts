// Issue #20 item 9, "one event, three names": a call that rang with no end event is ended by the core's
// ring timeout, and the popup card, the log row, the details, the log's result filter, the CSV export,
// Settings and the missed badge all say the same: "Missed (rang out, no end seen)". The core's clock is
// the test's (BackendExtras.now), so the ring timeout passes without waiting.
import { readFile } from 'node:fs/promises';
import Papa from 'papaparse';
import { expect, openView, test } from './fixtures';
import { post, play, stamp } from './support/flows';
import { shot, shotThemes } from './support/shots';

const RANG_OUT = 'Missed (rang out, no end seen)';
let coreNow = Date.now();

test.use({
  bridgeOptions: { settings: { extension: '117', ringTimeoutSec: 10, popup: { autoCloseSec: 8 } }, backend: { now: () => coreNow, tickMs: 50 } },
  viewport: { width: 1366, height: 768 },
});

test('a ring with no end event has one name on the card, in the log, details, filter, CSV, Settings and badge', async ({ bridge, context }) => {
  coreNow = Date.now();
  const popup = await openView(context, bridge, 'popup');
  const quiet = `${stamp()}_61`;
  const missed = `${stamp()}_62`;
  // One the PBX ends as missed (a plain "Missed"), one that never gets an end event.
  await play(bridge.webhookUrl, [
    post({ Event: 'ringing', Callerid: '05051230062', User: '117', Usertype: 'ext', Did: '', Id: `${missed}-0` }),
    post({ Event: 'incoming', Callerid: '05051230062', User: '117', Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${missed}-0` }),
  ]);
  await play(bridge.webhookUrl, [post({ Event: 'ringing', Callerid: '05051230061', User: '117', Usertype: 'ext', Did: '', Id: `${quiet}-0` })]);
  const card = popup.locator(`article.card[data-call-id="${quiet}"]`);
  await expect(card.locator('.state-label')).toHaveText(/^Ringing/);
  // The core hears nothing more of it for the ring timeout.
  coreNow += 11_000;
  await expect(card.locator('.state-label')).toHaveText(RANG_OUT);
  await expect(popup.locator(`article.card[data-call-id="${missed}"] .state-label`)).toHaveText('Missed');
  await popup.setViewportSize({ width: 380, height: 520 });
  await shotThemes(popup, 'shift-rang-out-card', (theme) => bridge.updateSettings({ theme }));

  const main = await openView(context, bridge, 'main');
  const rows = main.getByRole('list', { name: 'Calls, newest first' }).locator('.call-row:not(.placeholder)');
  const total = main.locator('.log-toolbar .total');
  const logTab = main.getByRole('tab', { name: /Log/ });
  // The badge counts it as what it is: a missed call (both are unseen).
  await expect(logTab.locator('.badge')).toHaveText('2');
  await logTab.click();
  await expect(rows.filter({ hasText: '0505 123 00 61' }).locator('.col-result')).toHaveText(RANG_OUT);
  await expect(rows.filter({ hasText: '0505 123 00 62' }).locator('.col-result')).toHaveText('Missed');
  await shotThemes(main, 'shift-rang-out-log', (theme) => bridge.updateSettings({ theme }));
  // Half a screen: the why goes on its own line and keeps the columns where they are.
  await main.setViewportSize({ width: 683, height: 768 });
  await expect(rows.filter({ hasText: '0505 123 00 61' }).locator('.col-result')).toHaveText(RANG_OUT);
  await shot(main, 'shift-rang-out-log-683');
  await main.setViewportSize({ width: 1366, height: 768 });

  // The result filter of that name finds it alone; Missed finds both.
  const result = main.getByLabel('Result');
  await expect(result.locator('option[value="rang-out"]')).toHaveText(RANG_OUT);
  await result.selectOption('rang-out');
  await expect(total).toHaveText('1 call');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('0505 123 00 61');
  await main.getByRole('button', { name: 'Export CSV' }).click();
  await expect(main.getByRole('status').filter({ hasText: /^Exported 1 call to / })).toBeVisible();
  const csv = Papa.parse<Record<string, string>>(await readFile(bridge.recorded.exports.at(-1)!, 'utf8'), { header: true, skipEmptyLines: true });
  expect(csv.data.map((r) => [r.id, r.result, r.endedBy, r.outcome])).toEqual([[quiet, 'missed', 'ring-timeout', RANG_OUT]]);
  await result.selectOption('missed');
  await expect(total).toHaveText('2 calls');

  // The details say it too.
  await rows.filter({ hasText: '0505 123 00 61' }).click();
  const details = main.getByRole('complementary');
  await expect(details).toContainText(RANG_OUT);
  await shotThemes(main, 'shift-rang-out-details', (theme) => bridge.updateSettings({ theme }));

  // Settings names the option after the outcome it gives.
  await main.getByRole('tab', { name: 'Settings' }).click();
  const timeout = main.getByLabel(`"${RANG_OUT}" after ringing with no news for (seconds)`);
  await expect(timeout).toHaveValue('10');
  await timeout.scrollIntoViewIfNeeded();
  await shot(main, 'shift-rang-out-settings');

  // Like any missed call, the card went once the call was looked at (the details marked it seen); the
  // PBX's own missed call, never opened, keeps its card (its auto-close is for finished calls only).
  await expect.poll(() => bridge.recorded.dismissed).toContain(quiet);
  expect(bridge.recorded.dismissed).not.toContain(missed);
});
