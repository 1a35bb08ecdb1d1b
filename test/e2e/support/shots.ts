import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Locator, Page } from '@playwright/test';

export const artifactsDir = resolve('test/artifacts');

/** Save a screenshot under test/artifacts/ (kept for people to look at; not asserted on). */
export async function shot(target: Page | Locator, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true });
  await target.screenshot({ path: resolve(artifactsDir, `${name}.png`), animations: 'disabled' });
}
