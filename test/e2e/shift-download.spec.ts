// Issue #20 item 8: a failed recording download says what happened in an agent's words and what to do,
// the card stays while the error shows, the log row's Rec badge marks the failure, and the recording is
// named after the call (date, time, number), not the PBX's file name.
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';
import { startFakePbx } from './support/pbx';
import { shotThemes } from './support/shots';

test.use({ bridgeOptions: { settings: { extension: '117', pbxHost: 'pbx.example.com', popup: { autoCloseSec: 1 } } }, viewport: { width: 380, height: 400 } });

test('a refused download is explained, keeps the card, and marks the Rec badge', async ({ bridge, context }) => {
  const pbx = await startFakePbx();
  try {
    const popup = await openView(context, bridge, 'popup');
    const rec = incomingCall({ number: '05551239988', extension: '117', result: 'answered', stopAfter: 'talking' });
    const control = incomingCall({ number: '05551230000', extension: '117', result: 'answered', stopAfter: 'talking' });
    await play(bridge.webhookUrl, rec.requests);
    await play(bridge.webhookUrl, control.requests);
    const card = popup.locator(`article.card[data-call-id="${rec.id}"]`);
    const { post } = await import('./support/flows');
    await play(bridge.webhookUrl, [post({ Event: 'recording', FileUrls: [pbx.url('evil.mp3')], Callerid: '05551239988', User: '117', Id: `${rec.id}-1` })]);
    // Named after the call, not the PBX's file.
    await expect(card.locator('.recording-name')).toHaveText(/^\d{4}-\d\d-\d\d \d\d-\d\d incoming 05551239988 117\.mp3$/);
    await card.getByRole('button', { name: /^Download recording/ }).click();
    const alert = card.getByRole('alert');
    await expect(alert).toContainText('ask your administrator to check the PBX address in Settings → Recordings');
    await expect(alert).not.toContainText('Refused');
    await expect(card.getByRole('button', { name: /^Download recording/ })).toHaveCount(0);
    await expect(card.getByRole('button', { name: /^Try again/ })).toBeVisible();
    // Both calls end; the card without an error closes by itself, the one showing the error stays.
    for (const [c, n] of [[rec, '05551239988'], [control, '05551230000']] as const) {
      await play(bridge.webhookUrl, [post({ Event: 'incoming', Callerid: n, User: '117', Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: '00:42', Id: `${c.id}-1` })]);
    }
    await popup.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await expect(popup.locator(`article.card[data-call-id="${control.id}"]`)).toHaveCount(0);
    await expect(card).toBeVisible();
    await shotThemes(popup, 'shift-download-refused', (theme) => bridge.updateSettings({ theme }));
    expect(pbx.requests).toEqual([]);
    // The log row's Rec badge says the download failed.
    const main = await openView(context, bridge, 'main');
    await main.setViewportSize({ width: 1366, height: 768 });
    await main.getByRole('tab', { name: /Log/ }).click();
    await expect(main.locator(`.log-item[data-call-id="${rec.id}"] .rec-badge.failed`)).toBeVisible();
  } finally {
    await pbx.close();
  }
});
