// Where the recording credentials may go: only over https (http only when the admin allows it),
// only to the exact origin of the announced URL on the PBX's configured port, never after a
// redirect to another origin. Real HTTP/HTTPS servers on loopback record the Authorization header.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadRecording } from '../../main/core/download/downloader';
import type { DownloadRecordingOptions } from '../../main/core/download/downloader';
import { DownloadError } from '../../main/core/download/errors';
import { makeCert, serveBytes, startServer } from './fixtures/download/servers';
import type { Handler, TestCert, TestServer } from './fixtures/download/servers';

const data = randomBytes(64 * 1024);
const credentials = { username: 'rec', password: 's3cret' };
const basic = `Basic ${Buffer.from('rec:s3cret').toString('base64')}`;
/** A PBX that wants the credentials: 401 without them. */
const guarded: Handler = (req, res) => (req.headers.authorization === basic ? serveBytes(data, res, req) : void res.writeHead(401).end());

let dir: string;
let cert: TestCert;
const servers: TestServer[] = [];
const serve = async (...args: Parameters<typeof startServer>): Promise<TestServer> => {
  const s = await startServer(...args);
  servers.push(s);
  return s;
};
const auth = (s: TestServer): (string | undefined)[] => s.requests.map((r) => r.headers.authorization);
const base = (pbxHost: string): DownloadRecordingOptions => ({ pbxHost, destDir: dir, fileName: 'a.mp3', credentials, retryDelayMs: 5, maxTries: 1 });

async function failure(p: Promise<unknown>): Promise<DownloadError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  return err as DownloadError;
}

/** A PBX without a port in its address is trusted on the default port only: port 80 on a spare loopback address, when this user may bind it. */
const defaultPortHost = '127.77.0.10';
const canBindPort80 = await new Promise<boolean>((resolve) => {
  const probe = net.createServer();
  probe.once('error', () => resolve(false));
  probe.listen(80, defaultPortHost, () => probe.close(() => resolve(true)));
});

beforeAll(() => {
  cert = makeCert();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callpop-dl-cred-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('recording credentials', () => {
  it('are not sent over plain http; the 401 says why', async () => {
    const s = await serve(guarded);
    const e = await failure(downloadRecording(s.url('/r.mp3'), base(s.host)));
    expect(auth(s)).toEqual([undefined]);
    expect(e.code).toBe('unauthorized');
    expect(e.message).toContain('did not send them over plain http');
    expect(e.message).toContain('recordingAllowHttpCredentials');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('are sent over plain http when the admin allows it', async () => {
    const s = await serve(guarded);
    const r = await downloadRecording(s.url('/r.mp3'), { ...base(s.host), allowHttpCredentials: true });
    expect(auth(s)).toEqual([basic]);
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
  });

  it('are sent over https to the PBX address with its port', async () => {
    const s = await serve(guarded, cert);
    const r = await downloadRecording(s.url('/r.mp3'), { ...base(s.host), fingerprint: cert.fingerprint256 });
    expect(auth(s)).toEqual([basic]);
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
  });

  it('are not sent to another port of the PBX host when the PBX address names no port', async () => {
    const s = await serve(guarded, cert);
    const e = await failure(downloadRecording(s.url('/r.mp3'), { ...base('127.0.0.1'), fingerprint: cert.fingerprint256 }));
    expect(auth(s)).toEqual([undefined]);
    expect(e.message).toContain(`did not send them to port ${s.port}`);
    expect(e.message).toContain(`(127.0.0.1:${s.port})`);
    // Also not over http allowed for credentials.
    const h = await serve(guarded);
    await failure(downloadRecording(h.url('/r.mp3'), { ...base('127.0.0.1'), allowHttpCredentials: true }));
    expect(auth(h)).toEqual([undefined]);
  });

  it('follow a redirect within the same origin', async () => {
    const s = await serve((req, res, n) => (req.url === '/moved' ? void res.writeHead(302, { Location: '/r.mp3' }).end() : guarded(req, res, n)), cert);
    await downloadRecording(s.url('/moved'), { ...base(s.host), fingerprint: cert.fingerprint256 });
    expect(auth(s)).toEqual([basic, basic]);
  });

  it('a redirect to another port is refused when the PBX address names the port: the other server gets nothing', async () => {
    const other = await serve(guarded);
    const s = await serve((_req, res) => res.writeHead(302, { Location: other.url('/r.mp3') }).end());
    const e = await failure(downloadRecording(s.url('/moved'), { ...base(s.host), allowHttpCredentials: true }));
    expect(e.code).toBe('redirect');
    expect(auth(s)).toEqual([basic]);
    expect(other.connections).toBe(0);
  });

  it.runIf(canBindPort80)('are never sent after a redirect to another origin, not even on the way back', async () => {
    const other = await serve((req, res, n) => (n === 1 ? void res.writeHead(302, { Location: `http://${defaultPortHost}/back.mp3` }).end() : guarded(req, res, n)), undefined, {
      host: defaultPortHost,
    });
    const pbx = await serve((req, res) => (req.url === '/moved' ? void res.writeHead(302, { Location: other.url('/r.mp3') }).end() : guarded(req, res, 0)), undefined, {
      host: defaultPortHost,
      port: 80,
    });
    const e = await failure(downloadRecording(`http://${defaultPortHost}/moved`, { ...base(defaultPortHost), allowHttpCredentials: true }));
    // The announced origin (default port) got them; the other port and the return trip did not.
    expect(auth(pbx)).toEqual([basic, undefined]);
    expect(pbx.requests.map((r) => r.url)).toEqual(['/moved', '/back.mp3']);
    expect(auth(other)).toEqual([undefined]);
    expect(e.code).toBe('unauthorized');
    expect(e.message).toContain('after a redirect to another address');
  });
});
