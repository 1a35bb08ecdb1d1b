// The call source starts (here: its listener binds) before the core backend has attached to it; a call
// that comes in meanwhile is held for the first listener, not only written to the call log.
import { afterEach, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSettings } from '../../shared/settings';
import type { CallUpdate } from '../../shared/call-record';
import { CallSource } from '../../main/core/desktop/call-source';
import { sendWebhook } from '../../main/core/listener/test-call';

let dir = '';
let source: CallSource | null = null;
afterEach(async () => {
  await source?.close();
  source = null;
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('holds the updates that come before the first listener and hands them to it', async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-source-startup-'));
  const settings = { ...defaultSettings(), extension: '117', listenHost: '127.0.0.1', listenPort: 0, webhookSecret: 'sourcestartup_0123456789ab' };
  source = await CallSource.start({ dataDir: dir, settings, hubPassword: null });
  const url = source.service!.status().urls[0]!;
  const ring = { Event: 'ringing', Callerid: '05551230001', User: '117', Usertype: 'ext', Did: '', Id: '261201120000_7-0' };
  expect((await sendWebhook(url, { method: 'POST', query: '', body: JSON.stringify(ring), contentType: 'application/json' })).status).toBe(200);

  const seen: CallUpdate[] = [];
  source.onUpdates((u) => seen.push(...u));
  expect(seen.map((u) => [u.change, u.record.id])).toEqual([['ringing', '261201120000_7']]);
  // From then on, straight through.
  const end = { Event: 'incoming', Callerid: '05551230001', User: '117', Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: '261201120000_7-0' };
  expect((await sendWebhook(url, { method: 'POST', query: '', body: JSON.stringify(end), contentType: 'application/json' })).status).toBe(200);
  expect(seen.map((u) => u.change)).toEqual(['ringing', 'missed']);
});
