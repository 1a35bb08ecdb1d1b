// A pop is never late: the core backend pushes a call change while the call log's write of it is still
// pending (the store's put held back here), and the webhook is still acknowledged only once that write
// is done. Also: clearing a ghost call by hand, and test calls marked by their id. Real listener on
// 127.0.0.1:0, real call log in a temp dir; only the store's put is wrapped, to hold it back.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSettings } from '../../shared/settings';
import { isTestCallId } from '../../shared/test-call-id';
import type { CoreBackend } from '../../main/core/desktop/core-backend';
import { sendWebhook } from '../../main/core/listener/test-call';
import type * as StoreModuleNs from '../../main/core/call-log/store';
import { PushRecorder } from '../support/push-recorder';

type StoreModule = typeof StoreModuleNs;

/** While set, every call log write waits for it (a busy disk that has not finished the fsync). */
let hold: Promise<void> | null = null;
let putCalls = 0;

vi.mock('../../main/core/call-log/store', async (importOriginal) => {
  const real = await importOriginal<StoreModule>();
  return {
    ...real,
    openCallLogStore: async (...a: Parameters<typeof real.openCallLogStore>) => {
      const store = await real.openCallLogStore(...a);
      const put = store.put.bind(store);
      store.put = async (records) => {
        putCalls++;
        if (hold) await hold;
        return put(records);
      };
      return store;
    },
  };
});

const { createCoreBackend } = await import('../../main/core/desktop/create-core-backend');

const secret = 'popbeforedisk_0123456789ab';

let dataDir = '';
let backend: CoreBackend | null = null;
let recorder = new PushRecorder(10_000);

async function start(extra: { now?: () => number; tickMs?: number } = {}): Promise<CoreBackend> {
  backend = await createCoreBackend({
    ...extra,
    dataDir,
    defaultDownloadDir: dataDir,
    settings: { ...defaultSettings(), extension: '202', defaultCountry: 'TR', listenHost: '127.0.0.1', listenPort: 0, webhookSecret: secret },
    push: (channel, payload) => recorder.push(channel, payload),
    testCallPacing: { answerAfterMs: 10, endAfterMs: 10, recordingAfterMs: 10 },
  });
  return backend;
}

function post(b: CoreBackend, body: object): Promise<number> {
  const s = b.status();
  if (s.state !== 'listening') throw new Error(`not listening: ${JSON.stringify(s)}`);
  return sendWebhook(`http://127.0.0.1:${s.port}/webhook/${secret}`, { method: 'POST', query: '', body: JSON.stringify(body), contentType: 'application/json' }).then((r) => r.status);
}

const ringing = (id: string) => ({ Event: 'ringing', Callerid: '05551230001', User: '202', Usertype: 'ext', Did: '', Id: `${id}-0` });
const answered = (id: string) => ({ Event: 'incomingcall_started', Callerid: '05551230001', User: '202', Trtype: 'NotDef', Did: '', Id: `${id}-1` });
const recording = (id: string) => ({ Event: 'recording', FileUrls: [`https://127.0.0.1/rec/${id}.wav`], Callerid: '05551230001', User: '202', Id: `${id}-1` });

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'callpop-popdisk-'));
  recorder = new PushRecorder(10_000);
  hold = null;
  putCalls = 0;
});

afterEach(async () => {
  hold = null;
  await backend?.close();
  backend = null;
  await rm(dataDir, { recursive: true, force: true });
});

describe('a pop is never held up by the disk', () => {
  it('pushes a ringing call while its write is pending, and acknowledges the webhook only after the write', async () => {
    const b = await start();
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    let acked: number | null = null;
    const ack = post(b, ringing('261201090000_1')).then((status) => (acked = status));

    const update = await recorder.waitFor('push:callUpdate', (p) => p.change === 'ringing');
    expect(update.record).toMatchObject({ id: '261201090000_1', status: 'ringing' });
    // The write was issued and is still held: nothing in the log, no ack, no badge recount yet.
    await vi.waitFor(() => expect(putCalls).toBeGreaterThan(0));
    await new Promise((r) => setTimeout(r, 150));
    expect(acked).toBeNull();
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).total).toBe(0);
    expect(recorder.pushes.some((p) => p.channel === 'push:logChanged')).toBe(false);

    release();
    expect(await ack).toBe(200);
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).records).toMatchObject([{ id: '261201090000_1', status: 'ringing' }]);
    await recorder.waitFor('push:logChanged');
  });
});

