// Missed calls, caller context, notes and the main window's log (issue 11, items 9–14) in real
// Chromium against the real core through the bridge.
import { readFile } from 'node:fs/promises';
import Papa from 'papaparse';
import { findSeedFlow } from '../../shared/webhook/seed-flows';
import { expect, openView, test } from './fixtures';
import { incomingCall, outgoingCall, play, post, replay, stamp } from './support/flows';

const contactsCsv = 'Name,Company,Phone\nAda Lovelace,Analytical Engines Ltd,0555 123 99 88\nBob Builder,,204\n';

test.describe('missed calls', () => {
  test.use({ bridgeOptions: { settings: { extension: '117', defaultCountry: 'TR', popup: { autoCloseSec: 1 } } } });

  test('Call back on a log row (mouse and keyboard) and opening a call mark it seen; own unanswered calls are "Not answered"', async ({ bridge, context }) => {
    for (const c of [
      incomingCall({ number: '05551239988', extension: '117', result: 'missed' }),
      incomingCall({ number: '02125550000', extension: '117', result: 'missed' }),
      outgoingCall('05324440000', '117', false),
    ])
      await play(bridge.webhookUrl, c.requests);
    const main = await openView(context, bridge, 'main');
    const badge = main.getByRole('tab', { name: /Log/ }).locator('.badge');
    // The agent's own unanswered call is not in the badge.
    await expect(badge).toHaveText('2');
    await main.getByRole('tab', { name: /^Log/ }).click();
    const list = main.getByRole('list', { name: 'Calls, newest first' });
    await expect(list.locator('.log-item', { hasText: '0532 444 00 00' }).locator('.col-result')).toHaveText('Not answered');

    // The Missed filter leaves it out.
    await main.getByLabel('Result').selectOption('missed');
    await expect(main.locator('.log-toolbar .total')).toHaveText('2 calls');
    await expect(list.locator('.log-item', { hasText: '0532 444 00 00' })).toHaveCount(0);
    await main.getByLabel('Result').selectOption('');
    await expect(main.locator('.log-toolbar .total')).toHaveText('3 calls');

    // Keyboard: Tab from the row reaches its Call back, which shows on focus.
    const row = list.locator('.log-item', { hasText: '0555 123 99 88' });
    await row.locator('.call-row').focus();
    await main.keyboard.press('Tab');
    const callBack = row.getByRole('button', { name: 'Call back 0555 123 99 88' });
    await expect(callBack).toBeFocused();
    await expect(row.locator('.row-actions')).toHaveCSS('opacity', '1');
    await main.keyboard.press('Enter');
    await expect.poll(() => bridge.recorded.opened).toEqual(['tel:05551239988']);
    await expect(badge).toHaveText('1');

    // Opening the other missed call marks it seen too.
    await list.locator('.log-item', { hasText: '(0212) 555 00 00' }).locator('.call-row').click();
    await expect(main.getByRole('complementary').getByRole('heading', { level: 2 })).toHaveText('(0212) 555 00 00');
    await expect(badge).toHaveCount(0);
    expect(bridge.status().missedUnseen).toBe(0);
  });

  test('a missed card stays (auto-close is for other calls) and has Call back, which marks it seen', async ({ bridge, context }) => {
    const popup = await openView(context, bridge, 'popup');
    await play(bridge.webhookUrl, incomingCall({ number: '02125550000', extension: '117', result: 'answered' }).requests);
    await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'missed' }).requests);
    const missed = popup.locator('article.card[data-status="ended"]', { hasText: 'Missed' });
    await expect(missed).toBeVisible();
    // The answered card closes after autoCloseSec (1 s); the missed one waits for the agent.
    await expect(popup.locator('article.card', { hasText: '(0212) 555 00 00' })).toHaveCount(0, { timeout: 5000 });
    await popup.waitForTimeout(1500);
    await expect(missed).toBeVisible();
    expect(bridge.popupVisible).toBe(true);
    expect(bridge.status().missedUnseen).toBe(1);
    await missed.getByRole('button', { name: 'Call back' }).click();
    await expect.poll(() => bridge.recorded.opened).toEqual(['tel:05551239988']);
    await expect.poll(() => bridge.status().missedUnseen).toBe(0);
  });
});

