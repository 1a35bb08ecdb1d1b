// The call log in the main window: filters, search in several number formats, export, mark seen,
// details, delete, and one-click recording download from a local HTTP server acting as the PBX.
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Papa from 'papaparse';
import { csvColumns } from '../../shared/call-csv';
import { expect, openView, test } from './fixtures';
import { incomingCall, outgoingCall, play } from './support/flows';
import { startFakePbx } from './support/pbx';
import { shot } from './support/shots';

test.use({ bridgeOptions: { settings: { extension: '117', defaultCountry: 'TR', popup: { autoCloseSec: 0 } } } });

test('filter, search in any number format, contact names, export CSV, mark seen, delete', async ({ bridge, context }) => {
  const url = bridge.webhookUrl;
  // The agent's own calls come first: calling a number settles its earlier missed calls (issue #20).
  const calls = [
    outgoingCall('00905551239988', '117', true),
    outgoingCall('02125550000', '117', false),
    incomingCall({ number: '05551239988', extension: '117', result: 'answered', queue: '820', duration: '00:06' }),
    incomingCall({ number: '+905551239988', extension: '117', result: 'missed' }),
    incomingCall({ number: '02125550000', extension: '117', result: 'missed' }),
    incomingCall({ number: '204', extension: '117', result: 'answered' }),
  ];
  for (const c of calls) await play(url, c.requests);
  const contacts = join(bridge.dir, 'contacts.csv');
  await writeFile(contacts, 'Name,Phone\nAyşe Yılmaz,+90 555 123 99 88\n');
  bridge.contactsFile = contacts;

  const main = await openView(context, bridge, 'main');
  await main.getByRole('tab', { name: 'Settings' }).click();
  await main.getByRole('button', { name: 'Import contacts…' }).click();
  await expect(main.getByRole('status').filter({ hasText: /^Imported \d+ contacts/ })).toBeVisible();

  await main.getByRole('tab', { name: /^Log/ }).click();
  const total = main.locator('.log-toolbar .total');
  const rows = main.getByRole('list', { name: 'Calls, newest first' }).locator('.call-row:not(.placeholder)');
  await expect(total).toHaveText('6 calls');
  await expect(rows).toHaveCount(6);
  await expect(main.locator('.day-header').first()).toHaveText('Today');
  // The badge and the toolbar count the two unseen missed calls.
  await expect(main.getByRole('tab', { name: /Log/ }).locator('.badge')).toHaveText('2');
  await expect(main.locator('.missed-unseen')).toHaveText('2 missed not seen');

  const search = main.getByRole('searchbox', { name: /^Search number/ });
  for (const q of ['0555 123 99 88', '+90 555 123 99 88', '05551239988', '5551239988']) {
    await search.fill(q);
    await expect(total, `search "${q}"`).toHaveText('3 calls');
  }
  await search.fill('Ayşe');
  await expect(total).toHaveText('3 calls');
  await expect(rows.first().locator('.who-main')).toHaveText('Ayşe Yılmaz');
  await search.fill('');
  await expect(total).toHaveText('6 calls');

  // "Missed" is calls to the agent nobody took; the agent's own unanswered call is "Not answered".
  await main.getByLabel('Result').selectOption('missed');
  await expect(total).toHaveText('2 calls');
  await main.getByLabel('Direction').selectOption('outgoing');
  await expect(total).toHaveText('0 calls');
  await main.getByLabel('Result').selectOption('not-answered');
  await expect(total).toHaveText('1 call');
  await expect(rows.first().locator('.col-result')).toHaveText('Not answered');
  await main.getByLabel('Result').selectOption('answered-elsewhere');
  await expect(total).toHaveText('0 calls');
  await expect(main.getByText('No calls match these filters.')).toBeVisible();
  await main.getByLabel('Result').selectOption('');
  await expect(total).toHaveText('2 calls');
  await main.getByLabel('Direction').selectOption('incoming');
  await main.getByLabel('Result').selectOption('answered');
  await expect(total).toHaveText('2 calls');

  // Export the filtered list (incoming answered) as CSV and check the file itself.
  await main.getByRole('button', { name: 'Export CSV' }).click();
  await expect(main.getByRole('status').filter({ hasText: /^Exported 2 calls to / })).toBeVisible();
  const file = bridge.recorded.exports.at(-1)!;
  const csv = Papa.parse<Record<string, string>>(await readFile(file, 'utf8'), { header: true, skipEmptyLines: true });
  expect(csv.meta.fields).toEqual([...csvColumns, 'note']);
  expect(csv.data.map((r) => [r.direction, r.result, r.number]).sort()).toEqual([
    ['incoming', 'answered', '05551239988'],
    ['incoming', 'answered', '204'],
  ]);
  expect(csv.data.find((r) => r.number === '05551239988')).toMatchObject({ id: calls[2]!.id, queue: '820', durationSec: '6', extension: '117' });

  // Unseen only, then mark all seen.
  await main.getByRole('button', { name: 'Clear filters' }).click();
  await main.getByLabel('Unseen only').check();
  await expect(total).toHaveText('2 calls');
  await main.getByRole('button', { name: 'Mark all seen' }).click();
  await expect(main.locator('.missed-unseen')).toHaveText('No unseen missed calls');
  await expect(main.getByRole('tab', { name: /Log/ }).locator('.badge')).toHaveCount(0);
  await expect(total).toHaveText('0 calls');
  await main.getByLabel('Unseen only').uncheck();

  // Details, then delete with confirmation.
  await expect(total).toHaveText('6 calls');
  await rows.filter({ hasText: '(0212) 555 00 00' }).filter({ hasText: 'Missed' }).click();
  const details = main.getByRole('complementary');
  await expect(details.getByRole('heading', { level: 2 })).toHaveText('(0212) 555 00 00');
  await details.getByRole('button', { name: 'Copy number' }).click();
  await details.getByRole('button', { name: 'Call back' }).click();
  await expect.poll(() => bridge.recorded.opened).toEqual(['tel:02125550000']);
  await expect.poll(() => bridge.recorded.clipboard).toEqual(['02125550000']);
  await details.getByRole('button', { name: 'Delete' }).click();
  await details.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(total).toHaveText('5 calls');
  await expect(details).toHaveCount(0);
});

