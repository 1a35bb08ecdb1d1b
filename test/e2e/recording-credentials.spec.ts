// Recording credentials from Settings → Recordings, end to end: a PBX that protects recordings with
// Basic authentication refuses the download with the clear 401 message until the credentials are
// saved; then the real downloader sends them and the file arrives. The password is never read back.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, openView, test } from './fixtures';
import { incomingCall, play } from './support/flows';
import { startFakePbx } from './support/pbx';

test.use({ bridgeOptions: { settings: { extension: '117', popup: { autoCloseSec: 0 } } } });

test('a recording behind Basic auth downloads once the credentials are saved; clear forgets them', async ({ bridge, context }) => {
  const basic = { username: 'recorder', password: 'pä55 wörd' };
  const pbx = await startFakePbx(200_000, 4, 10, { basic });
  try {
    // The fake PBX speaks plain http: credentials go there only because the admin allowed it
    // (recordingAllowHttpCredentials; over https they need no such setting).
    await bridge.updateSettings({ pbxHost: pbx.host, recordingAllowHttpCredentials: true });
    const popup = await openView(context, bridge, 'popup');
    const main = await openView(context, bridge, 'main');
    const { id, requests } = incomingCall({ number: '05551239988', extension: '117', result: 'answered', recordings: [pbx.url('locked.mp3')] });
    await play(bridge.webhookUrl, requests);
    const card = popup.locator(`article.card[data-call-id="${id}"]`);

    // No credentials yet: the PBX says 401 and the card says what to do.
    await card.getByRole('button', { name: 'Download recording locked.mp3' }).click();
    await expect(card.getByRole('alert')).toContainText('wants a user name and password for recordings');
    expect(pbx.authorizations).toEqual(['']);
    expect((await readdir(bridge.downloadDir)).filter((f) => f.endsWith('.mp3'))).toEqual([]);

    // Save them in Settings → Recordings.
    await main.getByRole('tab', { name: 'Settings' }).click();
    const group = main.getByRole('group', { name: 'Recording credentials' });
    const user = group.getByLabel('User name');
    const pass = group.getByLabel('Password');
    await expect(user).toHaveValue('');
    await expect(group.getByRole('button', { name: 'Save credentials' })).toBeDisabled();
    await user.fill(basic.username);
    await pass.fill(basic.password);
    await group.getByRole('button', { name: 'Save credentials' }).click();
    await expect(group.getByRole('status')).toHaveText('Recording credentials saved.');
    await expect(group.getByText('Password saved')).toBeVisible();
    // Never read back: the field is empty and only says a password is saved.
    await expect(pass).toHaveValue('');
    await expect(pass).toHaveAttribute('placeholder', 'Saved (leave empty to keep)');
    expect(bridge.credentials.value).toEqual(basic);

    // Retry from the popup: the downloader sends Basic credentials and the file arrives intact.
    await card.getByRole('button', { name: 'Try again to download locked.mp3' }).click();
    await expect(card.getByText('Downloaded')).toBeVisible();
    expect(pbx.authorizations.at(-1)).toBe(`Basic ${Buffer.from(`${basic.username}:${basic.password}`, 'utf8').toString('base64')}`);
    const files = (await readdir(bridge.downloadDir)).filter((f) => f.endsWith('.mp3'));
    expect(files).toHaveLength(1);
    expect((await readFile(join(bridge.downloadDir, files[0]!))).equals(pbx.body)).toBe(true);

    // A new user name keeps the saved password.
    await user.fill('recorder2');
    await group.getByRole('button', { name: 'Save credentials' }).click();
    await expect.poll(() => bridge.credentials.value).toEqual({ username: 'recorder2', password: basic.password });

    // Clear: forgotten, the fields are empty again.
    await group.getByRole('button', { name: 'Clear credentials' }).click();
    await expect(group.getByRole('status')).toHaveText('Recording credentials cleared.');
    await expect(user).toHaveValue('');
    await expect(group.getByText('Password saved')).toHaveCount(0);
    expect(bridge.credentials.value).toBeNull();

    // A reload shows what is saved, not what was typed.
    await main.reload();
    await main.getByRole('tab', { name: 'Settings' }).click();
    await expect(main.getByRole('group', { name: 'Recording credentials' }).getByLabel('User name')).toHaveValue('');
  } finally {
    await pbx.close();
  }
});

test.describe('without secure storage', () => {
  test.use({ bridgeOptions: { settings: { extension: '117' }, credentialsAvailable: false } });

  test('the fields are disabled with the reason', async ({ bridge, context }) => {
    const main = await openView(context, bridge, 'main');
    await main.getByRole('tab', { name: 'Settings' }).click();
    const group = main.getByRole('group', { name: 'Recording credentials' });
    await expect(group).toContainText('no secure password storage');
    await expect(group.getByLabel('User name')).toBeDisabled();
    await expect(group.getByLabel('Password')).toBeDisabled();
    await expect(group.getByRole('button', { name: 'Save credentials' })).toBeDisabled();
    expect(bridge.credentials.value).toBeNull();
  });
});
