// The popup in Chromium over the real core: order (live above ended), the live ring timer, "Stopped
// ringing?" (the page's clock fast-forwarded past the ring timeout), clearing a ghost call, test calls
// marked TEST, and the keyboard after the global shortcut (main's part is in windows/shortcut tests).
import type { BrowserContext, Page } from '@playwright/test';
import { parsePolicy } from '../../shared/policy';
import { isTestCallId } from '../../shared/test-call-id';
import type { Bridge } from './bridge/bridge';
import { expect, openView, test } from './fixtures';
import { play, post, stamp } from './support/flows';
import { shotThemes } from './support/shots';

const cards = (page: Page) => page.locator('article.card');
const card = (page: Page, id: string) => page.locator(`article.card[data-call-id="${id}"]`);
const ring = (id: string, number: string) => post({ Event: 'ringing', Callerid: number, User: '555', Usertype: 'ext', Did: '', Id: `${id}-0` });
const answer = (id: string, number: string) => post({ Event: 'incomingcall_started', Callerid: number, User: '555', Trtype: 'NotDef', Did: '', Id: `${id}-1` });
const hangUp = (id: string, number: string) =>
  post({ Event: 'incoming', Callerid: number, User: '555', Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: '00:42', Id: `${id}-1` });

/** A page with a controllable clock (installed before the page's scripts run). */
async function pageWithClock(context: BrowserContext, bridge: Bridge, file: 'popup.html' | 'index.html'): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.clock.install();
  await page.addInitScript(bridge.initScript);
  await page.goto(bridge.url(file));
  return page;
}
const popupWithClock = (context: BrowserContext, bridge: Bridge) => pageWithClock(context, bridge, 'popup.html');

