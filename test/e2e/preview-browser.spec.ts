// `npm run preview:browser`: the real script as a child process, the pages opened in Chromium WITHOUT
// the test's init script (as a plain browser would), a ring through the real listener pops on the page.
import { spawn, type ChildProcess } from 'node:child_process';
import { blockNonLoopback } from './fixtures';
import { expect, test } from '@playwright/test';
import { play, post, stamp } from './support/flows';

interface PreviewUrls {
  ui: string;
  popup: string;
  webhook: string;
}

function startPreview(): { child: ChildProcess; lines: Promise<PreviewUrls> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/preview-browser.ts', '--no-open', '--extension', '204'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
  const lines = new Promise<PreviewUrls>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl+C')) {
        const get = (label: string) => out.match(new RegExp(`${label}:\\s+(\\S+)`))?.[1] ?? '';
        resolve({ ui: get('Callpop UI'), popup: get('Popup page'), webhook: get('Webhook URL') });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`preview:browser exited ${code}: ${out}`)));
  });
  return { child, lines };
}

test('preview:browser serves the real UI to a plain browser, wired to the real core', async ({ context }) => {
  test.setTimeout(120_000);
  const { child, lines } = startPreview();
  try {
    const urls = await lines;
    expect(urls.ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/index\.html$/);
    await blockNonLoopback(context);
    const main = await context.newPage();
    await main.goto(urls.ui);
    await main.getByRole('tab', { name: 'Settings' }).click();
    await expect(main.getByLabel('Your extension')).toHaveValue('204');
    const popup = await context.newPage();
    await popup.goto(urls.popup);
    const id = `${stamp()}_77`;
    await play(urls.webhook, [post({ Event: 'ringing', Callerid: '02125550123', User: '204', Usertype: 'ext', Did: '', Id: `${id}-0` })]);
    await expect(popup.locator(`article.card[data-call-id="${id}"]`)).toBeVisible();
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  expect(child.exitCode).toBe(0);
});