test.describe('caller context', () => {
  test.use({
    bridgeOptions: {
      settings: { extension: '117', defaultCountry: 'TR', lineNames: ['820 = Sales'], popup: { autoCloseSec: 0 }, crmUrlTemplate: 'https://crm.example.com/?q={e164}' },
    },
  });

  test('company, queue by name, colleague by name, last calls as a list; withheld has no CRM/Copy; Add contact', async ({ bridge, context }) => {
    await bridge.backend.handle('contacts:importText', { text: contactsCsv, fileName: 'contacts.csv' });
    await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'missed' }).requests);
    const popup = await openView(context, bridge, 'popup');
    // Attended transfer to 204 of a queue-820 call from Ada.
    const flow = replay(findSeedFlow('incoming-attended-transfer')!, '117');
    await play(bridge.webhookUrl, flow.requests);
    const card = popup.locator('article.card', { hasText: 'transferred to' });
    await expect(card.locator('.company')).toHaveText('Analytical Engines Ltd');
    await expect(card.locator('.via')).toContainText('Queue Sales (820)');
    await expect(card.locator('.state-label')).toContainText('transferred to Bob Builder (204)');
    const history = card.locator('.history-list li');
    await expect(history).toHaveCount(1);
    await expect(history.first()).toContainText('Missed');
    await expect(card.getByRole('button', { name: 'Open in CRM' })).toBeVisible();

    // Withheld: nothing to look up or copy, nobody to add.
    await play(bridge.webhookUrl, incomingCall({ number: '', extension: '117', result: 'missed' }).requests);
    const withheld = popup.locator('article.card', { hasText: 'Withheld number' });
    await expect(withheld).toBeVisible();
    await expect(withheld.getByRole('button', { name: 'Add note' })).toBeVisible();
    for (const name of ['Open in CRM', 'Copy number', 'Call back', 'Add contact']) await expect(withheld.getByRole('button', { name })).toHaveCount(0);

    // Unknown number: Add contact with a name typed inline.
    await play(bridge.webhookUrl, incomingCall({ number: '05324440000', extension: '117', result: 'missed' }).requests);
    const unknown = popup.locator('article.card', { hasText: '0532 444 00 00' });
    await unknown.getByRole('button', { name: 'Add contact' }).click();
    await unknown.getByLabel('Contact name').fill('Cem Yılmaz');
    await unknown.getByRole('button', { name: 'Save contact' }).click();
    await expect(unknown.getByRole('status')).toHaveText('Saved as Cem Yılmaz');
    expect(await bridge.backend.handle('contacts:summary', {})).toEqual({ count: 3 });

    // The log's details name the colleague and the queue too.
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: /^Log/ }).click();
    const row = main.locator('.log-item', { hasText: '→ Bob Builder (204)' });
    await expect(row.locator('.col-queue')).toContainText('Sales');
    await row.locator('.call-row').click();
    const details = main.getByRole('complementary');
    await expect(details.locator('.facts')).toContainText('Sales (820)');
    await expect(details.locator('.facts')).toContainText('Bob Builder (204) (attended)');
    await expect(details.locator('.facts')).toContainText('Analytical Engines Ltd');
  });
});

