// The download manager used by the core backend, against a real local HTTP server.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EndedCall } from '../../shared/call-record';
import type { DownloadProgress } from '../../shared/ipc/contract';
import { createDownloadManager } from '../../main/core/download/manager';
import type { DownloadManager } from '../../main/core/download/manager';
import { serveBytes, startServer } from './fixtures/download/servers';
import type { TestServer } from './fixtures/download/servers';

const data = randomBytes(2 * 1024 * 1024);

let dir: string;
let server: TestServer;
let events: DownloadProgress[];
let manager: DownloadManager;
let settings: { pbxHost: string; recordingFingerprint: string; downloadDir: string; recordingAllowHttpCredentials?: boolean };
let savedTz: string | undefined;
/** Set by a test to hold responses until released. */
let gate: Promise<void> | null;

function makeCall(urls: string[], over: Partial<EndedCall> = {}): EndedCall {
  return {
    id: '230307140234_35-1',
    direction: 'incoming',
    number: '05551239988',
    extension: '117',
    queue: null,
    did: null,
    startedAt: '2023-03-07T14:02:34Z',
    durationSec: 6,
    transferType: null,
    transferredTo: null,
    transferredFrom: null,
    answeredBy: null,
    recordings: urls,
    seen: false,
    status: 'ended',
    result: 'answered',
    answeredAt: '2023-03-07T14:02:40Z',
    endedAt: '2023-03-07T14:02:46Z',
    ...over,
  };
}

/** Resolves with the first progress event for `id` in a final state. */
function finished(id: string): Promise<DownloadProgress> {
  return new Promise((resolve) => {
    const check = (): void => {
      const e = events.find((p) => p.downloadId === id && p.state !== 'running');
      if (e) resolve(e);
      else setTimeout(check, 5);
    };
    check();
  });
}

beforeEach(async () => {
  savedTz = process.env.TZ;
  process.env.TZ = 'UTC';
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callpop-dlm-'));
  gate = null;
  server = await startServer((req, res) => {
    if (req.url === '/missing.mp3') return void res.writeHead(404).end();
    if (req.url === '/private.mp3' && req.headers.authorization !== `Basic ${Buffer.from('rec:pw').toString('base64')}`) return void res.writeHead(401).end();
    if (gate) {
      res.writeHead(200, { 'Content-Length': data.length });
      res.write(data.subarray(0, 64 * 1024));
      void gate.then(() => res.end(data.subarray(64 * 1024)));
      return;
    }
    serveBytes(data, res, req);
  });
  events = [];
  settings = { pbxHost: server.host, recordingFingerprint: '', downloadDir: dir };
  manager = createDownloadManager({
    settings: () => settings,
    defaultDownloadDir: path.join(dir, 'default-unused'),
    onProgress: (p) => events.push(p),
    tuning: { retryDelayMs: 10, progressIntervalMs: 0 },
  });
});

