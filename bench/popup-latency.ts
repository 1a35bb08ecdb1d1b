// popup-latency-p50 / -p99: ms from just before a ringing webhook is POSTed to the real listener until
// its card is in the popup's DOM (built renderer in Chromium, window.callpop over the e2e bridge, the
// real core in this process). 200 calls for the own extension while a child process posts 1,000
// webhooks/s of other extensions' calls to the same listener. Both ends use Date.now() on this machine:
// the POST time here, the card time in the page (MutationObserver). Target p99 <= 50 ms.
//   node --import tsx bench/popup-latency.ts
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Bridge } from '../test/e2e/bridge/bridge';
import { ensureRendererBuilt } from '../test/e2e/support/build-renderer';

const CALLS = 200;
const NOISE_PER_SEC = 1000;
const NOISE_MAX_SEC = 300;
const self = fileURLToPath(import.meta.url);

function postJson(url: URL, body: string, agent: Agent): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end(body);
  });
}

/** Child process: other extensions' calls (ringing, then ended) at NOISE_PER_SEC, bounded in flight and in time. */
async function noise(target: string): Promise<void> {
  const url = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  let sent = 0;
  let inFlight = 0;
  let seq = 0;
  const started = Date.now();
  const tick = () => {
    const due = Math.floor(((Date.now() - started) / 1000) * NOISE_PER_SEC);
    while (sent < due && inFlight < 256) {
      const n = seq++;
      const call = Math.floor(n / 2);
      const id = `${String(100000000000 + call).slice(-12)}_${call % 100}-0`;
      const user = String(2000 + (call % 500));
      const body =
        n % 2 === 0
          ? JSON.stringify({ Event: 'ringing', Callerid: `0555${String(call).padStart(7, '0')}`, User: user, Usertype: 'ext', Did: '', Id: id })
          : JSON.stringify({ Event: 'incoming', Callerid: `0555${String(call).padStart(7, '0')}`, User: user, Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: id });
      sent++;
      inFlight++;
      postJson(url, body, agent)
        .catch(() => undefined)
        .finally(() => inFlight--);
    }
  };
  const timer = setInterval(tick, 5);
  const stop = () => {
    clearInterval(timer);
    process.send?.({ sent, seconds: (Date.now() - started) / 1000 });
    agent.destroy();
    setTimeout(() => process.exit(0), 50);
  };
  process.on('message', (m) => m === 'stop' && stop());
  process.on('disconnect', stop);
  setTimeout(stop, NOISE_MAX_SEC * 1000);
  process.send?.('started');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function main(): Promise<void> {
  await ensureRendererBuilt();
  const executablePath = process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  const bridge = await Bridge.start({ settings: { extension: '117', popup: { autoCloseSec: 1 } } });
  const browser = await chromium.launch({
    ...(executablePath ? { executablePath } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const child = fork(self, ['noise', bridge.webhookUrl], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const context = await browser.newContext({ viewport: { width: 380, height: 640 } });
    await context.route((u) => u.hostname !== '127.0.0.1', (r) => r.abort());
    const page = await context.newPage();
    await page.addInitScript(bridge.initScript);
    await page.goto(bridge.url('popup.html'));
    await page.waitForFunction(() => document.querySelector('main.popup') !== null);
    await page.evaluate(() => {
      const seen: Record<string, number> = {};
      (window as unknown as { __seen: Record<string, number> }).__seen = seen;
      new MutationObserver((records) => {
        const now = Date.now();
        for (const r of records)
          for (const n of r.addedNodes) {
            if (!(n instanceof HTMLElement)) continue;
            const cards = n.matches('article.card') ? [n] : [...n.querySelectorAll<HTMLElement>('article.card')];
            for (const c of cards) seen[c.dataset.callId ?? ''] ??= now;
          }
      }).observe(document.querySelector('main.popup')!, { childList: true, subtree: true });
    });
    await new Promise<void>((ok) => child.once('message', () => ok()));
    await new Promise((r) => setTimeout(r, 1000)); // let the noise reach its rate

    const url = new URL(bridge.webhookUrl);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const latencies: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const id = `${String(900000000000 + i)}_${i % 100}`;
      const ring = JSON.stringify({ Event: 'ringing', Callerid: `0212555${String(i).padStart(4, '0')}`, User: '117', Usertype: 'ext', Did: '', Id: `${id}-0` });
      const t0 = Date.now();
      const status = await postJson(url, ring, agent);
      if (status >= 300) throw new Error(`listener answered ${status}`);
      const shown = await page.waitForFunction((callId) => (window as unknown as { __seen: Record<string, number> }).__seen[callId], id, { timeout: 10_000, polling: 5 });
      latencies.push(((await shown.jsonValue()) as number) - t0);
      // End it so cards do not pile up (auto close after 1 s), then a short pause between calls.
      await postJson(url, JSON.stringify({ Event: 'incoming', Callerid: '0', User: '117', Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${id}-0` }), agent);
      await new Promise((r) => setTimeout(r, 20));
    }
    agent.destroy();
    const noiseStats = new Promise<{ sent: number; seconds: number }>((ok) => child.once('message', (m) => ok(m as { sent: number; seconds: number })));
    child.send('stop');
    const n = await noiseStats;
    latencies.sort((a, b) => a - b);
    console.error(`# popup-latency: ${CALLS} calls, noise ${Math.round(n.sent / n.seconds)} webhooks/s of other extensions, max ${latencies.at(-1)} ms`);
    console.log(`popup-latency-p50: ${percentile(latencies, 50)} ms`);
    console.log(`popup-latency-p99: ${percentile(latencies, 99)} ms`);
  } finally {
    if (child.connected) child.send('stop');
    child.kill();
    await browser.close();
    await bridge.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === self) {
  const [mode, target] = process.argv.slice(2);
  (mode === 'noise' ? noise(target!) : main()).catch((e: unknown) => {
    console.error(`bench/popup-latency: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  });
}
