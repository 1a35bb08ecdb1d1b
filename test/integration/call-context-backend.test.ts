// The core's side of caller context, notes and the last-event time: a real backend (listener on
// 127.0.0.1:0, call log, contacts and notes in a temp dir) driven by webhooks over HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushChannel, PushMap } from '../../shared/ipc/contract';
import { defaultSettings, type Settings } from '../../shared/settings';
import { createCoreBackend } from '../../main/core/desktop/create-core-backend';
import type { CoreBackend } from '../../main/core/desktop/core-backend';
import { callLogDir } from '../../main/core/config/paths';
import { sendWebhook } from '../../main/core/listener/test-call';

const secret = 'contextsecret_0123456789ab';
type Pushed = { [P in PushChannel]: { channel: P; payload: PushMap[P] } }[PushChannel];

let dataDir = '';
let backend: CoreBackend | null = null;
let pushes: Pushed[] = [];

async function start(more: Partial<Settings> = {}): Promise<CoreBackend> {
  backend = await createCoreBackend({
    dataDir,
    defaultDownloadDir: dataDir,
    settings: { ...defaultSettings(), extension: '202', defaultCountry: 'TR', listenHost: '127.0.0.1', listenPort: 0, webhookSecret: secret, ...more },
    push: (channel, payload) => void pushes.push({ channel, payload } as Pushed),
  });
  return backend;
}

async function post(b: CoreBackend, body: object): Promise<number> {
  const s = b.status();
  if (s.state !== 'listening') throw new Error('not listening');
  return (await sendWebhook(`http://127.0.0.1:${s.port}/webhook/${secret}`, { method: 'POST', query: '', body: JSON.stringify(body), contentType: 'application/json' })).status;
}
const ringing = (id: string, number: string, user = '202', usertype = 'ext') => ({ Event: 'ringing', Callerid: number, User: user, Usertype: usertype, Did: '', Id: `${id}-0` });
const missedEnd = (id: string, number: string) => ({ Event: 'incoming', Callerid: number, User: '202', Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${id}-0` });

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'callpop-context-'));
  pushes = [];
});
afterEach(async () => {
  await backend?.close();
  backend = null;
  await rm(dataDir, { recursive: true, force: true });
});

describe('caller context in the view', () => {
  it('company, queue name, colleague names; Add contact names an unknown number from then on', async () => {
    const b = await start({ lineNames: ['820 = Sales'] });
    await b.handle('contacts:importText', { text: 'Name,Company,Phone\nAda Lovelace,Analytical Engines Ltd,0555 123 99 88\nBob Builder,,204\n', fileName: 'c.csv' });
    expect(await post(b, ringing('261124140000_1', '05551239988', '820', 'queue'))).toBe(200);
    expect(await post(b, ringing('261124140000_1', '05551239988'))).toBe(200);
    const call = await b.handle('calls:get', { callId: '261124140000_1' });
    expect(call).toMatchObject({ contactName: 'Ada Lovelace', contactCompany: 'Analytical Engines Ltd', queue: '820', queueName: 'Sales' });

    // Another extension took a call of ours: the view names the colleague.
    await post(b, ringing('261124140100_2', '05550000001'));
    await post(b, { Event: 'incomingcall_started', Callerid: '05550000001', User: '204', Trtype: 'NotDef', Did: '', Id: '261124140100_2-1' });
    await post(b, { Event: 'incoming', Callerid: '05550000001', User: '204', Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: '00:09', Id: '261124140100_2-1' });
    const elsewhere = await b.handle('calls:get', { callId: '261124140100_2' });
    expect(elsewhere).toMatchObject({ result: 'answered-elsewhere', answeredBy: '204', extensionNames: { '204': 'Bob Builder' } });

    // An unknown number gets a name typed by the agent; it is saved in contacts.json.
    expect((await b.handle('calls:get', { callId: '261124140100_2' }))?.contactName).toBeNull();
    expect(await b.handle('contacts:add', { name: '  Cem  Yılmaz ', number: '0555 000 00 01' })).toEqual({ ok: true });
    expect((await b.handle('calls:get', { callId: '261124140100_2' }))?.contactName).toBe('Cem Yılmaz');
    expect(JSON.parse(readFileSync(join(dataDir, 'contacts.json'), 'utf8')).contacts).toContainEqual({ name: 'Cem Yılmaz', numbers: ['0555 000 00 01'] });
    expect(await b.handle('contacts:add', { name: '', number: '0555 000 00 02' })).toMatchObject({ ok: false });
  });
});

describe('notes', () => {
  it('are kept beside the log, shown on the next call from the number, survive a restart, go with a delete', async () => {
    let b = await start();
    await post(b, ringing('261124150000_1', '05551239988'));
    await post(b, missedEnd('261124150000_1', '05551239988'));
    expect(await b.handle('log:setNote', { callId: '261124150000_1', text: ' Wants a quote\nby Friday ' })).toEqual({ ok: true });
    expect(await b.handle('log:setNote', { callId: 'nope_1', text: 'x' })).toMatchObject({ ok: false });
    expect((await b.handle('calls:get', { callId: '261124150000_1' }))?.note).toBe('Wants a quote by Friday');
    // The record itself is unchanged (the tracker's CallRecord has no note).
    const page = await b.handle('log:query', { offset: 0, limit: 10 });
    expect(page.records[0]).toMatchObject({ id: '261124150000_1', note: 'Wants a quote by Friday' });

    await b.close();
    b = await start();
    await post(b, ringing('261124150100_2', '0555 123 99 88'));
    const h = await b.handle('calls:history', { number: '0555 123 99 88', excludeCallId: '261124150100_2' });
    expect(h.lastNote).toMatchObject({ text: 'Wants a quote by Friday', callId: '261124150000_1' });
    expect(h.recent?.map((r) => [r.id, r.note])).toEqual([['261124150000_1', 'Wants a quote by Friday']]);

    await b.handle('log:delete', { ids: ['261124150000_1'] });
    expect(JSON.parse(readFileSync(join(callLogDir(dataDir), 'notes.json'), 'utf8')).notes).toEqual({});
    expect((await b.handle('calls:history', { number: '05551239988' })).lastNote).toBeNull();
  });
});

describe('last event time', () => {
  it('the status carries the time of the last accepted webhook and is pushed when the first arrives', async () => {
    const b = await start();
    const before = b.status();
    expect(before).toMatchObject({ state: 'listening', lastEventAt: null });
    const t0 = Date.now();
    // Another extension's call counts too: the PBX is talking to us.
    await post(b, ringing('261124160000_1', '05551239988', '333'));
    const s = b.status();
    if (s.state !== 'listening') throw new Error('not listening');
    expect(Date.parse(s.lastEventAt ?? '')).toBeGreaterThanOrEqual(t0 - 5);
    await expect.poll(() => pushes.some((p) => p.channel === 'push:status' && p.payload.service.state === 'listening' && p.payload.service.lastEventAt === s.lastEventAt)).toBe(true);
    // A webhook the parser refuses is not an event.
    await new Promise((r) => setTimeout(r, 10));
    const bad = await sendWebhook(`http://127.0.0.1:${s.port}/webhook/${secret}`, { method: 'POST', query: '', body: '{not json', contentType: 'application/json' });
    expect(bad.status).toBe(400);
    const after = b.status();
    expect(after.state === 'listening' && after.lastEventAt).toBe(s.lastEventAt);
  });
});
