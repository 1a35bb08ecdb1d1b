// Issue #20 item 4: the first run asks for the one field that matters first, in words an agent knows,
// then offers the test call; the country is chosen from a list and a bad value is refused in place.
import { expect, openView, test } from './fixtures';
import { shotThemes } from './support/shots';

test.use({ bridgeOptions: { settings: { extension: '' } }, viewport: { width: 1366, height: 768 } });

test('first run: the extension first, then the test call; countries from a list', async ({ bridge, context }) => {
  const main = await openView(context, bridge, 'main');
  const banner = main.locator('.notice-banner');
  await expect(banner).toContainText('desk phone');
  await expect(banner).not.toContainText('--extension');
  await banner.getByRole('button', { name: 'Open Settings' }).click();
  // The extension is asked first, with the focus on it; no test call before it is set.
  const ext = main.getByRole('textbox', { name: 'Your extension' });
  await expect(ext).toBeFocused();
  await expect(main.getByRole('button', { name: 'Send test call' })).toHaveCount(0);
  const firstRun = main.getByRole('group', { name: /^Welcome/ });
  await expect(firstRun).toBeVisible();
  expect((await firstRun.boundingBox())!.y).toBeLessThan(200);
  await shotThemes(main, 'shift-first-run', (theme) => bridge.updateSettings({ theme }));
  await ext.fill('12a');
  await expect(firstRun.locator('.field-error')).toBeVisible();
  await ext.fill('117');
  await expect.poll(() => bridge.settingsService.settings.extension).toBe('117');
  await firstRun.getByRole('button', { name: 'Send test call' }).click();
  await expect(main.getByRole('status').filter({ hasText: /^Test call sent/ })).toBeVisible();
  await shotThemes(main, 'shift-first-run-done', (theme) => bridge.updateSettings({ theme }));

  // The country: a list of countries by name; "UK" (not an ISO code) is refused.
  const country = main.getByRole('combobox', { name: 'Default country' });
  await country.selectOption('GB');
  await expect.poll(() => bridge.settingsService.settings.defaultCountry).toBe('GB');
  await expect(country.locator('option[value="GB"]')).toHaveText('United Kingdom (GB)');
  expect(bridge.settingsService.update({ defaultCountry: 'UK' }).ok).toBe(false);
  expect(bridge.settingsService.settings.defaultCountry).toBe('GB');
});
