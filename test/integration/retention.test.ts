// settings.retentionDays is kept by one implementation (main/core/call-log/retention.ts) for whoever
// owns a call log: the desktop core in listener mode (its CallSource owns the data folder's log; the
// hub mode is covered in desktop-hub.test.ts) and the listener service over a log it opened itself
// (`callpop serve`). Real call logs in temp folders, the real listener on 127.0.0.1:0.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSettings, type Settings } from '../../shared/settings';
import type { CallRecord } from '../../shared/call-record';
import { openCallLogStore } from '../../main/core/call-log/store';
import { callLogDir } from '../../main/core/config/paths';
import { createCoreBackend } from '../../main/core/desktop/create-core-backend';
import { WebhookReceiver } from '../../main/core/receiver/webhook-receiver';
import { callRecord } from '../support/call-records';

const day = 86_400_000;
let dir = '';
const closers: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-retention-'));
  const store = await openCallLogStore(callLogDir(dir));
  const ago = (days: number): string => new Date(Date.now() - days * day).toISOString();
  const old = (id: string, days: number): CallRecord => callRecord({ id, extension: '202', seen: true, startedAt: ago(days), endedAt: ago(days) });
  await store.put([old('261101000000_1', 30), old('261129000000_2', 2)]);
  await store.close();
});
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  await rm(dir, { recursive: true, force: true });
});

const settings = (more: Partial<Settings>): Settings => ({ ...defaultSettings(), extension: '202', listenHost: '127.0.0.1', listenPort: 0, webhookSecret: 'retentiontest_0123456789ab', ...more });

it('the desktop core in listener mode drops calls older than retentionDays at start, and again when the setting shrinks', async () => {
  const backend = await createCoreBackend({ dataDir: dir, defaultDownloadDir: dir, settings: settings({ retentionDays: 7 }), push: () => {} });
  closers.push(() => backend.close());
  const ids = async (): Promise<string[]> => (await backend.handle('log:query', { offset: 0, limit: 10 })).records.map((r) => r.id);
  expect(await ids()).toEqual(['261129000000_2']);
  await backend.updateSettings(settings({ retentionDays: 1 }));
  expect(await ids()).toEqual([]);
});

it('the listener service over a log it opened (callpop serve) keeps retentionDays itself', async () => {
  const service = await WebhookReceiver.start({ dataDir: dir, settings: settings({ retentionDays: 7 }) });
  closers.push(() => service.close());
  expect([...service.store.iterate({})].map((r) => r.id)).toEqual(['261129000000_2']);
});
