// The recording downloader against real HTTP and HTTPS servers on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadRecording } from '../../main/core/download/downloader';
import type { DownloadRecordingOptions } from '../../main/core/download/downloader';
import { DownloadError, fileError, networkError } from '../../main/core/download/errors';
import { numberedName, publishFile, reserveUniqueName } from '../../main/core/download/unique-file';
import { makeCert, serveBytes, serveThenCut, startServer } from './fixtures/download/servers';
import type { TestCert, TestServer } from './fixtures/download/servers';

const data = randomBytes(3 * 1024 * 1024 + 123);
const fast = { retryDelayMs: 10, idleTimeoutMs: 5_000 } satisfies Partial<DownloadRecordingOptions>;

let dir: string;
const servers: TestServer[] = [];
const serve = async (...args: Parameters<typeof startServer>): Promise<TestServer> => {
  const s = await startServer(...args);
  servers.push(s);
  return s;
};

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callpop-dl-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Run a download expected to fail and return its DownloadError. */
async function failure(p: Promise<unknown>): Promise<DownloadError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  return err as DownloadError;
}

const files = (): string[] => fs.readdirSync(dir).sort();

describe('downloadRecording over http', () => {
  it('saves the exact bytes under the final name and leaves no temp file', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req));
    const seen: number[] = [];
    const r = await downloadRecording(s.url('/webapi/recording/1-1.mp3'), {
      ...fast,
      pbxHost: s.host,
      destDir: dir,
      fileName: 'call.mp3',
      progressIntervalMs: 0,
      onProgress: (p) => seen.push(p.receivedBytes),
    });
    expect(r.path).toBe(path.join(dir, 'call.mp3'));
    expect(r.bytes).toBe(data.length);
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
    expect(files()).toEqual(['call.mp3']);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBeLessThanOrEqual(data.length);
    expect(s.requests[0]?.headers['accept-encoding']).toBe('identity');
  });

  it('never overwrites: an existing name gets " (1)", the old file stays as it was', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req));
    fs.writeFileSync(path.join(dir, 'call.mp3'), 'old');
    const r = await downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'call.mp3' });
    expect(path.basename(r.path)).toBe('call (1).mp3');
    expect(fs.readFileSync(path.join(dir, 'call.mp3'), 'utf8')).toBe('old');
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
  });

  it('re-sanitizes a hostile file name, so it stays inside the folder', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req));
    const r = await downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: '../../etc/CON\u0000.mp3' });
    expect(path.dirname(r.path)).toBe(dir);
    expect(files()).toEqual([path.basename(r.path)]);
    expect(path.basename(r.path)).not.toMatch(/[/\\]/);
    expect(path.basename(r.path).includes('\u0000')).toBe(false);
  });

  it('404 → clear message, nothing left behind, no retry', async () => {
    const s = await serve((_req, res) => res.writeHead(404).end('no'));
    const e = await failure(downloadRecording(s.url('/x.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    expect(e.message).toBe('The PBX has no recording at this address (404)');
    expect(s.requests).toHaveLength(1);
    expect(files()).toEqual([]);
  });

  it('401 and 403 are explained and not retried', async () => {
    const s = await serve((req, res) => res.writeHead(req.url === '/a' ? 401 : 403).end());
    const e1 = await failure(downloadRecording(s.url('/a'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    const e2 = await failure(downloadRecording(s.url('/b'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    expect(e1.code).toBe('unauthorized');
    expect(e1.message).toContain('401');
    expect(e2.code).toBe('forbidden');
    expect(s.requests).toHaveLength(2);
    expect(files()).toEqual([]);
  });

  it('an HTML page or an empty body is not saved as a recording', async () => {
    const s = await serve((req, res) =>
      req.url === '/html' ? res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<html>login</html>') : res.writeHead(200, { 'Content-Length': '0' }).end(),
    );
    const html = await failure(downloadRecording(s.url('/html'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    expect(html.message).toContain('web page');
    const empty = await failure(downloadRecording(s.url('/empty'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    expect(empty.message).toBe('The PBX sent an empty recording');
    expect(s.requests).toHaveLength(2);
    expect(files()).toEqual([]);
  });

  it('500 then success on the retry', async () => {
    const s = await serve((req, res, n) => (n === 1 ? res.writeHead(500).end('boom') : serveBytes(data, res, req)));
    const r = await downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' });
    expect(s.requests).toHaveLength(2);
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
    expect(files()).toEqual(['a.mp3']);
  });

  it('5xx on every try → bounded tries, clear message, nothing left', async () => {
    const s = await serve((_req, res) => res.writeHead(503).end());
    const e = await failure(downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    expect(s.requests).toHaveLength(3);
    expect(e.code).toBe('server');
    expect(e.message).toContain('HTTP 503');
    expect(e.message).toContain('after 3 tries');
    expect(files()).toEqual([]);
  });

  it('connection cut halfway → resumes with Range + If-Range, byte-identical result', async () => {
    const half = Math.floor(data.length / 2);
    const s = await serve((req, res, n) => (n === 1 ? serveThenCut(data, half, res) : serveBytes(data, res, req)));
    const r = await downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' });
    expect(s.requests).toHaveLength(2);
    expect(s.requests[0]?.headers.range).toBeUndefined();
    const range = /^bytes=(\d+)-$/.exec(s.requests[1]?.headers.range ?? '');
    expect(range).not.toBeNull();
    expect(Number(range?.[1])).toBeGreaterThan(0);
    expect(Number(range?.[1])).toBeLessThanOrEqual(half);
    expect(s.requests[1]?.headers['if-range']).toBe('"rec-1"');
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
    expect(files()).toEqual(['a.mp3']);
  });

  it('server ignoring Range (200 on resume) → restarts cleanly from byte 0', async () => {
    const half = Math.floor(data.length / 2);
    const s = await serve((req, res, n) => (n === 1 ? serveThenCut(data, half, res) : serveBytes(data, res, req, { ignoreRange: true })));
    const r = await downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' });
    expect(s.requests[1]?.headers.range).toMatch(/^bytes=\d+-$/);
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
  });

  it('changed recording (ETag differs) → If-Range makes the server send it whole; result is the new one', async () => {
    const other = randomBytes(data.length);
    const half = Math.floor(data.length / 2);
    const s = await serve((req, res, n) => (n === 1 ? serveThenCut(data, half, res, '"v1"') : serveBytes(other, res, req, { etag: '"v2"' })));
    const r = await downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' });
    expect(s.requests[1]?.headers['if-range']).toBe('"v1"');
    expect(fs.readFileSync(r.path).equals(other)).toBe(true);
  });

  it('Content-Length that lies (short body) → retried, then a clear error and no file', async () => {
    const s = await serve((_req, res) => serveThenCut(data, 1000, res));
    const e = await failure(downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    expect(e.code).toBe('connection');
    expect(s.requests).toHaveLength(3);
    expect(files()).toEqual([]);
  });

  it('endless body → stopped at the size cap, no file', async () => {
    const chunk = Buffer.alloc(64 * 1024, 1);
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'audio/mpeg' });
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const e = await failure(downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3', maxBytes: 1024 * 1024 }));
    expect(e.code).toBe('too-large');
    expect(files()).toEqual([]);
  });

  it('announced size above the cap → refused before reading the body', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(5 * 1024 ** 3) });
      res.write('x');
    });
    const e = await failure(downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    expect(e.code).toBe('too-large');
    expect(files()).toEqual([]);
  });

  it('silent server → idle timeout, tries bounded, no file', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('partial');
    });
    const e = await failure(
      downloadRecording(s.url('/r.mp3'), { ...fast, idleTimeoutMs: 200, maxTries: 2, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }),
    );
    expect(e.code).toBe('timeout');
    expect(s.requests).toHaveLength(2);
    expect(files()).toEqual([]);
  });

  it('cancel mid-body removes the temp file', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': data.length });
      res.write(data.subarray(0, 512 * 1024)); // then hang
    });
    const ac = new AbortController();
    const e = await failure(
      downloadRecording(s.url('/r.mp3'), {
        ...fast,
        pbxHost: s.host,
        destDir: dir,
        fileName: 'a.mp3',
        signal: ac.signal,
        progressIntervalMs: 0,
        onProgress: () => ac.abort(),
      }),
    );
    expect(e.code).toBe('canceled');
    expect(files()).toEqual([]);
  });

  it('sends Basic credentials (UTF-8) when given and http is allowed for them (the rules: download-credentials.test.ts)', async () => {
    const s = await serve((req, res) => (req.headers.authorization === `Basic ${Buffer.from('rec:pä ss').toString('base64')}` ? serveBytes(data, res, req) : res.writeHead(401).end()));
    const r = await downloadRecording(s.url('/r.mp3'), {
      ...fast,
      pbxHost: s.host,
      destDir: dir,
      fileName: 'a.mp3',
      credentials: { username: 'rec', password: 'pä ss' },
      allowHttpCredentials: true,
    });
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
  });

  it('follows a redirect on the PBX host, refuses one to another host, and stops after 3', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/moved') return res.writeHead(302, { Location: '/r.mp3' }).end();
      if (req.url === '/away') return res.writeHead(302, { Location: `http://localhost:${s.port}/r.mp3` }).end();
      if (req.url?.startsWith('/loop')) return res.writeHead(302, { Location: `/loop${req.url.length}` }).end();
      serveBytes(data, res, req);
    });
    const r = await downloadRecording(s.url('/moved'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' });
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
    const before = s.requests.length;
    const away = await failure(downloadRecording(s.url('/away'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'b.mp3' }));
    expect(away.code).toBe('redirect');
    expect(s.requests.length).toBe(before + 1);
    const loop = await failure(downloadRecording(s.url('/loop'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'c.mp3' }));
    expect(loop.message).toContain('more than 3');
    expect(files()).toEqual(['a.mp3']);
  });
});

describe('folder and disk failures', () => {
  it('download folder removed during the download → "does not exist", nothing left', async () => {
    const sub = path.join(dir, 'recordings');
    fs.mkdirSync(sub);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': data.length });
      res.write(data.subarray(0, 256 * 1024), () => void gate.then(() => res.end(data.subarray(256 * 1024))));
    });
    const p = downloadRecording(s.url('/r.mp3'), {
      ...fast,
      pbxHost: s.host,
      destDir: sub,
      fileName: 'a.mp3',
      progressIntervalMs: 0,
      onProgress: () => {
        if (fs.existsSync(sub)) {
          fs.rmSync(sub, { recursive: true, force: true });
          release();
        }
      },
    });
    const e = await failure(p);
    expect(e.code).toBe('no-folder');
    expect(e.message).toBe(`The download folder ${sub} does not exist`);
    expect(fs.existsSync(sub)).toBe(false);
  });

  it('maps disk and permission errors to one-line messages', () => {
    const err = (code: string): Error => Object.assign(new Error(`${code}: x`), { code });
    expect(fileError(err('ENOSPC'), '/rec').message).toBe('Disk full: no space left in /rec for the recording');
    expect(fileError(err('EACCES'), '/rec').code).toBe('no-access');
    expect(fileError(err('ENOENT'), '/rec').message).toBe('The download folder /rec does not exist');
    expect(networkError(err('ECONNRESET')).retryable).toBe(true);
    expect(networkError(err('DEPTH_ZERO_SELF_SIGNED_CERT')).retryable).toBe(false);
  });
});

describe('free file names', () => {
  it('reserveUniqueName claims the first free name atomically, also under concurrency', async () => {
    fs.writeFileSync(path.join(dir, 'a.mp3'), 'x');
    fs.writeFileSync(path.join(dir, 'a (1).mp3'), 'x');
    const names = await Promise.all(Array.from({ length: 5 }, () => reserveUniqueName(dir, 'a.mp3')));
    expect(names.map((n) => path.basename(n)).sort()).toEqual(['a (2).mp3', 'a (3).mp3', 'a (4).mp3', 'a (5).mp3', 'a (6).mp3']);
    expect(fs.readFileSync(path.join(dir, 'a.mp3'), 'utf8')).toBe('x');
    expect(numberedName('b', 3)).toBe('b (3)');
  });

  it('publishFile never replaces an existing file, even when several finish at once', async () => {
    fs.writeFileSync(path.join(dir, 'r.mp3'), 'old');
    const temps = [0, 1, 2].map((i) => {
      const t = path.join(dir, `.t${i}.part`);
      fs.writeFileSync(t, `new${i}`);
      return t;
    });
    const out = await Promise.all(temps.map((t) => publishFile(t, dir, 'r.mp3')));
    expect(new Set(out).size).toBe(3);
    expect(fs.readFileSync(path.join(dir, 'r.mp3'), 'utf8')).toBe('old');
    expect(out.map((p) => fs.readFileSync(p, 'utf8')).sort()).toEqual(['new0', 'new1', 'new2']);
    expect(files()).toEqual(['r (1).mp3', 'r (2).mp3', 'r (3).mp3', 'r.mp3']);
  });
});

describe('refusals before any network access', () => {
  it('wrong host: refused, the server sees no connection', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req));
    // "localhost" resolves to this very server, so any lookup + connect would show up.
    for (const url of [`http://localhost:${s.port}/r.mp3`, `http://127.0.0.1:${s.port + 1}/r.mp3`, `ftp://127.0.0.1:${s.port}/r.mp3`]) {
      const e = await failure(downloadRecording(url, { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
      expect(['wrong-host', 'bad-url']).toContain(e.code);
    }
    expect(s.connections).toBe(0);
    expect(files()).toEqual([]);
  });

  it('userinfo in the URL is refused', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req));
    const e = await failure(downloadRecording(`http://user:pw@127.0.0.1:${s.port}/r.mp3`, { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    expect(e.code).toBe('userinfo');
    expect(s.connections).toBe(0);
  });

  it('host matching is case-insensitive; a PBX host without port accepts any port', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req));
    const r = await downloadRecording(`http://127.0.0.1:${s.port}/r.mp3`, { ...fast, pbxHost: '127.0.0.1', destDir: dir, fileName: 'a.mp3' });
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
    const r2 = await downloadRecording(`HTTP://LOCALHOST:${s.port}/r.mp3`, { ...fast, pbxHost: `LocalHost:${s.port}`, destDir: dir, fileName: 'b.mp3' });
    expect(fs.readFileSync(r2.path).equals(data)).toBe(true);
  });

  it('an unresolvable PBX host (.invalid never resolves, RFC 2606) → "not found", tried once, nothing left', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    // A retry would wait a minute first: the test would time out.
    const e = await failure(downloadRecording('http://pbx.invalid/r.mp3', { pbxHost: 'pbx.invalid', destDir: dir, fileName: 'a.mp3', maxTries: 3, retryDelayMs: 60_000, logger }));
    expect(e.code).toBe('host-not-found');
    expect(e.message).toBe('The PBX host pbx.invalid was not found (no such name in DNS); check the PBX address (and the VPN, for an internal name)');
    expect(warnings).toEqual([]);
    expect(files()).toEqual([]);
  });

  it('no PBX host configured → the Settings message', async () => {
    const e = await failure(downloadRecording('https://pbx.example.com/r.mp3', { pbxHost: '', destDir: dir, fileName: 'a.mp3' }));
    expect(e.message).toBe('Set the PBX address in Settings before downloading recordings');
  });

  it('missing destination folder → clear message, no request', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req));
    const gone = path.join(dir, 'gone');
    const e = await failure(downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: gone, fileName: 'a.mp3' }));
    expect(e.code).toBe('no-folder');
    expect(e.message).toBe(`The download folder ${gone} does not exist`);
    expect(s.connections).toBe(0);
  });

  it.skipIf(process.getuid?.() === 0)('read-only destination folder → permission message, nothing fetched', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req));
    fs.chmodSync(dir, 0o500);
    try {
      const e = await failure(downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
      expect(e.code).toBe('no-access');
      expect(s.connections).toBe(0);
    } finally {
      fs.chmodSync(dir, 0o700);
    }
  });
});

