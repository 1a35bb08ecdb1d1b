// `callpop download` run in-process against real local HTTP and HTTPS servers.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadUsage, runDownloadCommand } from '../../main/cli/download-command';
import { makeCert, serveBytes, startServer } from './fixtures/download/servers';
import type { TestCert, TestServer } from './fixtures/download/servers';

const data = randomBytes(1024 * 1024 + 7);
let dir: string;
let http: TestServer;
let https: TestServer;
let cert: TestCert;

const handler = (req: Parameters<Parameters<typeof startServer>[0]>[0], res: Parameters<Parameters<typeof startServer>[0]>[1]): void => {
  if (req.url === '/missing.mp3') return void res.writeHead(404).end();
  if (req.url === '/private.mp3' && req.headers.authorization !== `Basic ${Buffer.from('rec:s3cret').toString('base64')}`) return void res.writeHead(401).end();
  serveBytes(data, res, req);
};

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runDownloadCommand(argv, {
    stdout: (s) => (out += s),
    stderr: (s) => (err += s),
    env,
    progress: false,
    signal: new AbortController().signal,
    tuning: { retryDelayMs: 10 },
  });
  return { code, out, err };
}

beforeAll(async () => {
  cert = makeCert();
  http = await startServer(handler);
  https = await startServer(handler, cert);
});
afterAll(async () => {
  await http.close();
  await https.close();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callpop-dlc-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('callpop download', () => {
  it('exit 0 and the final path on stdout when the file is complete', async () => {
    const r = await run([http.url('/webapi/recording/230307140234_35-1-1.mp3'), '--to', dir]);
    expect(r).toEqual({ code: 0, out: `${path.join(dir, '230307140234_35-1-1.mp3')}\n`, err: '' });
    expect(fs.readFileSync(path.join(dir, '230307140234_35-1-1.mp3')).equals(data)).toBe(true);
  });

  it('never overwrites an existing file', async () => {
    fs.writeFileSync(path.join(dir, 'a.mp3'), 'keep');
    const r = await run([http.url('/a.mp3'), '--to', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${path.join(dir, 'a (1).mp3')}\n`);
    expect(fs.readFileSync(path.join(dir, 'a.mp3'), 'utf8')).toBe('keep');
  });

  it('shows progress on stderr when asked (TTY)', async () => {
    let err = '';
    const code = await runDownloadCommand([http.url('/p.mp3'), '--to', dir], {
      stdout: () => undefined,
      stderr: (s) => (err += s),
      progress: true,
      signal: new AbortController().signal,
    });
    expect(code).toBe(0);
    expect(err).toMatch(/MB/);
    expect(err.endsWith('\n')).toBe(true);
  });

  it('exit 1 with one clear line when the download fails', async () => {
    const r = await run([http.url('/missing.mp3'), '--to', dir]);
    expect(r).toEqual({ code: 1, out: '', err: 'callpop download: The PBX has no recording at this address (404)\n' });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('exit 1 when the URL is not on the --pbx host; nothing fetched', async () => {
    const before = http.connections;
    const r = await run([http.url('/r.mp3'), '--to', dir, '--pbx', 'pbx.example.com']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^callpop download: Refused: the recording is on 127\.0\.0\.1:\d+, not on the PBX \(pbx\.example\.com\)\n$/);
    expect(http.connections).toBe(before);
  });

  it('exit 1 when the folder does not exist', async () => {
    const r = await run([http.url('/r.mp3'), '--to', path.join(dir, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`callpop download: The download folder ${path.join(dir, 'nope')} does not exist\n`);
  });

  it('https: refused without --fingerprint, accepted with the right one, refused with another', async () => {
    const url = https.url('/s.mp3');
    const untrusted = await run([url, '--to', dir]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.err).toContain('not trusted');
    const ok = await run([url, '--to', dir, '--fingerprint', cert.fingerprint256]);
    expect(ok.code).toBe(0);
    expect(fs.readFileSync(ok.out.trim()).equals(data)).toBe(true);
    const wrong = await run([url, '--to', dir, '--fingerprint', 'AB'.repeat(32)]);
    expect(wrong).toEqual({ code: 1, out: '', err: 'callpop download: The PBX certificate does not match the trusted fingerprint\n' });
  });

  it('--user with --password-env sends Basic credentials from the environment, over http only with --allow-http-credentials', async () => {
    const url = http.url('/private.mp3');
    expect((await run([url, '--to', dir])).code).toBe(1);
    const before = http.requests.length;
    const withheld = await run([url, '--to', dir, '--user', 'rec', '--password-env', 'REC_PW'], { REC_PW: 's3cret' });
    expect(withheld.code).toBe(1);
    expect(withheld.err).toContain('did not send them over plain http');
    expect(http.requests[before]?.headers.authorization).toBeUndefined();
    const r = await run([url, '--to', dir, '--user', 'rec', '--password-env', 'REC_PW', '--allow-http-credentials'], { REC_PW: 's3cret' });
    expect(r.code).toBe(0);
    const tls = await run([https.url('/private.mp3'), '--to', dir, '--fingerprint', cert.fingerprint256, '--user', 'rec', '--password-env', 'REC_PW'], { REC_PW: 's3cret' });
    expect(tls.code).toBe(0);
  });

  it.each([
    [[], 'Give the recording URL.'],
    [['a', 'b'], 'Give exactly one recording URL.'],
    [['not a url'], 'Not a URL'],
    [['ftp://pbx/r.mp3'], 'http:// or https://'],
    [['https://pbx/r.mp3', '--bogus'], 'Unknown option'],
    [['https://pbx/r.mp3', '--fingerprint', 'xyz'], '--fingerprint must be'],
    [['https://pbx/r.mp3', '--pbx', 'http://pbx/'], '--pbx must be'],
    [['https://pbx/r.mp3', '--user', 'u'], '--user and --password-env go together.'],
    [['https://pbx/r.mp3', '--user', 'u', '--password-env', 'UNSET_VAR'], 'UNSET_VAR'],
    [['https://pbx/r.mp3', '--to'], "Option '--to <value>' argument missing"],
    [['https://pbx/r.mp3', '--allow-http-credentials'], '--allow-http-credentials goes with --user.'],
  ])('exit 2 on bad flags %j: the error line, then the usage on its own line', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const [first, ...rest] = r.err.trimEnd().split('\n');
    expect(first).toMatch(/^callpop download: /);
    expect(first).toContain(message);
    expect(rest).toEqual([downloadUsage]);
  });
});
