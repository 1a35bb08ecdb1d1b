import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, createAppProtocolHandler, createMediaProtocolHandler, mediaUrl, parseRange, resolveAppPath } from '../../main/app/protocols';

let dir: string;
let root: string;
let audio: string;
const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-proto-'));
  root = join(dir, 'renderer');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), '<!doctype html><title>main</title>');
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(dir, 'secret.txt'), 'top secret');
  audio = join(dir, 'rec.mp3');
  await writeFile(audio, bytes);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('app:// protocol', () => {
  it('serves renderer files with the CSP header and the right type', async () => {
    const handle = createAppProtocolHandler(root);
    const res = await handle(new Request('app://callpop/index.html'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('<title>main</title>');
    const js = await handle(new Request('app://callpop/assets/app.js'));
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
  });

  it.each([
    'app://callpop/../secret.txt',
    'app://callpop/%2e%2e/secret.txt',
    'app://callpop/assets/%2E%2E/%2E%2E/secret.txt',
    'app://callpop/..%2fsecret.txt',
    'app://callpop/..%5csecret.txt',
    'app://callpop/%00index.html',
    'app://other/index.html',
    'file:///etc/passwd',
  ])('refuses %s', async (url) => {
    const res = await createAppProtocolHandler(root)(new Request(url));
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('top secret');
  });

  it('resolveAppPath keeps paths inside the root', () => {
    expect(resolveAppPath(root, 'app://callpop/')).toBe(join(root, 'index.html'));
    expect(resolveAppPath(root, 'app://callpop/assets/app.js')).toBe(join(root, 'assets', 'app.js'));
    expect(resolveAppPath(root, 'app://callpop/%2e%2e%2fsecret.txt')).toBeNull();
  });
});

describe('callpop-media:// protocol', () => {
  const lookup = (id: string) => (id === 'd1' ? audio : null);

  it('streams a downloaded file, whole or by range (seeking)', async () => {
    const handle = createMediaProtocolHandler(lookup);
    const whole = await handle(new Request(mediaUrl('d1')));
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

    const part = await handle(new Request(mediaUrl('d1'), { headers: { range: 'bytes=100-199' } }));
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/1000');
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);

    const tail = await handle(new Request(mediaUrl('d1'), { headers: { range: 'bytes=-10' } }));
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(990))).toBe(true);

    const bad = await handle(new Request(mediaUrl('d1'), { headers: { range: 'bytes=5000-' } }));
    expect(bad.status).toBe(416);
  });

  it('serves nothing it did not download', async () => {
    const handle = createMediaProtocolHandler(lookup);
    expect((await handle(new Request(mediaUrl('nope')))).status).toBe(404);
    expect((await handle(new Request('callpop-media://recording/..%2F..%2Fsecret.txt'))).status).toBe(404);
    expect((await handle(new Request('callpop-media://elsewhere/d1'))).status).toBe(404);
  });

  it('parseRange', () => {
    expect(parseRange('bytes=0-', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=2-100', 10)).toEqual({ start: 2, end: 9 });
    expect(parseRange('bytes=0-1,4-5', 10)).toBe('ignore');
    expect(parseRange('bytes=9-2', 10)).toBeNull();
  });
});
