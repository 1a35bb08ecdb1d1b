// The desktop core (createCoreBackend, as the app's utility process and the e2e bridge run it) with
// settings.source "call-control", against the fake 3CX Call Control server on loopback: the key typed in
// Settings reaches the core over its channel, is written 0600 and never comes back; the feed starts from
// the table once it is there and pops a ringing call; a refused key and IT's key file (policy) behave.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushChannel, PushMap, ServiceState } from '../../shared/ipc/contract';
import { defaultSettings, type Settings } from '../../shared/settings';
import { createCoreBackend } from '../../main/core/desktop/create-core-backend';
import type { CoreBackend } from '../../main/core/desktop/core-backend';
import { CALL_CONTROL_SECRET_FILE } from '../../main/core/config/call-control-secret';
import { participant } from '../support/call-control-scenarios';
import { startFakeCallControl, waitFor, type FakeCallControl } from '../support/fake-3cx-call-control';

const KEY = 'k3y-Desktop_0123456789abcdef';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

interface Core {
  backend: CoreBackend;
  pushes: { channel: PushChannel; payload: unknown }[];
  dataDir: string;
  logs: string[];
}

async function fake(): Promise<FakeCallControl> {
  const f = await startFakeCallControl({ clients: { callpop: KEY }, dns: { '117': 'Wextension', '204': 'Wextension' } });
  cleanups.push(() => f.close());
  return f;
}

async function core(more: Partial<Settings>): Promise<Core> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callpop-desktop-cc-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const c: Core = { backend: null as never, pushes: [], dataDir, logs: [] };
  const log = (m: string) => c.logs.push(m);
  c.backend = await createCoreBackend({
    dataDir,
    defaultDownloadDir: dataDir,
    settings: { ...defaultSettings(), webhookSecret: 'desktopccsecret_0123456789', extension: '117', ...more },
    push: (channel, payload) => c.pushes.push({ channel, payload }),
    logger: { debug: log, info: log, warn: log, error: log },
    callControl: { backoff: { initialMs: 30, maxMs: 200 } },
  });
  cleanups.push(() => c.backend.close());
  return c;
}

const ccSettings = (f: FakeCallControl): Partial<Settings> => ({ source: 'call-control', callControlPbx: f.url, callControlClientId: 'callpop' });
const stateIs = (c: Core, state: ServiceState['state']) => () => c.backend.status().state === state;