test.describe('popup states', () => {
  test.use({ bridgeOptions: { settings: { extension: '555', ringTimeoutSec: 30, popup: { autoCloseSec: 0 } } } });

  test('live cards sit above ended ones, newest first', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    const [a, b, c] = [`${stamp()}_21`, `${stamp()}_22`, `${stamp()}_23`];
    await play(bridge.webhookUrl, [ring(a, '05551230021')]);
    await play(bridge.webhookUrl, [ring(b, '05551230022'), answer(b, '05551230022')]);
    await play(bridge.webhookUrl, [ring(c, '05551230023'), answer(c, '05551230023'), hangUp(c, '05551230023')]);
    await expect(card(popup, c).locator('.state-label')).toHaveText(/^Ended/);
    // c is the newest but over: below the live ones.
    await expect(cards(popup)).toHaveCount(3);
    const order = async () => cards(popup).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.callId));
    await expect.poll(order).toEqual([b, a, c]);
    // a ends: b is the only live card; the ended ones follow, newest first.
    await play(bridge.webhookUrl, [answer(a, '05551230021'), hangUp(a, '05551230021')]);
    await expect.poll(order).toEqual([b, c, a]);
    await expect(card(popup, a).locator('.state-label')).toHaveText(/^Ended/);
    await play(bridge.webhookUrl, [hangUp(b, '05551230022')]);
    await expect(card(popup, b).locator('.state-label')).toHaveText(/^Ended/);
  });

  test('a ringing card shows how long it has rung, live', async ({ bridge, context }) => {
    const popup = await popupWithClock(context, bridge);
    const id = `${stamp()}_24`;
    await play(bridge.webhookUrl, [ring(id, '05551230024')]);
    const label = card(popup, id).locator('.state-label');
    await expect(label).toHaveText(/^Ringing 0:0\d$/);
    await popup.clock.fastForward(12_000);
    await expect(label).toHaveText(/^Ringing 0:1\d$/);
  });

  test('a ringing call with no news for the ring timeout is "Missed (rang out, no end seen)" and stays like a missed call', async ({ bridge, context }) => {
    const popup = await popupWithClock(context, bridge);
    const quiet = `${stamp()}_25`;
    const fresh = `${stamp()}_26`;
    await play(bridge.webhookUrl, [ring(quiet, '05551230025')]);
    await expect(card(popup, quiet)).toBeVisible();
    await popup.clock.fastForward(20_000);
    await play(bridge.webhookUrl, [ring(fresh, '05551230026')]);
    await expect(card(popup, fresh)).toBeVisible();
    // 31 s after its last news the first one is taken for gone; the second (20 s younger) still rings.
    await popup.clock.fastForward(11_000);
    // One name for it everywhere (issue #20): missed, as the log and the badge count it, and why.
    await expect(card(popup, quiet).locator('.state-label')).toHaveText('Missed (rang out, no end seen)');
    await expect(card(popup, fresh).locator('.state-label')).toHaveText(/^Ringing/);
    await expect(cards(popup).first()).toHaveAttribute('data-call-id', fresh);
    // It stays like any missed call (issue #20: it used to leave by itself 8 s later) until dismissed.
    await popup.clock.fastForward(60_000);
    await expect(card(popup, quiet)).toBeVisible();
    expect(bridge.recorded.dismissed).toEqual([]);
    await card(popup, quiet).getByRole('button', { name: 'Dismiss' }).click();
    await expect.poll(() => bridge.recorded.dismissed).toEqual([quiet]);
    await expect(card(popup, fresh)).toBeVisible();
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: 'Settings' }).click();
    await expect(main.getByLabel('"Missed (rang out, no end seen)" after ringing with no news for (seconds)')).toHaveValue('30');
  });

  test('Clear is offered only after long silence about a talking call, and asks first; in the popup and in the main window', async ({ bridge, context }) => {
    const popup = await popupWithClock(context, bridge);
    const main = await pageWithClock(context, bridge, 'index.html');
    const [a, b] = [`${stamp()}_27`, `${stamp()}_28`];
    await play(bridge.webhookUrl, [ring(a, '05551230027'), answer(a, '05551230027')]);
    await play(bridge.webhookUrl, [ring(b, '05551230028'), answer(b, '05551230028')]);
    await expect(card(popup, a).locator('.state-label')).toHaveText(/^Talking/);
    const active = main.locator('.active-cards article.card');
    await expect(active).toHaveCount(2);
    // A call in progress: 3CX says nothing until it ends, so no Clear beside Copy number (issue #20).
    // (The clock is the browser context's: one fast-forward moves both pages.)
    await popup.clock.fastForward(19 * 60_000);
    await expect(card(popup, a).locator('.state-label')).toHaveText(/^Talking 19:/);
    await expect(card(popup, a).getByRole('button', { name: /^Clear/ })).toHaveCount(0);
    await expect(active.getByRole('button', { name: /^Clear/ })).toHaveCount(0);
    // 20 minutes without a word about it: it may be a call whose end was lost.
    await popup.clock.fastForward(61_000);
    await card(popup, a).getByRole('button', { name: /^Clear/ }).click();
    await expect(card(popup, a).locator('.state-label')).toHaveText(/^Talking/);
    const confirm = card(popup, a).getByRole('group', { name: 'Confirm clear' });
    await expect(confirm).toContainText('Has this call ended?');
    await popup.setViewportSize({ width: 380, height: 600 });
    await shotThemes(popup, 'shift-clear-confirm', (theme) => bridge.updateSettings({ theme }), card(popup, a));
    await confirm.getByRole('button', { name: 'Keep' }).click();
    await expect(card(popup, a).locator('.state-label')).toHaveText(/^Talking/);
    await card(popup, a).getByRole('button', { name: /^Clear/ }).click();
    await card(popup, a).getByRole('button', { name: 'Yes, clear it' }).click();
    await expect(card(popup, a).locator('.state-label')).toHaveText(/^Ended/);
    await expect(card(popup, a).getByRole('button', { name: /^Clear/ })).toHaveCount(0);
    // The main window's active calls: the same action.
    await expect(active).toHaveCount(1);
    await active.getByRole('button', { name: /^Clear/ }).click();
    await active.getByRole('button', { name: 'Yes, clear it' }).click();
    await expect(main.locator('.active-cards article.card')).toHaveCount(0);
    await expect(card(popup, b).locator('.state-label')).toHaveText(/^Ended/);
    expect(await main.evaluate(() => window.callpop.activeCalls())).toEqual([]);
  });
});

test.describe('test calls', () => {
  test.use({
    bridgeOptions: {
      settings: { extension: '555', popup: { autoCloseSec: 0 } },
      backend: { testCallPacing: { answerAfterMs: 300, endAfterMs: 300, recordingAfterMs: 100 } },
    },
  });

  test('"Send test call" shows TEST on the card and in the log, and stays off the missed badge', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: 'Settings' }).click();
    await main.getByRole('button', { name: 'Send test call' }).click();
    const c = cards(popup).first();
    await expect(c.locator('.test-badge')).toHaveText('TEST');
    expect(isTestCallId((await c.getAttribute('data-call-id')) ?? '')).toBe(true);
    await expect(c.locator('.state-label')).toHaveText(/^Ended/);
    await main.getByRole('tab', { name: /^Log/ }).click();
    const row = main.locator('.call-row:not(.placeholder)').first();
    await expect(row.locator('.test-badge')).toHaveText('TEST');
    expect((await main.evaluate(() => window.callpop.getStatus())).missedUnseen).toBe(0);
  });
});