describe('downloadRecording over https', () => {
  let certA: TestCert;
  let certB: TestCert;
  beforeAll(() => {
    certA = makeCert('pbx-a');
    certB = makeCert('pbx-b');
  });
  afterAll(() => undefined);

  it('self-signed certificate without a trusted fingerprint is refused, nothing is sent', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req), certA);
    const e = await failure(downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, destDir: dir, fileName: 'a.mp3' }));
    expect(e.code).toBe('cert-untrusted');
    expect(e.message).toContain('fingerprint');
    expect(s.requests).toHaveLength(0);
    expect(files()).toEqual([]);
  });

  it('trusted fingerprint (any case, with or without colons) is accepted', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req), certA);
    const r = await downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, fingerprint: certA.fingerprint256.toLowerCase(), destDir: dir, fileName: 'a.mp3' });
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
    const r2 = await downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, fingerprint: certA.fingerprint256.replace(/:/g, ''), destDir: dir, fileName: 'b.mp3' });
    expect(fs.readFileSync(r2.path).equals(data)).toBe(true);
  });

  it('resume works through the pinned connection too', async () => {
    const half = Math.floor(data.length / 2);
    const s = await serve((req, res, n) => (n === 1 ? serveThenCut(data, half, res) : serveBytes(data, res, req)), certA);
    const r = await downloadRecording(s.url('/r.mp3'), { ...fast, pbxHost: s.host, fingerprint: certA.fingerprint256, destDir: dir, fileName: 'a.mp3' });
    expect(s.requests[1]?.headers.range).toMatch(/^bytes=\d+-$/);
    expect(fs.readFileSync(r.path).equals(data)).toBe(true);
  });

  it('another certificate than the trusted one is refused before any request byte is sent', async () => {
    const s = await serve((req, res) => serveBytes(data, res, req), certA);
    const e = await failure(
      downloadRecording(s.url('/r.mp3'), {
        ...fast,
        pbxHost: s.host,
        fingerprint: certB.fingerprint256,
        destDir: dir,
        fileName: 'a.mp3',
        credentials: { username: 'u', password: 'secret' },
      }),
    );
    expect(e.message).toBe('The PBX certificate does not match the trusted fingerprint');
    expect(s.connections).toBeGreaterThan(0);
    expect(s.requests).toHaveLength(0);
    expect(files()).toEqual([]);
  });
});
