// What the agent sees in the popup for every seed flow, played through the REAL listener.
import type { Page } from '@playwright/test';
import { seedFlows } from '../../shared/webhook/seed-flows';
import type { ExpectedRecord } from '../../shared/webhook/seed-flows';
import { expect, openView, test } from './fixtures';
import { play, post, stamp } from './support/flows';
import { flowRequests } from '../../shared/webhook/seed-flows';

const cards = (page: Page) => page.locator('article.card');
const card = (page: Page, id: string) => page.locator(`article.card[data-call-id="${id}"]`);

function durationText(sec: number | null): string {
  if (sec === null) return '–';
  return `${Math.floor(sec / 60)}:${String(sec % 60).padStart(2, '0')}`;
}

/** A ringing call for the user's extension, sent after a flow so "nothing else popped" is checkable. */
async function sentinel(page: Page, url: string, extension: string): Promise<string> {
  const id = `${stamp()}_99`;
  await play(url, [post({ Event: 'ringing', Callerid: '02125550000', User: extension, Usertype: 'ext', Did: '', Id: `${id}-0` })]);
  await expect(card(page, id)).toBeVisible();
  return id;
}

test.describe('popup per seed flow', () => {
  for (const flow of seedFlows) {
    for (const [extension, exp] of Object.entries(flow.expected) as [string, ExpectedRecord][]) {
      test(`${flow.name} as ${extension}: ${exp.direction} ${exp.result}`, async ({ bridge, context }) => {
        await bridge.updateSettings({ extension, popup: { autoCloseSec: 0 } });
        const popup = await openView(context, bridge, 'popup');
        const main = await openView(context, bridge, 'main');
        const s = stamp();
        await play(bridge.webhookUrl, flowRequests(flow, { freshIds: { stamp: s } }));
        const id = exp.id.replace(/^\d{12}(?=_)/, s);

        if (exp.direction === 'outgoing') {
          // No popup for the agent's own outgoing calls.
          const sid = await sentinel(popup, bridge.webhookUrl, extension);
          await expect(cards(popup)).toHaveCount(1);
          await expect(card(popup, sid)).toBeVisible();
        } else {
          const c = card(popup, id);
          await expect(c).toBeVisible();
          const state = c.locator('.state-label');
          if (exp.result === 'missed') await expect(state).toHaveText('Missed');
          else if (exp.result === 'answered-elsewhere') await expect(state).toHaveText(exp.answeredBy ? `Answered by ${exp.answeredBy}` : 'Answered elsewhere');
          else {
            await expect(state).toContainText(`Ended · ${durationText(exp.durationSec)}`);
            if (exp.transferredTo) await expect(state).toContainText(`transferred to ${exp.transferredTo}`);
          }
          if (exp.queue) await expect(c.locator('.via')).toContainText(`Queue ${exp.queue}`);
          if (exp.did) await expect(c.locator('.via')).toContainText(`DID ${exp.did}`);
          if (exp.transferredFrom) await expect(c.locator('.via')).toContainText(`Transferred from ${exp.transferredFrom}`);
          await expect(c.getByRole('button', { name: /^Download recording/ })).toHaveCount(exp.recordings);
          await expect(c.locator('.name')).toHaveText(/\d/);
        }
        // The main window's "Today" list has the call with its result.
        const row = main.getByRole('list', { name: "Today's calls" }).getByRole('button').filter({ hasText: exp.result === 'missed' ? (exp.direction === 'incoming' ? 'Missed' : 'Not answered') : exp.result === 'answered-elsewhere' ? 'Answered elsewhere' : 'Answered' });
        await expect(row.first()).toBeVisible();
      });
    }
  }
});

