// Playwright fixtures: a fresh bridge (temp data dir, real core, real listener) per test, pages opened
// on the built renderer with window.callpop injected, and every non-loopback request aborted.
import { test as base, expect } from '@playwright/test';
import type { BrowserContext, Page } from '@playwright/test';
import type { RawWebhook } from '../../shared/webhook/event';
import { Bridge } from './bridge/bridge';
import type { BridgeOptions } from './bridge/bridge';

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function blockNonLoopback(context: BrowserContext): Promise<void> {
  await context.route(
    (url) => !(url.protocol === 'data:' || url.protocol === 'blob:' || loopback.has(url.hostname)),
    (route) => route.abort('blockedbyclient'),
  );
}

export async function openView(context: BrowserContext, bridge: Bridge, view: 'popup' | 'main'): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.addInitScript(bridge.initScript);
  await page.goto(bridge.url(view === 'popup' ? 'popup.html' : 'index.html'));
  return page;
}

/** POST (or GET) one webhook to the real listener, as the PBX would. */
export async function sendWebhook(url: string, raw: RawWebhook): Promise<number> {
  const target = raw.method === 'GET' ? `${url}${raw.query ? `?${raw.query}` : ''}` : url;
  const res = await fetch(target, {
    method: raw.method,
    body: raw.method === 'POST' ? raw.body : undefined,
    headers: raw.method === 'POST' ? { 'content-type': raw.contentType ?? 'application/json' } : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}

export const test = base.extend<{ bridgeOptions: BridgeOptions; bridge: Bridge }>({
  bridgeOptions: [{}, { option: true }],
  bridge: async ({ bridgeOptions, context }, use) => {
    await blockNonLoopback(context);
    const bridge = await Bridge.start(bridgeOptions);
    await use(bridge);
    await context.close();
    await bridge.close();
  },
});

export { expect };