test.describe('keyboard after the global shortcut', () => {
  test.use({ bridgeOptions: { settings: { extension: '555', popup: { autoCloseSec: 0 }, crmUrlTemplate: 'https://crm.example.com/find?phone={e164}' } } });

  test('the newest card takes the focus; Enter opens it; C, O, B, D act on it; arrows move; Esc gives the focus back', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    const main = await openView(context, bridge, 'main');
    const navigated: unknown[] = [];
    await main.exposeFunction('__nav', (t: unknown) => navigated.push(t));
    await main.evaluate(() => window.callpop.onNavigate((t) => (window as unknown as { __nav: (t: unknown) => void }).__nav(t)));
    const [old, ended, newest] = [`${stamp()}_31`, `${stamp()}_32`, `${stamp()}_33`];
    await play(bridge.webhookUrl, [ring(old, '05551230031')]);
    await play(bridge.webhookUrl, [ring(ended, '05551230032'), answer(ended, '05551230032'), hangUp(ended, '05551230032')]);
    await play(bridge.webhookUrl, [ring(newest, '+442079460958')]);
    await expect(cards(popup)).toHaveCount(3);

    bridge.pressShortcut();
    await expect(card(popup, newest)).toBeFocused();
    await expect(popup.locator('.key-hint')).toContainText('Enter open');
    await expect(popup.locator('.key-hint')).toContainText('C copy');
    await expect(popup.locator('.key-hint')).toContainText('O CRM');
    await expect(popup.locator('.key-hint')).not.toContainText('call back'); // a ringing call has no Call back

    await popup.keyboard.press('Enter');
    // That caller's calls in the log, this one open (issue #20).
    await expect.poll(() => navigated).toEqual([{ view: 'log', callId: newest, search: '+442079460958' }]);
    await popup.keyboard.press('c');
    await expect.poll(() => bridge.recorded.clipboard).toEqual(['+442079460958']);
    await popup.keyboard.press('o');
    await expect.poll(() => bridge.recorded.opened).toEqual(['https://crm.example.com/find?phone=%2B442079460958']);

    // Down: the next card (the older live one), then the ended one (live cards sit above it).
    await popup.keyboard.press('ArrowDown');
    await expect(card(popup, old)).toBeFocused();
    await popup.keyboard.press('ArrowDown');
    await expect(card(popup, ended)).toBeFocused();
    await expect(popup.locator('.key-hint')).toContainText('B call back');
    await popup.keyboard.press('b');
    await expect.poll(() => bridge.recorded.opened.at(-1)).toBe('tel:05551230032');
    await popup.keyboard.press('Enter');
    await expect.poll(() => navigated.at(-1)).toEqual({ view: 'log', callId: ended, search: '05551230032' });
    await popup.keyboard.press('d');
    await expect(card(popup, ended)).toHaveCount(0);
    await expect(card(popup, old)).toBeFocused();
    await popup.keyboard.press('Home');
    await expect(card(popup, newest)).toBeFocused();

    // Letters typed in a text field of a card are text, not commands.
    const field = popup.locator('article.card textarea, article.card input').first();
    if ((await field.count()) > 0) {
      await field.focus();
      await popup.keyboard.type('dc');
      await expect(cards(popup)).toHaveCount(2);
    }

    await card(popup, newest).focus();
    await popup.keyboard.press('Escape');
    await expect.poll(() => bridge.recorded.focusReturns).toBe(1);
    await expect(card(popup, newest)).not.toBeFocused();
    await expect(popup.locator('.key-hint')).toHaveCount(0);
    await expect(cards(popup)).toHaveCount(2);
  });
});

test.describe('Settings: the popup display and the shortcut', () => {
  test.use({ bridgeOptions: { settings: { extension: '555' } } });

  test('a bad shortcut gets an inline error and changes nothing; a good one and a display are saved', async ({ bridge, context }) => {
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: 'Settings' }).click();
    const shortcut = main.getByLabel('Keyboard shortcut to the newest card');
    await expect(shortcut).toHaveValue('CommandOrControl+Alt+P');
    await shortcut.fill('Q');
    await expect(main.locator('[data-field="popup.shortcut"] .field-error')).toContainText('needs a modifier');
    expect(bridge.settingsService.settings.popup.shortcut).toBe('CommandOrControl+Alt+P');
    await shortcut.fill('Ctrl+Shift+F9');
    await expect.poll(() => bridge.settingsService.settings.popup.shortcut).toBe('Ctrl+Shift+F9');

    const display = main.getByLabel('Display', { exact: true });
    await expect(display.locator('option')).toHaveText(['Primary display', 'The display with the mouse pointer', 'Browser display (1920×1080, primary)']);
    await display.selectOption('pointer');
    await expect.poll(() => bridge.settingsService.settings.popup.display).toBe('pointer');
  });
});

test.describe('Settings: a shortcut locked by policy', () => {
  const policy = parsePolicy({ lockReason: 'Set by IT', locked: { popup: { shortcut: 'Ctrl+Alt+F12' } } });
  if (!policy.ok) throw new Error(policy.error);
  test.use({ bridgeOptions: { settings: { extension: '555' }, policy: policy.policy } });

  test('shows the locked value read-only', async ({ bridge, context }) => {
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: 'Settings' }).click();
    const shortcut = main.getByLabel('Keyboard shortcut to the newest card');
    await expect(shortcut).toHaveValue('Ctrl+Alt+F12');
    await expect(shortcut).toBeDisabled();
    expect(bridge.settingsService.settings.popup.shortcut).toBe('Ctrl+Alt+F12');
  });
});