describe('the desktop core on 3CX Call Control', () => {
  it('waits for the key in words, takes it from Settings, never gives it back, and pops a ringing call', async () => {
    const f = await fake();
    const c = await core(ccSettings(f));
    expect(c.backend.status()).toEqual({ state: 'error', message: 'Enter the API key of the 3CX API client.' });
    expect(await c.backend.handle('settings:getCallControlSecret', {})).toEqual({ saved: false, file: null });
    expect(f.tokensIssued).toBe(0);

    // A key with a space is refused in place and nothing is written.
    expect(await c.backend.handle('settings:setCallControlSecret', { secret: 'two words' })).toMatchObject({ ok: false, error: expect.stringMatching(/no spaces/) });
    await expect(stat(join(c.dataDir, CALL_CONTROL_SECRET_FILE))).rejects.toThrow();

    expect(await c.backend.handle('settings:setCallControlSecret', { secret: KEY })).toEqual({ ok: true });
    await waitFor('connected', stateIs(c, 'pbx-connected'));
    expect(c.backend.status()).toEqual({ state: 'pbx-connected', pbx: new URL(f.url).origin, extension: '117' });
    if (process.platform !== 'win32') expect((await stat(join(c.dataDir, CALL_CONTROL_SECRET_FILE))).mode & 0o777).toBe(0o600);
    const view = await c.backend.handle('settings:getCallControlSecret', {});
    expect(view).toEqual({ saved: true, file: null });

    f.upsert(participant({ id: 8101, dn: '117', status: 'Ringing', callid: 5501, callerId: '05551239988', name: 'Ada Lovelace' }));
    await waitFor('the ringing pop', () => c.pushes.some((p) => p.channel === 'push:callUpdate' && (p.payload as PushMap['push:callUpdate']).change === 'ringing'));
    const pop = c.pushes.find((p) => p.channel === 'push:callUpdate')!.payload as PushMap['push:callUpdate'];
    expect(pop.record).toMatchObject({ status: 'ringing', number: '05551239988', extension: '117', contactName: 'Ada Lovelace' });
    // Once durable it is in the log the app pages through.
    await waitFor('the call in the log', () => c.pushes.some((p) => p.channel === 'push:logChanged'));
    const page = await c.backend.handle('log:query', { offset: 0, limit: 10 });
    expect(page.records.map((r) => r.number)).toEqual(['05551239988']);
    // Another extension's call is not this desk's.
    f.upsert(participant({ id: 8102, dn: '204', status: 'Ringing', callid: 5502, callerId: '05550000000' }));
    f.upsert(participant({ id: 8103, dn: '117', status: 'Ringing', callid: 5503, callerId: '05551112222' }));
    await waitFor('the second pop', () => c.pushes.some((p) => p.channel === 'push:callUpdate' && (p.payload as PushMap['push:callUpdate']).record.number === '05551112222'));
    expect(c.pushes.some((p) => p.channel === 'push:callUpdate' && (p.payload as PushMap['push:callUpdate']).record.number === '05550000000')).toBe(false);

    // Nothing the core sent to the app, and nothing it logged, holds the key.
    expect(JSON.stringify(c.pushes)).not.toContain(KEY);
    expect(c.logs.join('\n')).not.toContain(KEY);
    expect(c.logs).toContain('Call Control API key saved.');

    // Cleared: the feed stops asking the PBX and says what is missing.
    expect(await c.backend.handle('settings:setCallControlSecret', { clear: true })).toEqual({ ok: true });
    expect(c.backend.status()).toEqual({ state: 'error', message: 'Enter the API key of the 3CX API client.' });
    expect(await c.backend.handle('settings:getCallControlSecret', {})).toEqual({ saved: false, file: null });
  });

  it('a key 3CX refuses is shown as refused; a right one afterwards connects', async () => {
    const f = await fake();
    const c = await core(ccSettings(f));
    await c.backend.handle('settings:setCallControlSecret', { secret: 'wrong-key' });
    await waitFor('refused', stateIs(c, 'pbx-refused'));
    const s = c.backend.status();
    expect(s.state === 'pbx-refused' && s.error).toMatch(/3CX refused the API client "callpop" \(HTTP 401\)/);
    await c.backend.handle('settings:setCallControlSecret', { secret: KEY });
    await waitFor('connected', stateIs(c, 'pbx-connected'));
  });

  it("IT's key file (settings.callControlSecretFile, e.g. locked by policy) is used; Settings cannot save one over it", async () => {
    const f = await fake();
    const dir = await mkdtemp(join(tmpdir(), 'callpop-desktop-cc-it-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'cc-key');
    await writeFile(file, `${KEY}\n`, { mode: 0o600 });
    const c = await core({ ...ccSettings(f), callControlSecretFile: file });
    await waitFor('connected', stateIs(c, 'pbx-connected'));
    expect(await c.backend.handle('settings:getCallControlSecret', {})).toEqual({ saved: false, file });
    expect(await c.backend.handle('settings:setCallControlSecret', { secret: 'other' })).toMatchObject({ ok: false, error: expect.stringContaining(file) });

    // A file that does not hold a key: the status names the file, not its content.
    const bad = join(dir, 'bad-key');
    await writeFile(bad, 'not a key\n');
    const c2 = await core({ ...ccSettings(f), callControlSecretFile: bad });
    const st = c2.backend.status();
    expect(st.state === 'error' && st.message).toBe(`The API key file ${bad} does not hold one key on one line.`);
  });

  it('switching from this PC\'s listener to Call Control and back keeps the log', async () => {
    const f = await fake();
    const c = await core({ listenHost: '127.0.0.1', listenPort: 0 });
    await waitFor('listening', stateIs(c, 'listening'));
    await c.backend.handle('settings:setCallControlSecret', { secret: KEY });
    expect(c.backend.status().state).toBe('listening'); // the key alone changes nothing on the listener
    await c.backend.updateSettings({ ...defaultSettings(), webhookSecret: 'desktopccsecret_0123456789', extension: '117', ...ccSettings(f) });
    await waitFor('connected', stateIs(c, 'pbx-connected'));
    f.upsert(participant({ id: 8201, dn: '117', status: 'Ringing', callid: 5601, callerId: '05553334444' }));
    await waitFor('the call in the log', () => c.pushes.some((p) => p.channel === 'push:logChanged'));
    await c.backend.updateSettings({ ...defaultSettings(), webhookSecret: 'desktopccsecret_0123456789', extension: '117', listenHost: '127.0.0.1', listenPort: 0 });
    await waitFor('listening again', stateIs(c, 'listening'));
    const page = await c.backend.handle('log:query', { offset: 0, limit: 10 });
    expect(page.records.map((r) => r.number)).toEqual(['05553334444']);
  });
});
