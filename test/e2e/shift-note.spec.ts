// Issue #20 item 1: a wrap-up note typed on an ended call's popup card is never lost. The card does not
// close by itself while it has the focus, unsaved text or an open form, and the text typed is kept as a
// draft (in the log's details too) until it is saved or discarded.
import type { Page } from '@playwright/test';
import { expect, openView, test } from './fixtures';
import { incomingCall, play, post } from './support/flows';
import { shotThemes } from './support/shots';

const card = (page: Page, id: string) => page.locator(`article.card[data-call-id="${id}"]`);

test.describe('wrap-up note on a popup card', () => {
  test.use({ bridgeOptions: { settings: { extension: '117', popup: { autoCloseSec: 1 } } }, viewport: { width: 380, height: 400 } });

  test('the card stays while a note is typed or unsaved; the draft follows the call to the log', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    const noted = incomingCall({ number: '05051234567', extension: '117', result: 'answered', stopAfter: 'talking' });
    const control = incomingCall({ number: '05059876543', extension: '117', result: 'answered', stopAfter: 'talking' });
    await play(bridge.webhookUrl, noted.requests);
    await play(bridge.webhookUrl, control.requests);
    await expect(card(popup, noted.id)).toBeVisible();
    await card(popup, noted.id).getByRole('button', { name: 'Add note' }).click();
    const typed = 'Wants a quote for 40 seats by Friday, call Mehmet';
    await card(popup, noted.id).getByRole('textbox', { name: 'Note on this call' }).pressSequentially(typed.slice(0, 30));
    // Both calls end while the agent types.
    for (const [c, number] of [[noted, '05051234567'], [control, '05059876543']] as const) {
      await play(bridge.webhookUrl, [post({ Event: 'incoming', Callerid: number, User: '117', Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: '00:42', Id: `${c.id}-1` })]);
    }
    await card(popup, noted.id).getByRole('textbox', { name: 'Note on this call' }).pressSequentially(typed.slice(30));
    // The control card (no note) closes by itself after the delay; the one being typed on does not.
    await expect(card(popup, control.id)).toHaveCount(0);
    await expect(card(popup, noted.id)).toBeVisible();
    await shotThemes(popup, 'shift-note-typing', (theme) => bridge.updateSettings({ theme }));
    // Focus elsewhere (the agent clicks another window): the unsaved text still holds the card.
    await popup.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const control2 = incomingCall({ number: '05051112233', extension: '117', result: 'answered' });
    await play(bridge.webhookUrl, control2.requests);
    await expect(card(popup, control2.id)).toHaveCount(0);
    await expect(card(popup, noted.id)).toBeVisible();
    await expect(card(popup, noted.id).getByRole('textbox', { name: 'Note on this call' })).toHaveValue(typed);
    // Dismissed unsaved: the draft is in the log's details of that call, ready to save.
    // Esc closes the editor and keeps the text as an unsaved note.
    await card(popup, noted.id).getByRole('textbox', { name: 'Note on this call' }).press('Escape');
    await expect(card(popup, noted.id).getByText(`Unsaved note: ${typed}`)).toBeVisible();
    await shotThemes(popup, 'shift-note-unsaved', (theme) => bridge.updateSettings({ theme }));
    await card(popup, noted.id).getByRole('button', { name: 'Dismiss' }).click();
    await expect(card(popup, noted.id)).toHaveCount(0);
    const main = await openView(context, bridge, 'main');
    await main.setViewportSize({ width: 1366, height: 768 });
    await main.getByRole('tab', { name: /Log/ }).click();
    await main.locator(`[data-call-id="${noted.id}"] .call-row`).click();
    const field = main.getByRole('complementary').getByRole('textbox', { name: 'Note on this call' });
    await expect(field).toHaveValue(typed);
    await main.getByRole('complementary').getByRole('button', { name: 'Save note' }).click();
    await expect(main.getByRole('complementary').getByText(`Note: ${typed}`)).toBeVisible();
    expect((await bridge.backend.handle('calls:get', { callId: noted.id }))?.note).toBe(typed);
  });
});