test('download a recording from the log: progress, file in the folder, show in folder, play', async ({ bridge, context }) => {
  const pbx = await startFakePbx();
  try {
    await bridge.updateSettings({ pbxHost: pbx.host });
    const { id, requests } = incomingCall({ number: '05551239988', extension: '117', result: 'answered', recordings: [pbx.url('rec-1.mp3')] });
    await play(bridge.webhookUrl, requests);
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: /^Log/ }).click();
    await main.locator('.call-row:not(.placeholder)').first().click();
    const details = main.getByRole('complementary');
    await expect(details.getByRole('heading', { level: 2 })).toHaveText('0555 123 99 88');
    await details.getByRole('button', { name: 'Download recording rec-1.mp3' }).click();
    await expect(details.getByRole('progressbar', { name: 'Downloading rec-1.mp3' })).toBeVisible();
    await expect(details.getByText('Downloaded')).toBeVisible();
    const files = await readdir(bridge.downloadDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.mp3$/);
    expect(files[0]).toContain('117');
    const saved = join(bridge.downloadDir, files[0]!);
    expect((await readFile(saved)).equals(pbx.body)).toBe(true);
    await details.getByRole('button', { name: 'Show in folder' }).click();
    await expect.poll(() => bridge.recorded.shownInFolder).toEqual([saved]);
    await details.getByRole('button', { name: 'Play rec-1.mp3' }).click();
    const audio = details.locator('audio');
    await expect(audio).toHaveAttribute('src', new RegExp(`^${bridge.origin}/media/`));
    const res = await main.request.get((await audio.getAttribute('src'))!, { headers: { range: 'bytes=100-199' } });
    expect(res.status()).toBe(206);
    expect((await res.body()).equals(pbx.body.subarray(100, 200))).toBe(true);
    expect(existsSync(saved)).toBe(true);
    expect(id).toBeTruthy();
    await shot(main, 'log-view');
  } finally {
    await pbx.close();
  }
});

test('a notification click (push:navigate) opens the call in the log', async ({ bridge, context }) => {
  const missed = incomingCall({ number: '+442079460958', extension: '117', result: 'missed' });
  await play(bridge.webhookUrl, missed.requests);
  await play(bridge.webhookUrl, incomingCall({ number: '05551239988', extension: '117', result: 'answered' }).requests);
  const main = await openView(context, bridge, 'main');
  await expect(main.getByRole('tab', { name: 'Calls' })).toHaveAttribute('aria-selected', 'true');
  bridge.push('push:navigate', { view: 'log', callId: missed.id });
  await expect(main.getByRole('tab', { name: /^Log/ })).toHaveAttribute('aria-selected', 'true');
  const details = main.getByRole('complementary');
  await expect(details.getByRole('heading', { level: 2 })).toHaveText('+44 20 7946 0958');
  await expect(details.locator('dd').nth(1)).toHaveText('Missed');
  // Keyboard: Esc closes the details; arrow keys move between rows.
  await details.press('Escape');
  await expect(details).toHaveCount(0);
  const rows = main.locator('.log-scroll .call-row:not(.placeholder)');
  await rows.first().focus();
  await main.keyboard.press('ArrowDown');
  await expect(rows.nth(1)).toBeFocused();
  await main.keyboard.press('Enter');
  await expect(main.getByRole('complementary').getByRole('heading', { level: 2 })).toHaveText('+44 20 7946 0958');
});
