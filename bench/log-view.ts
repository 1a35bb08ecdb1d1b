// log-view-first-paint: ms from clicking the Log tab to the first rows painted, with 100k calls in the log.
// log-view-filter: ms from changing a filter (Result / Direction select) to the list showing the new result.
// log-view-search: the same for typing in the search box, including its 150 ms debounce (informational).
// The built renderer runs in Chromium against the real core (e2e bridge); the 100k calls are written
// straight through the call-log store API into a temp data dir first. Times are measured in the page.
// Targets: first paint <= 300 ms, filter <= 50 ms.
//   node --import tsx bench/log-view.ts
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import type { CallRecord } from '../shared/call-record';
import { openCallLogStore } from '../main/core/call-log/store';
import { callLogDir } from '../main/core/config/paths';
import { Bridge } from '../test/e2e/bridge/bridge';
import { ensureRendererBuilt } from '../test/e2e/support/build-renderer';

const CALLS = 100_000;
const RUNS = 7;

/** Deterministic pseudo-random calls over the last year, newest first by startedAt. */
function makeCalls(n: number, now: number): CallRecord[] {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const out: CallRecord[] = [];
  for (let i = 0; i < n; i++) {
    const started = now - Math.floor((i / n) * 365 * 86_400_000) - Math.floor(rnd() * 60_000);
    const incoming = rnd() < 0.7;
    const r = rnd();
    const result = r < 0.2 ? 'missed' : r < 0.3 && incoming ? 'answered-elsewhere' : 'answered';
    const answered = result === 'answered';
    const dur = answered ? Math.floor(rnd() * 600) : null;
    const number = rnd() < 0.5 ? `0555${String(Math.floor(rnd() * 1e7)).padStart(7, '0')}` : `+90212${String(Math.floor(rnd() * 1e7)).padStart(7, '0')}`;
    out.push({
      id: `${String(100000000000 + i)}_${i % 100}`,
      direction: incoming ? 'incoming' : 'outgoing',
      status: 'ended',
      result,
      number,
      extension: '117',
      queue: incoming && rnd() < 0.5 ? '820' : null,
      did: null,
      startedAt: new Date(started).toISOString(),
      answeredAt: answered ? new Date(started + 5000).toISOString() : null,
      endedAt: new Date(started + 5000 + (dur ?? 0) * 1000).toISOString(),
      durationSec: dur,
      transferType: null,
      transferredTo: null,
      transferredFrom: null,
      answeredBy: result === 'answered-elsewhere' ? '204' : null,
      recordings: [],
      seen: true,
    } as CallRecord);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Click the Log tab; resolves with ms until the first real row is in the DOM and a frame has run. */
function firstPaint(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((done) => {
        const tab = [...document.querySelectorAll<HTMLButtonElement>('[role=tab]')].find((b) => b.textContent?.startsWith('Log'))!;
        const found = () => document.querySelector('.log-scroll .call-row:not(.placeholder)');
        const t0 = Date.now();
        const obs = new MutationObserver(() => {
          if (!found()) return;
          obs.disconnect();
          requestAnimationFrame(() => done(Date.now() - t0));
        });
        obs.observe(document.body, { childList: true, subtree: true });
        tab.click();
      }),
  );
}

/** Change a control; resolves with ms until the new count shows with rows under it. */
function timeChange(page: Page, selector: string, value: string, kind: 'select' | 'input'): Promise<number> {
  return page.evaluate(
    ({ selector, value, kind }) =>
      new Promise<number>((done) => {
        const el = document.querySelector<HTMLInputElement | HTMLSelectElement>(selector)!;
        const total = document.querySelector('.log-toolbar .total')!;
        const hasRow = () => document.querySelector('.log-scroll .call-row:not(.placeholder)') !== null;
        const before = total.textContent;
        // Every step alternates between "all" and a filter, so the count always changes.
        const obs = new MutationObserver(() => {
          if (total.textContent === before || !hasRow()) return;
          obs.disconnect();
          requestAnimationFrame(() => done(Date.now() - t0));
        });
        obs.observe(document.querySelector('.log-view')!, { childList: true, subtree: true, characterData: true });
        const proto = kind === 'select' ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
        const t0 = Date.now();
        Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, value);
        el.dispatchEvent(new Event(kind === 'select' ? 'change' : 'input', { bubbles: true }));
      }),
    { selector, value, kind },
  );
}

export async function main(): Promise<void> {
  await ensureRendererBuilt();
  const now = Date.now();
  const bridge = await Bridge.start({
    settings: { extension: '117', defaultCountry: 'TR' },
    prepareDataDir: async (dataDir) => {
      const store = await openCallLogStore(callLogDir(dataDir), { defaultCountry: 'TR' });
      const calls = makeCalls(CALLS, now);
      for (let i = 0; i < calls.length; i += 5000) await store.put(calls.slice(i, i + 5000));
      await store.close();
    },
  });
  const executablePath = process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  const browser = await chromium.launch({
    ...(executablePath ? { executablePath } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    await context.route((u) => u.hostname !== '127.0.0.1', (r) => r.abort());
    const page = await context.newPage();
    await page.addInitScript(bridge.initScript);
    // tsx compiles this file with esbuild's keepNames: functions passed to page.evaluate call __name().
    await page.addInitScript('globalThis.__name ??= (f) => f;');
    await page.goto(bridge.url('index.html'));
    await page.getByRole('heading', { name: /^Today/ }).waitFor();

    const paints: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await page.getByRole('tab', { name: 'Calls' }).click();
      await page.getByRole('heading', { name: /^Today/ }).waitFor();
      paints.push(await firstPaint(page));
    }
    const total = await page.locator('.log-toolbar .total').textContent();
    if (total !== `${CALLS.toLocaleString('en-US')} calls`) throw new Error(`the log shows "${total}", expected ${CALLS} calls`);

    // Scroll deep once (pages fetched on demand) so filters run on a warmed-up list.
    await page.locator('.log-scroll').evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
    await page.locator('.log-scroll .call-row:not(.placeholder)').first().waitFor();

    const filters: number[] = [];
    const steps: [string, string][] = [
      ['.filters label:nth-of-type(3) select', 'missed'],
      ['.filters label:nth-of-type(3) select', ''],
      ['.filters label:nth-of-type(2) select', 'outgoing'],
      ['.filters label:nth-of-type(2) select', ''],
      ['.filters label:nth-of-type(3) select', 'answered-elsewhere'],
      ['.filters label:nth-of-type(3) select', ''],
      ['.filters label:nth-of-type(3) select', 'answered'],
      ['.filters label:nth-of-type(3) select', ''],
    ];
    for (let round = 0; round < 2; round++)
      for (const [sel, v] of steps) {
        if (process.env.BENCH_DEBUG) console.error(`# filter ${sel} = ${v}`);
        filters.push(await timeChange(page, sel, v, 'select'));
      }

    const searches: number[] = [];
    for (const q of ['0555 12', '', '+90 212 3', '']) searches.push(await timeChange(page, '.filters input[type=search]', q, 'input'));

    console.error(`# log-view: ${CALLS} calls; first paint runs ${paints.join(', ')} ms; filter runs ${filters.join(', ')} ms; search runs ${searches.join(', ')} ms`);
    console.log(`log-view-first-paint: ${median(paints)} ms`);
    console.log(`log-view-filter: ${median(filters)} ms`);
    console.log(`log-view-search: ${median(searches)} ms`);
  } finally {
    await browser.close();
    await bridge.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`bench/log-view: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  });
}