test.describe('notes', () => {
  test.use({ bridgeOptions: { settings: { extension: '117', defaultCountry: 'TR', popup: { autoCloseSec: 0 } } } });

  test('a note typed in details is kept in the log, exported (CSV and JSON) and shown on the next pop from the number', async ({ bridge, context }) => {
    const first = incomingCall({ number: '05551239988', extension: '117', result: 'missed' });
    await play(bridge.webhookUrl, first.requests);
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: /^Log/ }).click();
    await main.locator('.log-item', { hasText: '0555 123 99 88' }).locator('.call-row').click();
    const details = main.getByRole('complementary');
    await details.getByRole('button', { name: 'Add note' }).click();
    await details.getByLabel('Note on this call').fill('Wants a quote by Friday');
    await details.getByRole('button', { name: 'Save note' }).click();
    await expect(details.locator('.note-text')).toHaveText('Note: Wants a quote by Friday');

    await main.getByRole('button', { name: 'Export CSV' }).click();
    await expect(main.getByRole('status').filter({ hasText: /^Exported 1 call to / })).toBeVisible();
    const csv = Papa.parse<Record<string, string>>(await readFile(bridge.recorded.exports.at(-1)!, 'utf8'), { header: true, skipEmptyLines: true });
    expect(csv.data).toMatchObject([{ id: first.id, note: 'Wants a quote by Friday' }]);
    await main.getByRole('button', { name: 'Export JSON' }).click();
    await expect.poll(() => bridge.recorded.exports.length).toBe(2);
    const json = JSON.parse(await readFile(bridge.recorded.exports.at(-1)!, 'utf8')) as { id: string; note: string }[];
    expect(json).toMatchObject([{ id: first.id, note: 'Wants a quote by Friday' }]);

    // The next call from that number pops with the note in its history.
    const popup = await openView(context, bridge, 'popup');
    await play(bridge.webhookUrl, incomingCall({ number: '+90 555 123 99 88', extension: '117', result: 'answered', stopAfter: 'ringing' }).requests);
    const card = popup.locator('article.card[data-status="ringing"]');
    await expect(card.locator('.history-list')).toContainText('“Wants a quote by Friday”');

    // Typed on the card: kept for that call.
    await card.getByRole('button', { name: 'Add note' }).click();
    await card.getByLabel('Note on this call').fill('Called about the quote');
    await card.getByLabel('Note on this call').press('Enter');
    await expect(card.locator('.note-text')).toHaveText('Note: Called about the quote');
    const open = (await bridge.backend.handle('calls:active', {}))[0]!;
    expect(open.note).toBe('Called about the quote');
  });
});

test.describe('main window at its minimum size', () => {
  test.use({ viewport: { width: 720, height: 480 }, bridgeOptions: { settings: { extension: '117', defaultCountry: 'TR' } } });

  test('the log keeps the caller column, shows details over it, fits filters in one row; inputs reach 3:1', async ({ bridge, context }) => {
    for (const n of ['05551239988', '02125550000', '05324440000']) await play(bridge.webhookUrl, incomingCall({ number: n, extension: '117', result: 'answered', queue: '820' }).requests);
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: /^Log/ }).click();
    const who = main.locator('.log-item .col-who').first();
    await expect(who).toBeVisible();
    const before = (await who.boundingBox())!;
    expect(before.width).toBeGreaterThanOrEqual(120);

    await main.locator('.log-item .call-row').first().click();
    const details = main.getByRole('complementary');
    await expect(details).toBeVisible();
    // The list did not shrink: the details lie over it.
    expect((await who.boundingBox())!.width).toBe(before.width);
    const box = (await details.boundingBox())!;
    expect(box.x).toBeLessThan(720 - 300);
    await expect(details).toHaveCSS('position', 'absolute');
    await main.keyboard.press('Escape');
    await expect(details).toHaveCount(0);
    await expect(main.locator('.log-item .call-row').first()).toBeFocused();

    // Filters: one row; the selects live in a Filters popover.
    const filters = main.getByRole('search', { name: 'Filter calls' });
    expect((await filters.boundingBox())!.height).toBeLessThan(50);
    await expect(main.getByLabel('Result')).toBeHidden();
    await main.getByRole('button', { name: /^Filters/ }).click();
    await main.getByLabel('Result').selectOption('missed');
    await expect(main.locator('.log-toolbar .total')).toHaveText('0 calls');
    await expect(main.getByRole('button', { name: 'Filters (1)' })).toBeVisible();
    // A click elsewhere closes the popover.
    await main.locator('.brand').click();
    await expect(main.getByLabel('Result')).toBeHidden();

    // Input borders against their background: WCAG 1.4.11 asks 3:1, in both themes.
    for (const theme of ['light', 'dark'] as const) {
      await bridge.updateSettings({ theme });
      await expect(main.locator('html')).toHaveAttribute('data-theme', theme);
      const ratio = await main.getByRole('searchbox').evaluate((el) => {
        const rgb = (c: string) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
        const lum = (c: string) => {
          const [r, g, b] = rgb(c).map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        };
        const border = getComputedStyle(el).borderTopColor;
        let bgEl: Element | null = el.parentElement;
        let bg = 'rgba(0, 0, 0, 0)';
        while (bgEl && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
          bg = getComputedStyle(bgEl).backgroundColor;
          bgEl = bgEl.parentElement;
        }
        const [a, b] = [lum(border), lum(bg)].sort((x, y) => y - x);
        return (a! + 0.05) / (b! + 0.05);
      });
      expect(ratio, theme).toBeGreaterThanOrEqual(3);
    }
  });
});

