import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Locator, Page } from '@playwright/test';

export const artifactsDir = resolve('test/artifacts');

/** Save a screenshot under test/artifacts/ (kept for people to look at; not asserted on). */
export async function shot(target: Page | Locator, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true });
  await target.screenshot({ path: resolve(artifactsDir, `${name}.png`), animations: 'disabled' });
}

/**
 * The same state in the light and the dark theme (`<name>-light.png`, `<name>-dark.png`): switches the
 * theme with `setTheme` (the settings, as the agent would) and waits until the page shows it.
 */
export async function shotThemes(page: Page, name: string, setTheme: (theme: 'light' | 'dark') => Promise<void>, target: Page | Locator = page): Promise<void> {
  for (const theme of ['light', 'dark'] as const) {
    await setTheme(theme);
    await page.locator(`html[data-theme="${theme}"]`).waitFor();
    await shot(target, `${name}-${theme}`);
  }
  await setTheme('light');
}
