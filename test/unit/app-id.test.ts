// electron-builder.yml's appId must equal the id main passes to app.setAppUserModelId (Windows
// toasts and taskbar grouping break when they differ), and the product names must agree.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ID, PRODUCT_NAME } from '../../shared/app-id';

const root = path.resolve(import.meta.dirname, '../..');
// js-yaml comes with electron-builder (no types of its own here).
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
const config = yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;

describe('application id', () => {
  it('electron-builder.yml appId equals APP_ID', () => {
    expect(config.appId).toBe(APP_ID);
  });

  it('productName agrees across electron-builder.yml, package.json and the code', () => {
    expect(config.productName).toBe(PRODUCT_NAME);
    expect(pkg.productName).toBe(PRODUCT_NAME);
  });

  it('the MSI upgradeCode is a fixed GUID', () => {
    const msi = config.msi as Record<string, unknown>;
    expect(String(msi.upgradeCode)).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/i);
  });

  it('the security fuses are set', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
    });
  });
});
