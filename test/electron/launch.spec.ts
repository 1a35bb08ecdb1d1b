// The real desktop app under Playwright's Electron driver: a ringing webhook for the app's extension,
// posted to its listener, pops the popup window with the caller. Runs wherever the Electron binary is
// installed; where it is not (our CI machines), it is skipped with the reason. Loading this file never
// requires the `electron` package (from Electron 42 that would start a binary download).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, expect, test } from '@playwright/test';
import type { ElectronApplication, Page } from '@playwright/test';
import { sendWebhook } from '../../main/core/listener/test-call';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** The Electron executable as node_modules/electron/index.js would find it, without running it. */
function electronBinary(): { path: string } | { reason: string } {
  const pkg = join(root, 'node_modules', 'electron');
  const pathTxt = join(pkg, 'path.txt');
  if (!existsSync(pathTxt)) return { reason: 'node_modules/electron/path.txt is missing (the binary was never downloaded)' };
  const rel = readFileSync(pathTxt, 'utf8').trim();
  const exe = process.env.ELECTRON_OVERRIDE_DIST_PATH ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel) : join(pkg, 'dist', rel);
  return existsSync(exe) ? { path: exe } : { reason: `${exe} does not exist` };
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

async function popupPage(app: ElectronApplication): Promise<Page> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = app.windows().find((w) => w.url().endsWith('/popup.html'));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no popup window; windows: ${app.windows().map((w) => w.url()).join(', ')}`);
    await app.waitForEvent('window', { timeout: 2_000 }).catch(() => undefined);
  }
}

test('a ringing webhook for our extension pops the popup window with the caller', async () => {
  const bin = electronBinary();
  test.skip('reason' in bin, `Electron binary not installed: ${'reason' in bin ? bin.reason : ''}`);
  if ('reason' in bin) return;
  expect(existsSync(join(root, 'out', 'main', 'index.js')), 'run `npm run build` first').toBe(true);

  const userData = await mkdtemp(join(tmpdir(), 'callpop-electron-'));
  const port = await freePort();
  const secret = 'launchspecsecret_0123456789';
  // The user's settings as electron-store keeps them (sparse, top level).
  await writeFile(join(userData, 'settings.json'), JSON.stringify({ extension: '117', listenHost: '127.0.0.1', listenPort: port, webhookSecret: secret, popup: { autoCloseSec: 0 } }));
  const env = { ...process.env, CALLPOP_USER_DATA_DIR: userData, CALLPOP_CONFIG: join(userData, 'no-policy.json') } as Record<string, string>;
  const app = await _electron.launch({ executablePath: bin.path, args: [root, '--hidden'], env, timeout: 30_000 });
  try {
    const popup = await popupPage(app);
    const url = `http://127.0.0.1:${port}/webhook/${secret}`;
    const id = `${Date.now() % 1e12}`.padStart(12, '0') + '_77-0';
    const ringing = { method: 'POST' as const, query: '', contentType: 'application/json', body: JSON.stringify({ Event: 'ringing', Callerid: '+12125550123', User: '117', Usertype: 'ext', Did: '', Id: id }) };
    // The core starts in its utility process; retry until its listener accepts the webhook.
    await expect.poll(async () => (await sendWebhook(url, ringing).catch(() => ({ status: 0 }))).status, { timeout: 20_000 }).toBe(200);

    const card = popup.locator(`article.card[data-call-id="${id}"]`);
    await expect(card).toBeVisible();
    await expect.poll(async () => (await card.innerText()).replace(/\D+/g, '')).toContain('2125550123');
    const visible = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().filter((w) => w.isVisible()).map((w) => w.webContents.getURL()));
    expect(visible).toContain('app://callpop/popup.html');
  } finally {
    await app.close().catch(() => undefined);
    await rm(userData, { recursive: true, force: true });
  }
});