afterEach(async () => {
  await manager.close();
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('createDownloadManager', () => {
  it('downloads an announced recording under its call-based name, with progress events', async () => {
    const url = server.url('/webapi/recording/230307140234_35-1-1.mp3');
    const started = manager.start({ call: makeCall([url]), url });
    if (!('downloadId' in started)) throw new Error(started.error);
    const done = await finished(started.downloadId);
    expect(done.state).toBe('done');
    expect(done.path).toBe(path.join(dir, '2023-03-07 14-02 incoming 05551239988 117.mp3'));
    expect(fs.readFileSync(done.path as string).equals(data)).toBe(true);
    expect(done.receivedBytes).toBe(data.length);
    expect(events[0]).toMatchObject({ downloadId: started.downloadId, callId: '230307140234_35-1', url, state: 'running', receivedBytes: 0 });
    expect(events.some((p) => p.state === 'running' && p.receivedBytes > 0)).toBe(true);
    expect(manager.list()).toEqual([done]);
  });

  it('names the second recording of a call " (2)" and uses the default folder when none is set', async () => {
    const defaultDir = path.join(dir, 'default');
    fs.mkdirSync(defaultDir);
    settings = { ...settings, downloadDir: '' };
    const m = createDownloadManager({ settings: () => settings, defaultDownloadDir: defaultDir, onProgress: (p) => events.push(p) });
    try {
      const urls = [server.url('/a.mp3'), server.url('/b.mp3')];
      const r = m.start({ call: makeCall(urls), url: urls[1] as string });
      if (!('downloadId' in r)) throw new Error(r.error);
      const done = await finished(r.downloadId);
      expect(done.path).toBe(path.join(defaultDir, '2023-03-07 14-02 incoming 05551239988 117 (2).mp3'));
    } finally {
      await m.close();
    }
  });

  it('refuses at once, fetching nothing: URL not announced for the call, wrong host, no PBX host', () => {
    const url = server.url('/r.mp3');
    expect(manager.start({ call: makeCall([]), url })).toEqual({ error: 'Refused: this address is not a recording announced for this call' });
    const elsewhere = `http://localhost:${server.port}/r.mp3`;
    const wrong = manager.start({ call: makeCall([elsewhere]), url: elsewhere });
    expect('error' in wrong && wrong.error).toMatch(/^Refused: the recording is on localhost/);
    settings = { ...settings, pbxHost: '' };
    expect(manager.start({ call: makeCall([url]), url })).toEqual({ error: 'Set the PBX address in Settings before downloading recordings' });
    // The call's own recordings that were refused are listed as failed (the log's Rec badge shows it); nothing was fetched.
    expect(manager.list().map((d) => [d.state, d.error])).toEqual([
      ['failed', expect.stringMatching(/^Refused: the recording is on localhost/)],
      ['failed', 'Set the PBX address in Settings before downloading recordings'],
    ]);
    expect(events.map((d) => d.state)).toEqual(['failed', 'failed']);
    expect(server.connections).toBe(0);
  });

  it('reports the existing file for the same call and URL instead of downloading again', async () => {
    const url = server.url('/r.mp3');
    const call = makeCall([url]);
    const first = manager.start({ call, url });
    if (!('downloadId' in first)) throw new Error(first.error);
    await finished(first.downloadId);
    const again = manager.start({ call, url });
    expect(again).toEqual(first);
    expect(server.requests).toHaveLength(1);
    expect(fs.readdirSync(dir)).toHaveLength(1);
    // Once the file is gone, the same request downloads it again.
    fs.rmSync(manager.list()[0]?.path as string);
    events = [];
    const third = manager.start({ call, url });
    expect(third).toEqual(first);
    expect((await finished(first.downloadId)).state).toBe('done');
    expect(server.requests).toHaveLength(2);
  });

  it('cancel stops a running download and removes its temp file; retry then completes it', async () => {
    let release!: () => void;
    gate = new Promise((r) => (release = r));
    const url = server.url('/r.mp3');
    const started = manager.start({ call: makeCall([url]), url });
    if (!('downloadId' in started)) throw new Error(started.error);
    const id = started.downloadId;
    await new Promise<void>((resolve) => {
      const check = (): void => (events.some((p) => p.receivedBytes > 0) ? resolve() : void setTimeout(check, 5));
      check();
    });
    expect(manager.list()[0]?.state).toBe('running');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.part'))).toHaveLength(1);
    manager.cancel(id);
    const canceled = await finished(id);
    expect(canceled.state).toBe('canceled');
    expect(canceled.error).toBeNull();
    expect(fs.readdirSync(dir)).toEqual([]);
    release();
    gate = null;
    events = [];
    expect(manager.retry(id)).toEqual({ downloadId: id });
    const done = await finished(id);
    expect(done.state).toBe('done');
    expect(fs.readFileSync(done.path as string).equals(data)).toBe(true);
    expect(manager.retry('nope')).toEqual({ error: 'There is no such download' });
  });

  it('a failed download carries a clear error', async () => {
    const url = server.url('/missing.mp3');
    const r = manager.start({ call: makeCall([url]), url });
    if (!('downloadId' in r)) throw new Error(r.error);
    const failed = await finished(r.downloadId);
    expect(failed).toMatchObject({ state: 'failed', error: 'The PBX has no recording at this address (404)', path: null });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('close cancels running downloads and removes their temp files', async () => {
    gate = new Promise(() => undefined);
    const url = server.url('/r.mp3');
    const r = manager.start({ call: makeCall([url]), url });
    if (!('downloadId' in r)) throw new Error(r.error);
    await new Promise<void>((resolve) => {
      const check = (): void => (events.some((p) => p.receivedBytes > 0) ? resolve() : void setTimeout(check, 5));
      check();
    });
    await manager.close();
    expect(manager.list()[0]?.state).toBe('canceled');
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(manager.start({ call: makeCall([url]), url })).toEqual({ error: 'Downloads are shut down' });
  });

  it('sends the credentials over http only when the recordingAllowHttpCredentials setting allows it', async () => {
    const withCredentials = createDownloadManager({
      settings: () => settings,
      defaultDownloadDir: dir,
      credentials: () => ({ username: 'rec', password: 'pw' }),
      onProgress: (p) => events.push(p),
      tuning: { retryDelayMs: 10, progressIntervalMs: 0 },
    });
    try {
      const url = server.url('/private.mp3');
      const call = makeCall([url]);
      const first = withCredentials.start({ call, url });
      if (!('downloadId' in first)) throw new Error(first.error);
      const refused = await finished(first.downloadId);
      expect(refused.state).toBe('failed');
      expect(refused.error).toContain('did not send them over plain http');
      expect(server.requests.at(-1)?.headers.authorization).toBeUndefined();

      settings = { ...settings, recordingAllowHttpCredentials: true };
      events = [];
      const again = withCredentials.retry(first.downloadId);
      if (!('downloadId' in again)) throw new Error(again.error);
      const done = await finished(again.downloadId);
      expect(done.state).toBe('done');
      expect(server.requests.at(-1)?.headers.authorization).toBe(`Basic ${Buffer.from('rec:pw').toString('base64')}`);
    } finally {
      await withCredentials.close();
    }
  });
});
