// The core backend behind the app's "core" IPC channels: a real service (listener on 127.0.0.1:0,
// call log and contacts in a temp dir) driven by webhooks over HTTP and by every core channel.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invokeOwners, type CoreChannel } from '../../shared/ipc/contract';
import { defaultSettings, type Settings } from '../../shared/settings';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { createCoreBackend } from '../../main/core/desktop/create-core-backend';
import type { CoreBackend } from '../../main/core/desktop/core-backend';
import { sendWebhook } from '../../main/core/listener/test-call';
import { PushRecorder } from '../support/push-recorder';

const secret = 'backendsecret_0123456789ab';

let dataDir = '';
let downloadDir = '';
let backend: CoreBackend | null = null;
let recorder = new PushRecorder(15_000);
let recordingServer: Server | null = null;

function settingsFor(more: Partial<Settings> = {}): Settings {
  return { ...defaultSettings(), extension: '202', defaultCountry: 'TR', listenHost: '127.0.0.1', listenPort: 0, webhookSecret: secret, ...more };
}

async function start(more: Partial<Settings> = {}): Promise<CoreBackend> {
  backend = await createCoreBackend({
    dataDir,
    defaultDownloadDir: downloadDir,
    settings: settingsFor(more),
    push: (channel, payload) => recorder.push(channel, payload),
    testCallPacing: { answerAfterMs: 20, endAfterMs: 20, recordingAfterMs: 20 },
  });
  return backend;
}

const url = (b: CoreBackend): string => {
  const s = b.status();
  if (s.state !== 'listening') throw new Error(`not listening: ${JSON.stringify(s)}`);
  return `http://127.0.0.1:${s.port}/webhook/${secret}`;
};

async function post(b: CoreBackend, body: object): Promise<number> {
  return (await sendWebhook(url(b), { method: 'POST', query: '', body: JSON.stringify(body), contentType: 'application/json' })).status;
}