describe('clearing a ghost call by hand', () => {
  it('ends a talking call as the silence timeout would, drops it from the active calls, and keeps it ended', async () => {
    const b = await start();
    expect(await post(b, ringing('261201090100_2'))).toBe(200);
    expect(await post(b, answered('261201090100_2'))).toBe(200);
    expect(await b.handle('calls:active', {})).toMatchObject([{ id: '261201090100_2', status: 'talking' }]);

    expect(await b.handle('calls:clear', { callId: '261201090100_2' })).toEqual({ ok: true });
    const ended = await recorder.waitFor('push:callUpdate', (p) => p.record.id === '261201090100_2' && p.change === 'ended');
    expect(ended.record).toMatchObject({ status: 'ended', result: 'answered', durationSec: null });
    expect(await b.handle('calls:active', {})).toEqual([]);
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).records).toMatchObject([{ id: '261201090100_2', status: 'ended', result: 'answered' }]);

    // Later news of it (a recording) does not bring it back to "Talking".
    expect(await post(b, recording('261201090100_2'))).toBe(200);
    const rec = await recorder.waitFor('push:callUpdate', (p) => p.record.id === '261201090100_2' && p.change === 'recording');
    expect(rec.record).toMatchObject({ status: 'ended', recordings: ['https://127.0.0.1/rec/261201090100_2.wav'] });
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).records[0]).toMatchObject({ status: 'ended', recordings: [expect.any(String)] });
    expect(await b.handle('calls:active', {})).toEqual([]);
  });

  it("the tracker's own silence timeout later does not end it a second time", async () => {
    let clock = Date.parse('2026-12-01T09:00:00Z');
    const b = await start({ now: () => clock, tickMs: 20 });
    expect(await post(b, ringing('261201090500_6'))).toBe(200);
    expect(await post(b, answered('261201090500_6'))).toBe(200);
    clock += 60_000;
    expect(await b.handle('calls:clear', { callId: '261201090500_6' })).toEqual({ ok: true });
    const endedAt = '2026-12-01T09:01:00.000Z';
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).records[0]).toMatchObject({ status: 'ended', endedAt });
    const before = recorder.pushes.length;
    clock += 13 * 3600_000; // past the 12 h talk timeout: the tracker ends its own copy now
    await new Promise((r) => setTimeout(r, 200));
    expect(recorder.pushes.slice(before).filter((p) => p.channel === 'push:callUpdate')).toEqual([]);
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).records[0]).toMatchObject({ status: 'ended', endedAt });
  });

  it('refuses a call that is not active, changing nothing', async () => {
    const b = await start();
    expect(await b.handle('calls:clear', { callId: 'nope_1' })).toMatchObject({ ok: false, error: expect.stringMatching(/not active/) });
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).total).toBe(0);
  });

  it('a ringing ghost ends as missed (like the ring timeout)', async () => {
    const b = await start();
    expect(await post(b, ringing('261201090200_3'))).toBe(200);
    expect(await b.handle('calls:clear', { callId: '261201090200_3' })).toEqual({ ok: true });
    const u = await recorder.waitFor('push:callUpdate', (p) => p.record.id === '261201090200_3' && p.change === 'missed');
    expect(u.record).toMatchObject({ status: 'ended', result: 'missed' });
  });
});

describe('test calls', () => {
  it('"Send test call" uses ids marked as test, kept in the log and never on the missed badge', async () => {
    const b = await start();
    expect(await b.handle('test:sendTestCall', {})).toEqual({ ok: true });
    const ring = await recorder.waitFor('push:callUpdate', (p) => p.change === 'ringing');
    expect(isTestCallId(ring.record.id)).toBe(true);
    await recorder.waitFor('push:callUpdate', (p) => p.change === 'recording');
    await b.handle('calls:active', {}); // let the last write settle
    const records = (await b.handle('log:query', { offset: 0, limit: 10 })).records;
    expect(records).toHaveLength(1);
    expect(isTestCallId(records[0]!.id)).toBe(true);
    expect(records[0]).toMatchObject({ seen: true });
    // A real call from the same number does not count the test call in its history.
    expect(await post(b, { ...ringing('261201090300_4'), Callerid: records[0]!.number })).toBe(200);
    expect(await b.handle('calls:history', { number: records[0]!.number, excludeCallId: '261201090300_4' })).toMatchObject({ count: 0, missed: 0, last: null });
    // …but a real earlier call from it does count (only the test calls are left out).
    const missedEnd = { Event: 'incoming', Callerid: records[0]!.number, User: '202', Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: '261201090300_4-0' };
    expect(await post(b, missedEnd)).toBe(200);
    expect(await post(b, { ...ringing('261201090400_5'), Callerid: records[0]!.number })).toBe(200);
    expect(await b.handle('calls:history', { number: records[0]!.number, excludeCallId: '261201090400_5' })).toMatchObject({ count: 1, missed: 1, last: { id: '261201090300_4' } });
    expect((await b.handle('log:query', { offset: 0, limit: 10 })).total).toBe(3);
  });
});

describe('test call ids', () => {
  it('are 00 + 10 digits, never repeat, and real 3CX ids are not test ids', async () => {
    const { testCallStamp } = await import('../../shared/test-call-id');
    const a = testCallStamp(1_764_000_000_000);
    const b2 = testCallStamp(1_764_000_000_000);
    expect(a).toMatch(/^00\d{10}$/);
    expect(b2).not.toBe(a);
    expect(isTestCallId(`${a}_10`)).toBe(true);
    expect(isTestCallId('230307114903_10')).toBe(false);
    expect(isTestCallId('261201090000_1')).toBe(false);
  });
});
