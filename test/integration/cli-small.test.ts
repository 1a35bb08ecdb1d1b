// The small things an administrator met on the first day (issue #21, item 9), with the BUILT command:
// serve refused for a missing --extension writes nothing; simulate with a wrong secret says so once;
// download to a closed port does not claim a connection was lost; serve says "not answered" for an own
// unanswered call (as log does) and prints "Listening on" once; preview:browser on a machine without a
// display says so instead of trying xdg-open in silence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callpop, cliBuilt, repoRoot, startCallpop } from '../support/built-cli';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-small-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!cliBuilt)('first-day small ones (built)', () => {
  it('serve without --extension: exit 2 and no settings.json (no secret generated)', async () => {
    const data = join(dir, 'no-ext');
    const r = await callpop(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', data]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe('callpop serve: Give your extension with --extension EXT (e.g. --extension 117).');
    expect(existsSync(join(data, 'settings.json'))).toBe(false);
  });

  it('serve prints "Listening on" once and "not answered" for an own unanswered call; simulate with a wrong secret says so once', async () => {
    const serve = startCallpop(['serve', '--extension', '117', '--port', '0', '--host', '127.0.0.1', '--data-dir', join(dir, 'serve')]);
    try {
      const [, url] = await serve.waitFor(/^Listening on (\S+)$/m);
      const wrong = url!.replace(/\/webhook\/.*$/, '/webhook/not-the-secret-at-all');
      const bad = await callpop(['simulate', 'outgoing-unanswered', '--to', wrong, '--extension', '117']);
      expect(bad.code).toBe(1);
      expect(bad.out.trim().split('\n')).toHaveLength(1);
      expect(bad.out).toMatch(/^ 1\/\d+ POST 404 /);
      expect(bad.err).toMatch(/^callpop simulate: http:\/\/127\.0\.0\.1:\d+ answered 404: the secret in --to is not this listener's .*"Listening on".*\n$/);

      const good = await callpop(['simulate', 'outgoing-unanswered', '--to', url!, '--extension', '117']);
      expect(good.code).toBe(0);
      await serve.waitFor(/ not answered +outgoing /);
      expect(serve.out()).not.toMatch(/ missed +outgoing /);
    } finally {
      await serve.stop();
    }
    expect((serve.out() + serve.err()).match(/Listening on/g)).toHaveLength(1);
  });

  it('download to a closed port: "could not connect", not "the connection was lost"', async () => {
    const r = await callpop(['download', 'http://127.0.0.1:9/webapi/recording/x.mp3', '--to', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^callpop download: Could not connect to the PBX \(ECONNREFUSED\): check the URL's host and port, and that the PBX is up/);
    expect(r.err).not.toMatch(/lost/);
    expect(await readdir(dir)).not.toContain('x.mp3');
  }, 30_000);

  it('preview:browser without a display says where to open the page instead of trying xdg-open', async () => {
    const p = startCallpop([], { command: [process.execPath, '--import', 'tsx', join(repoRoot, 'scripts/preview-browser.ts'), '--port', '0'], env: { HOME: dir } });
    try {
      await p.waitFor(/^\(no display here \(DISPLAY and WAYLAND_DISPLAY are unset\): open http:\/\/127\.0\.0\.1:\d+\/index\.html in a browser yourself/m, 'out', 60_000);
    } finally {
      await p.stop();
    }
  }, 90_000);
});