const ringing = (id: string, number: string) => ({ Event: 'ringing', Callerid: number, User: '202', Usertype: 'ext', Did: '', Id: `${id}-0` });
const missedEnd = (id: string, number: string) => ({ Event: 'incoming', Callerid: number, User: '202', Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${id}-0` });

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'callpop-backend-'));
  downloadDir = await mkdtemp(join(tmpdir(), 'callpop-backend-dl-'));
  recorder = new PushRecorder(15_000);
});

afterEach(async () => {
  await backend?.close();
  backend = null;
  if (recordingServer) await new Promise((r) => recordingServer!.close(r));
  recordingServer = null;
  await rm(dataDir, { recursive: true, force: true });
  await rm(downloadDir, { recursive: true, force: true });
});

describe('core backend', () => {
  it('answers every core channel of the contract', async () => {
    const b = await start();
    const core = Object.entries(invokeOwners).filter(([, o]) => o === 'core').map(([c]) => c as CoreChannel);
    const args: { [C in CoreChannel]: unknown } = {
      'calls:active': {},
      'calls:get': { callId: 'nope' },
      'calls:clear': { callId: 'nope' },
      'calls:actions': {},
      'calls:colleagues': {},
      'calls:act': { action: 'hangup', callId: 'nope' },
      'calls:history': { number: '05551239988' },
      'log:query': { offset: 0, limit: 10 },
      'log:markSeen': {},
      'log:delete': { ids: ['nope'] },
      'log:setNote': { callId: 'nope', text: 'x' },
      'contacts:add': { name: 'Ada', number: '0555 123 99 88' },
      'recording:download': { callId: 'nope', url: 'https://pbx.example.com/x.mp3' },
      'recording:cancel': { downloadId: 'nope' },
      'recording:list': {},
      'contacts:importText': { text: 'Name,Phone\nAda,0555 123 99 88\n', fileName: 'c.csv' },
      'contacts:clear': {},
      'contacts:summary': {},
      'test:sendTestCall': {},
      'callbacks:list': {},
      'callbacks:act': { id: 'nope', action: 'claim' },
      'settings:getCallControlSecret': {},
      'settings:setCallControlSecret': { clear: true },
    };
    expect(core.sort()).toEqual(Object.keys(args).sort());
    // None of them may reject on valid arguments.
    for (const channel of core) await b.handle(channel, args[channel] as never);
  });

  it('pushes call updates with the contact name, answers active/get/history/query, and marks seen', async () => {
    const b = await start();
    expect(await b.handle('contacts:summary', {})).toEqual({ count: 0 });
    const imported = await b.handle('contacts:importText', { text: 'Name,Phone\nAda Lovelace,+90 555 123 99 88\n', fileName: 'contacts.csv' });
    expect(imported).toMatchObject({ ok: true, imported: 1 });
    expect(await b.handle('contacts:summary', {})).toEqual({ count: 1 });

    expect(await post(b, ringing('261124130000_1', '05551239988'))).toBe(200);
    const update = await recorder.waitFor('push:callUpdate', (p) => p.change === 'ringing');
    expect(update.record).toMatchObject({ id: '261124130000_1', status: 'ringing', number: '05551239988', contactName: 'Ada Lovelace' });

    const active = await b.handle('calls:active', {});
    expect(active.map((c) => [c.id, c.contactName])).toEqual([['261124130000_1', 'Ada Lovelace']]);
    expect(await b.handle('calls:get', { callId: '261124130000_1' })).toMatchObject({ status: 'ringing', contactName: 'Ada Lovelace' });
    expect(await b.handle('calls:get', { callId: 'unknown_1' })).toBeNull();

    expect(await post(b, missedEnd('261124130000_1', '05551239988'))).toBe(200);
    await recorder.waitFor('push:callUpdate', (p) => p.change === 'missed');
    expect(await recorder.waitFor('push:logChanged', (p) => p.missedUnseen === 1)).toEqual({ missedUnseen: 1 });
    expect(await b.handle('calls:active', {})).toEqual([]);

    expect(await post(b, ringing('261124130100_2', '0555 123 99 88'))).toBe(200);
    const history = await b.handle('calls:history', { number: '05551239988', excludeCallId: '261124130100_2' });
    expect(history).toMatchObject({ number: '05551239988', count: 1, missed: 1, last: { id: '261124130000_1', contactName: 'Ada Lovelace' } });

    const page = await b.handle('log:query', { offset: 0, limit: 10, text: 'lovelace' });
    expect(page.total).toBe(2);
    expect(page.records.map((r) => r.id)).toEqual(['261124130100_2', '261124130000_1']);
    const missedOnly = await b.handle('log:query', { offset: 0, limit: 10, result: 'missed' });
    expect(missedOnly.records.map((r) => r.id)).toEqual(['261124130000_1']);

    expect(await b.handle('log:markSeen', {})).toEqual({ missedUnseen: 0 });
    // (status pushes with the last event time may come in between)
    expect(recorder.pushes.filter((p) => p.channel !== 'push:status').at(-1)).toEqual({ channel: 'push:logChanged', payload: { missedUnseen: 0 } });

    await b.handle('contacts:clear', {});
    expect((await b.handle('calls:get', { callId: '261124130000_1' }))?.contactName).toBeNull();
    expect(await b.handle('contacts:summary', {})).toEqual({ count: 0 });
  });

  it('contacts:summary counts the contacts saved before a restart', async () => {
    const b = await start();
    await b.handle('contacts:importText', { text: 'Name,Phone\nAda,0555 123 99 88\nBob,0555 123 99 77\n', fileName: 'c.csv' });
    await b.close();
    const again = await start();
    expect(await again.handle('contacts:summary', {})).toEqual({ count: 2 });
  });

  it("keeps the PBX's caller name across a restart, shows it with no contact and finds it by search", async () => {
    const b = await start();
    expect(await post(b, { ...ringing('261124140000_1', '05321234567'), Callername: 'Mehmet Yılmaz' })).toBe(200);
    expect(await post(b, missedEnd('261124140000_1', '05321234567'))).toBe(200);
    await recorder.waitFor('push:logChanged', (p) => p.missedUnseen === 1);
    expect((await b.handle('calls:get', { callId: '261124140000_1' }))?.contactName).toBe('Mehmet Yılmaz');
    await b.close();
    const again = await start();
    expect((await again.handle('calls:get', { callId: '261124140000_1' }))?.contactName).toBe('Mehmet Yılmaz');
    const page = await again.handle('log:query', { offset: 0, limit: 10, text: 'yilmaz' });
    expect(page.records.map((r) => [r.id, r.contactName])).toEqual([['261124140000_1', 'Mehmet Yılmaz']]);
  });

  it('while no extension is set, the listening state carries the notice; setting one removes it', async () => {
    const b = await start({ extension: '' });
    expect(b.status()).toMatchObject({ state: 'listening', notice: expect.stringContaining('Set your extension') });
    await b.updateSettings(settingsFor({ extension: '202' }));
    const s = b.status();
    expect(s.state).toBe('listening');
    expect('notice' in s).toBe(false);
  });

  it('deletes calls from the log', async () => {
    const b = await start();
    await post(b, ringing('261124130200_3', '05550000001'));
    await post(b, missedEnd('261124130200_3', '05550000001'));
    expect(await b.handle('log:delete', { ids: ['261124130200_3', 'unknown_9'] })).toEqual({ deleted: 1 });
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).total).toBe(0);
    // (status pushes with the last event time may come in between)
    expect(recorder.pushes.filter((p) => p.channel !== 'push:status').at(-1)).toEqual({ channel: 'push:logChanged', payload: { missedUnseen: 0 } });
  });

  it('sends a test call through its own listener: ringing, answered, ended, recording', async () => {
    const b = await start();
    expect(await b.handle('test:sendTestCall', {})).toEqual({ ok: true });
    const changes = ['ringing', 'answered', 'ended', 'recording'];
    for (const change of changes) await recorder.waitFor('push:callUpdate', (p) => p.change === change);
    const records = (await b.handle('log:query', { offset: 0, limit: 10 })).records;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ extension: '202', result: 'answered', queue: '820', durationSec: 6 });
    // A second test call gets fresh ids: a second record, not a duplicate.
    expect(await b.handle('test:sendTestCall', {})).toEqual({ ok: true });
    await recorder.waitFor('push:callUpdate', (p) => p.change === 'recording' && p.record.id !== records[0]!.id);
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).total).toBe(2);
  });

  it('refuses a test call without an extension, with a clear error', async () => {
    const b = await start({ extension: '' });
    const r = await b.handle('test:sendTestCall', {});
    expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/extension/i) });
  });

  it('downloads a recording (by request and automatically) and refuses other hosts', async () => {
    const audio = Buffer.alloc(50_000, 7);
    recordingServer = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'audio/mpeg', 'Content-Length': audio.length });
      res.end(audio);
    });
    await new Promise<void>((r) => recordingServer!.listen(0, '127.0.0.1', () => r()));
    const pbx = `127.0.0.1:${(recordingServer.address() as { port: number }).port}`;
    const b = await start({ pbxHost: pbx, autoDownloadRecordings: true, downloadDir });

    const id = '261124130300_4';
    const recUrl = `http://${pbx}/webapi/recording/${id}-1-1.mp3`;
    for (const body of [
      ringing(id, '05551239988'),
      { Event: 'incomingcall_started', Callerid: '05551239988', User: '202', Trtype: 'NotDef', Did: '', Id: `${id}-1` },
      { Event: 'incoming', Callerid: '05551239988', User: '202', Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: '00:03', Id: `${id}-1` },
      { Event: 'recording', FileUrls: [recUrl], Callerid: '05551239988', User: '202', Id: `${id}-1` },
    ])
      expect(await post(b, body)).toBe(200);

    const done = await recorder.waitFor('push:download', (p) => p.state === 'done');
    expect(done).toMatchObject({ callId: id, url: recUrl, receivedBytes: audio.length });
    expect(done.path && existsSync(done.path)).toBe(true);
    expect(readFileSync(done.path!).equals(audio)).toBe(true);
    expect((await b.handle('recording:list', {})).map((d) => d.state)).toEqual(['done']);

    // Asking again for the same file reports the finished download instead of fetching it twice.
    const again = await b.handle('recording:download', { callId: id, url: recUrl });
    expect(again).toEqual({ downloadId: done.downloadId });

    const refused = await b.handle('recording:download', { callId: id, url: 'https://evil.example.com/x.mp3' });
    expect(refused).toMatchObject({ error: expect.any(String) });
    expect(await b.handle('recording:download', { callId: 'unknown_1', url: recUrl })).toMatchObject({ error: expect.stringMatching(/no such call/i) });
    await b.handle('recording:cancel', { downloadId: done.downloadId });
  });

  it('rebinds on a port change and reports the new URL; other settings do not rebind', async () => {
    const b = await start();
    const first = b.status();
    expect(first.state).toBe('listening');
    await b.updateSettings(settingsFor({ crmUrlTemplate: 'https://crm.example.com/?q={number}' }));
    expect(b.status()).toEqual(first);
    await b.updateSettings(settingsFor({ webhookSecret: 'rotated_secret_0123456789' }));
    const next = b.status();
    expect(next).toMatchObject({ state: 'listening', url: expect.stringContaining('/webhook/rotated_secret_0123456789') });
  });

  it('reports a port in use as an error state naming the port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const b = await start({ listenPort: port });
      expect(b.status()).toMatchObject({ state: 'error', message: expect.stringContaining(`Port ${port} is already in use`) });
      // Choosing another port recovers without a restart.
      await b.updateSettings(settingsFor({ listenPort: 0 }));
      expect(b.status().state).toBe('listening');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('replays every seed flow for this extension through the backend', async () => {
    const b = await start({ extension: '117' });
    let n = 0;
    for (const name of ['incoming-attended-transfer', 'ringall-missed', 'makecall-hangup']) {
      for (const r of flowRequests(findSeedFlow(name)!, { freshIds: { stamp: `2611241304${String(n++).padStart(2, '0')}` } })) {
        expect((await sendWebhook(url(b), r)).status).toBe(200);
      }
    }
    const page = await b.handle('log:query', { offset: 0, limit: 10 });
    expect(page.records.map((r) => r.result).sort()).toEqual(['answered', 'missed', 'missed']);
  });
});