test.describe('popup', () => {
  test.use({ bridgeOptions: { settings: { extension: '555', popup: { autoCloseSec: 0 } } } });

  test("other extensions' calls show nothing", async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    for (const flow of seedFlows) await play(bridge.webhookUrl, flowRequests(flow, { freshIds: { stamp: stamp() } }));
    await sentinel(popup, bridge.webhookUrl, '555');
    await expect(cards(popup)).toHaveCount(1);
  });

  test('follows a call live: ringing, talking, ended, recording', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    const id = `${stamp()}_10`;
    const url = bridge.webhookUrl;
    await play(url, [post({ Event: 'ringing', Callerid: '05551239988', User: '820', Usertype: 'queue', Did: '', Id: `${id}-0` })]);
    await play(url, [post({ Event: 'ringing', Callerid: '05551239988', User: '555', Usertype: 'ext', Did: '', Id: `${id}-0` })]);
    const c = card(popup, id);
    await expect(c.locator('.state-label')).toHaveText(/^Ringing \d+:\d\d$/);
    await expect(c.locator('.name')).toHaveText('0555 123 99 88');
    await expect(c.locator('.via')).toHaveText('Queue 820');
    await expect(popup.getByRole('status').first()).toHaveText('Incoming call from 0555 123 99 88 via queue 820');
    await play(url, [post({ Event: 'incomingcall_started', Callerid: '05551239988', User: '555', Trtype: 'NotDef', Did: '', Id: `${id}-1` })]);
    await expect(c.locator('.state-label')).toHaveText(/^Talking \d+:\d\d$/);
    await play(url, [post({ Event: 'incoming', Callerid: '05551239988', User: '555', Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: '01:05', Id: `${id}-1` })]);
    await expect(c.locator('.state-label')).toHaveText('Ended · 1:05');
    await play(url, [post({ Event: 'recording', FileUrls: [`https://pbx.example.com:5001/webapi/recording/${id}-1-1.mp3`], Callerid: '05551239988', User: '555', Id: `${id}-1` })]);
    await expect(c.getByRole('button', { name: `Download recording ${id}-1-1.mp3` })).toBeVisible();
    // No CRM template set: no CRM button. Copy number goes to the clipboard.
    await expect(c.getByRole('button', { name: 'Open in CRM' })).toHaveCount(0);
    await c.getByRole('button', { name: 'Copy number' }).click();
    await expect.poll(() => bridge.recorded.clipboard).toEqual(['05551239988']);
  });

  test('a hostile caller id shows as text and runs nothing', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    let dialogs = 0;
    popup.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    const xss = '<img src=x onerror=alert(1)>';
    const id = `${stamp()}_11`;
    await play(bridge.webhookUrl, [post({ Event: 'ringing', Callerid: xss, User: '555', Usertype: 'ext', Did: '', Id: `${id}-0` })]);
    await expect(card(popup, id).locator('.name')).toHaveText(xss);
    await expect(popup.locator('img')).toHaveCount(0);
    expect(dialogs).toBe(0);
  });

  test('keyboard: cards and buttons are reachable, D dismisses, Esc gives the focus back', async ({ bridge, context }) => {
    await bridge.updateSettings({ crmUrlTemplate: 'https://crm.example.com/find?phone={e164}&ext={extension}' });
    const popup = await openView(context, bridge, 'popup');
    const a = `${stamp()}_12`;
    const b = `${stamp()}_13`;
    await play(bridge.webhookUrl, [post({ Event: 'ringing', Callerid: '05551239988', User: '555', Usertype: 'ext', Did: '', Id: `${a}-0` })]);
    await play(bridge.webhookUrl, [post({ Event: 'ringing', Callerid: '+442079460958', User: '555', Usertype: 'ext', Did: '', Id: `${b}-0` })]);
    // Newest on top.
    await expect(cards(popup)).toHaveCount(2);
    await expect(cards(popup).first()).toHaveAttribute('data-call-id', b);
    await expect(card(popup, b).locator('.name')).toHaveText('+44 20 7946 0958');
    await popup.keyboard.press('Tab');
    await expect(card(popup, b)).toBeFocused();
    // Further Tabs reach the card's actions (a note field may come first); Dismiss comes after them (issue #20).
    const crm = card(popup, b).getByRole('button', { name: 'Open in CRM' });
    for (let i = 0; i < 4 && !(await crm.evaluate((el) => el === document.activeElement)); i++) await popup.keyboard.press('Tab');
    await expect(crm).toBeFocused();
    await popup.keyboard.press('Enter');
    await expect.poll(() => bridge.recorded.opened).toEqual(['https://crm.example.com/find?phone=%2B442079460958&ext=555']);
    // Esc hands the focus back (main returns it to where it was) and dismisses nothing.
    await popup.keyboard.press('Escape');
    await expect.poll(() => bridge.recorded.focusReturns).toBe(1);
    await expect(cards(popup)).toHaveCount(2);
    await card(popup, b).focus();
    await popup.keyboard.press('d');
    await expect(card(popup, b)).toHaveCount(0);
    await expect.poll(() => bridge.recorded.dismissed).toEqual([b]);
    // The keyboard stays in the stack: the next card has the focus.
    await expect(card(popup, a)).toBeFocused();
    await popup.keyboard.press('Delete');
    await expect(cards(popup)).toHaveCount(0);
  });
});

test.describe('auto close', () => {
  test.use({ bridgeOptions: { settings: { extension: '555', popup: { autoCloseSec: 1, autoCloseMissed: true } } } });
  test('a missed call card closes by itself after the delay', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    const id = `${stamp()}_14`;
    await play(bridge.webhookUrl, [post({ Event: 'ringing', Callerid: '05551239988', User: '555', Usertype: 'ext', Did: '', Id: `${id}-0` })]);
    await expect(card(popup, id)).toBeVisible();
    await play(bridge.webhookUrl, [post({ Event: 'incoming', Callerid: '05551239988', User: '555', Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${id}-0` })]);
    await expect(card(popup, id).locator('.state-label')).toHaveText('Missed');
    await expect(card(popup, id)).toHaveCount(0);
  });
});
