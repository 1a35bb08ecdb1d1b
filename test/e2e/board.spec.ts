// The supervisors' board in real Chromium against a REAL hub (embedded broker, board port on loopback):
// logins refused in words (no supervisor role, wrong password), then a supervisor sees, as they happen,
// a ringing agent, a caller waiting in a queue and a claimed callback. Screenshots (light, dark, wall
// display at 1280×720 and 3840×2160) go to test/artifacts/board-*.png.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import mqtt, { type MqttClient } from 'mqtt';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../main/core/hub/hub';
import { setQueue } from '../../main/core/hub/team/queues';
import { sendWebhook } from '../../main/core/listener/test-call';
import { callbacksMessageSchema, teamTopics } from '../../shared/team-protocol';
import { agentClientId } from '../../shared/hub-protocol';
import type { RawWebhook } from '../../shared/webhook/event';
import { queueCall } from '../support/team-calls';
import { blockNonLoopback } from './fixtures';
import { boardDir, ensureBoardBuilt } from './support/build-board';

const artifacts = join(process.cwd(), 'test', 'artifacts');
let dir = '';
let hub: Hub;
const passwords: Record<string, string> = {};
const clients: MqttClient[] = [];

test.beforeAll(async () => {
  await ensureBoardBuilt();
  await mkdir(artifacts, { recursive: true });
});
test.beforeEach(async ({ context }) => {
  await blockNonLoopback(context);
  dir = await mkdtemp(join(tmpdir(), 'callpop-board-'));
  for (const [name, ext, displayName, role] of [
    ['sue', null, 'Sue Park', 'supervisor'],
    ['anna', '117', 'Anna Kaya', 'agent'],
    ['bob', '204', 'Bob Stone', 'agent'],
    ['carl', '300', 'Carl Diaz', 'agent'],
    ['dina', '118', 'Dina Roy', 'agent'],
  ] as const) {
    passwords[name] = (await addAgent(dir, { name, extensions: ext ? [ext] : [], displayName, role })).password;
  }
  await setQueue(dir, { queue: '820', name: 'Sales', members: ['117', '204', '118'] });
  await setQueue(dir, { queue: '830', name: 'Support', members: ['300'] });
  hub = await startHub({ dataDir: dir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, board: { port: 0, host: '127.0.0.1' }, boardMs: 100, tickMs: 60_000 });
});
test.afterEach(async ({ context }) => {
  await context.close();
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

async function send(raws: RawWebhook[]): Promise<void> {
  for (const raw of raws) expect((await sendWebhook(hub.webhookUrl, raw)).status).toBe(200);
}

/** An agent's desktop on the hub (so the board shows it online), subscribed to its callbacks. */
async function desk(name: string, ext: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(hub.brokerUrl, { username: name, password: passwords[name], clientId: agentClientId(name, `desk${name}`), reconnectPeriod: 0, protocolVersion: 4 });
  clients.push(c);
  await c.subscribeAsync([teamTopics.callbacks('default', ext), `callpop/v1/default/ext/${ext}/callbacks/res/+`], { qos: 1 });
  return c;
}

async function login(page: Page, name: string, password: string): Promise<void> {
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

test('refuses an agent without the role and a wrong password in words; a supervisor sees ringing, waiting and a claimed callback live', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.emulateMedia({ colorScheme: 'light' });
  page.on('pageerror', (e) => console.error(`[board page error] ${e.message}`));
  await page.goto(hub.boardUrl!);
  expect(hub.boardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

  // The name field has the focus; Enter submits.
  await expect(page.getByLabel('Name')).toBeFocused();
  await login(page, 'carl', passwords.carl!);
  await expect(page.getByRole('alert')).toHaveText(/^carl is not a supervisor, so the board stays closed\./);
  await login(page, 'sue', 'not-sues-password');
  await expect(page.getByRole('alert')).toHaveText('Wrong name or password.');
  await page.getByLabel('Password').fill(passwords.sue!);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Team board' })).toBeVisible();
  const agents = page.getByRole('region', { name: /^Agents/ });
  await expect(agents.getByRole('listitem')).toHaveCount(4);
  await expect(agents.getByRole('listitem', { name: 'Anna Kaya, extension 117: Offline' })).toBeVisible();

  // Desktops connect: free. A queue call rings Anna, Bob and Dina: ringing, and one caller waiting in Sales.
  const anna = await desk('anna', '117');
  await desk('bob', '204');
  await desk('dina', '118');
  await expect(agents.getByRole('listitem', { name: 'Anna Kaya, extension 117: Free' })).toBeVisible();
  const call = queueCall('261207120000_1', '+90 555 123 99 88', '820', ['117', '204', '118']);
  await send(call.ring);
  await expect(agents.getByRole('listitem', { name: 'Anna Kaya, extension 117: Ringing with +90 555 123 99 88' })).toBeVisible();
  const queues = page.getByRole('region', { name: /^Queues/ });
  await expect(queues).toContainText('1 caller waiting');
  await expect(queues.getByRole('list', { name: 'Callers waiting in Sales' })).toContainText('+90 555 123 99 88');
  // Another call: Bob talks with someone else (a direct call), so the grid shows every state.
  const direct = queueCall('261207120100_2', '02125550101', null, ['204']);
  await send([...direct.ring, ...direct.answer('204')]);
  await expect(agents.getByRole('listitem', { name: 'Bob Stone, extension 204: Talking with 02125550101' })).toBeVisible();
  // The timers count live (written by the page every second, not by board messages): past 0:00
  // without another message. Not one exact second: a loaded machine may skip a tick's text (0:00 → 0:02).
  const bobTimer = agents.getByRole('listitem', { name: /^Bob Stone/ }).locator('.timer');
  await expect(bobTimer).toHaveText(/^0:(0[1-9]|[1-5]\d)$/);
  await page.screenshot({ path: join(artifacts, 'board-light.png') });

  // Missed; Anna claims it from her desktop: the board says she is calling back.
  let itemId = '';
  anna.on('message', (topic, payload) => {
    if (topic === teamTopics.callbacks('default', '117')) itemId = callbacksMessageSchema.parse(JSON.parse(payload.toString())).items[0]?.id ?? itemId;
  });
  await send(call.missed);
  const callbacks = page.getByRole('region', { name: /^Callbacks/ });
  await expect(callbacks).toContainText('+90 555 123 99 88');
  await expect(callbacks).toContainText('Waiting for a call back');
  await expect.poll(() => itemId).not.toBe('');
  await anna.publishAsync(teamTopics.callbacksRequest('default', '117'), JSON.stringify({ v: 1, clientId: agentClientId('anna', 'deskanna'), requestId: 'r1', id: itemId, action: 'claim' }), { qos: 1 });
  await expect(callbacks).toContainText(/Anna Kaya is calling back since \d\d:\d\d/);
  await expect(queues).toContainText('0 callers waiting');
  await expect(page.getByRole('region', { name: 'Today' })).toContainText('Abandoned');

  // Dark (the theme button cycles system → light → dark), keyboard only.
  const themeButton = page.getByRole('button', { name: /^Theme: system/ });
  await themeButton.focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.screenshot({ path: join(artifacts, 'board-dark.png') });

  // Wall display: no controls, large type; readable at 1280×720 and on a 3840×2160 wall.
  await page.getByRole('button', { name: 'Wall display' }).click();
  await expect(page.getByRole('button', { name: 'Log out' })).toBeHidden();
  await page.screenshot({ path: join(artifacts, 'board-wall-1280.png') });
  await page.setViewportSize({ width: 3840, height: 2160 });
  await page.screenshot({ path: join(artifacts, 'board-wall.png') });
  await page.keyboard.press('Escape');
  await expect(page.getByRole('button', { name: 'Log out' })).toBeVisible();
});

test('the board port serves only the page: no path outside it, MQTT only at /mqtt', async ({ request }) => {
  const base = hub.boardUrl!;
  expect((await request.get(base)).status()).toBe(200);
  expect((await request.get(`${base}board-config.json`)).ok()).toBe(true);
  expect(await (await request.get(`${base}board-config.json`)).json()).toEqual({ site: 'default' });
  expect((await request.get(`${base}..%2f..%2fpackage.json`)).status()).toBe(404);
  expect((await request.get(`${base}mqtt`)).status()).toBe(426);
  expect((await request.post(base)).status()).toBe(405);
  expect(boardDir).toMatch(/out[/\\]board$/);
});
