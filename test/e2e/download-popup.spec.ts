// One-click recording download from the popup card, against a local HTTP server acting as the PBX.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';
import { startFakePbx } from './support/pbx';

test.use({ bridgeOptions: { settings: { extension: '117', popup: { autoCloseSec: 0 } } } });

test('popup: the announced recording downloads with progress into the download folder', async ({ bridge, context }) => {
  const pbx = await startFakePbx();
  try {
    await bridge.updateSettings({ pbxHost: pbx.host });
    const popup = await openView(context, bridge, 'popup');
    const { id, requests } = incomingCall({ number: '05551239988', extension: '117', result: 'answered', recordings: [pbx.url('pop.mp3')] });
    await play(bridge.webhookUrl, requests);
    const card = popup.locator(`article.card[data-call-id="${id}"]`);
    await card.getByRole('button', { name: 'Download recording pop.mp3' }).click();
    await expect(card.getByRole('progressbar', { name: 'Downloading pop.mp3' })).toBeVisible();
    await expect(card.getByText('Downloaded')).toBeVisible();
    const files = await readdir(bridge.downloadDir);
    expect(files).toHaveLength(1);
    expect((await readFile(join(bridge.downloadDir, files[0]!))).equals(pbx.body)).toBe(true);
  } finally {
    await pbx.close();
  }
});

test('a recording on another host is refused with a clear message and nothing is fetched', async ({ bridge, context }) => {
  const pbx = await startFakePbx();
  try {
    await bridge.updateSettings({ pbxHost: 'pbx.example.com' });
    const popup = await openView(context, bridge, 'popup');
    const { id, requests } = incomingCall({ number: '05551239988', extension: '117', result: 'answered', recordings: [pbx.url('evil.mp3')] });
    await play(bridge.webhookUrl, requests);
    const card = popup.locator(`article.card[data-call-id="${id}"]`);
    await card.getByRole('button', { name: 'Download recording evil.mp3' }).click();
    await expect(card.getByRole('alert')).toContainText('not on your phone system (pbx.example.com)');
    expect(pbx.requests).toEqual([]);
    expect(await readdir(bridge.downloadDir)).toEqual([]);
  } finally {
    await pbx.close();
  }
});

test('cancel leaves no file behind; download again completes', async ({ bridge, context }) => {
  const pbx = await startFakePbx(1_200_000, 60, 100); // ~6 s: time to cancel
  try {
    await bridge.updateSettings({ pbxHost: pbx.host });
    const popup = await openView(context, bridge, 'popup');
    const { id, requests } = incomingCall({ number: '05551239988', extension: '117', result: 'answered', recordings: [pbx.url('slow.mp3')] });
    await play(bridge.webhookUrl, requests);
    const card = popup.locator(`article.card[data-call-id="${id}"]`);
    await card.getByRole('button', { name: 'Download recording slow.mp3' }).click();
    await expect(card.getByRole('progressbar', { name: 'Downloading slow.mp3' })).toBeVisible();
    await card.getByRole('button', { name: 'Cancel' }).click();
    await expect(card.getByText('Canceled')).toBeVisible();
    await expect.poll(async () => (await readdir(bridge.downloadDir)).filter((f) => f.endsWith('.mp3'))).toEqual([]);
    await card.getByRole('button', { name: 'Download recording slow.mp3' }).click();
    await expect(card.getByText('Downloaded')).toBeVisible({ timeout: 20_000 });
    const files = (await readdir(bridge.downloadDir)).filter((f) => !f.startsWith('.'));
    expect(files).toHaveLength(1);
    expect((await readFile(join(bridge.downloadDir, files[0]!))).equals(pbx.body)).toBe(true);
  } finally {
    await pbx.close();
  }
});