test.describe('header', () => {
  test.use({ bridgeOptions: { settings: { extension: '117', defaultCountry: 'TR' } } });

  test('says which extension is tracked and when the PBX last sent anything', async ({ bridge, context }) => {
    const main = await openView(context, bridge, 'main');
    const tracking = main.getByTestId('tracking');
    await expect(tracking).toContainText('Ext 117');
    await expect(tracking).toContainText('no events yet');
    // Any accepted webhook counts, another extension's too.
    await play(bridge.webhookUrl, [post({ Event: 'ringing', Callerid: '05551239988', User: '333', Usertype: 'ext', Did: '', Id: `${stamp()}_1-0` })]);
    await expect(tracking).toContainText('last event just now');
    await expect(main.locator('.warning-banner')).toHaveCount(0);
  });

  test('warns when nothing came from the PBX for 45 minutes on a working day, until an event arrives', async ({ bridge, context }) => {
    const main = await context.newPage();
    // Monday 10:00 local time in the page (the core keeps real time).
    await main.clock.install({ time: new Date(2026, 10, 30, 10, 0) });
    await main.addInitScript(bridge.initScript);
    await main.goto(bridge.url('index.html'));
    await expect(main.getByTestId('tracking')).toContainText('no events yet');
    await main.clock.fastForward('30:00');
    await expect(main.locator('.warning-banner')).toHaveCount(0);
    await main.clock.fastForward('16:00');
    await expect(main.locator('.warning-banner')).toContainText('Nothing from the PBX since Callpop started');
    await play(bridge.webhookUrl, [post({ Event: 'ringing', Callerid: '05551239988', User: '333', Usertype: 'ext', Did: '', Id: `${stamp()}_1-0` })]);
    await main.clock.fastForward('00:20');
    await expect(main.locator('.warning-banner')).toHaveCount(0);
  });
});

test.describe('settings', () => {
  test.use({ bridgeOptions: { settings: { extension: '117', defaultCountry: 'TR' } } });

  test('queue and DID names are typed one per line (names may hold commas); missed cards may close too', async ({ bridge, context }) => {
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: 'Settings' }).click();
    const names = main.getByLabel('Names of queues, ring groups and DIDs');
    await names.fill('820 = Sales\nSupport');
    await expect(main.locator('#set-lineNames-err')).toContainText('number = name');
    await names.fill('820 = Sales, EMEA\n0212555000 = Support line');
    await expect.poll(() => bridge.settingsService.settings.lineNames).toEqual(['820 = Sales, EMEA', '0212555000 = Support line']);
    await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'missed', queue: '820' }).requests);
    await expect.poll(async () => (await bridge.backend.handle('log:query', { offset: 0, limit: 1 })).records[0]?.queueName).toBe('Sales, EMEA');

    const missedToo = main.getByLabel('Close missed calls too');
    await expect(missedToo).not.toBeChecked();
    await missedToo.check();
    await expect.poll(() => bridge.settingsService.settings.popup.autoCloseMissed).toBe(true);
  });
});
