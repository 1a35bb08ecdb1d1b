// The shipped systemd unit (deploy/callpop-hub.service), as far as this machine allows without a
// running systemd: `systemd-analyze verify` checks every directive (with ExecStart pointing at a real
// `callpop`), the unit's address families include AF_NETLINK (listing the machine's addresses needs
// it), and the BUILT hub is run as the unit runs it: a system user with no home, umask 0077, and
// os.networkInterfaces() failing as it does without AF_NETLINK. It must start and say what it can.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtCli, cliBuilt, repoRoot, startCallpop } from '../support/built-cli';
import { createSystemUser, removeSystemUser, systemUserSkipReason, type SystemUser } from '../support/system-user';
import { sendWebhook } from '../../main/core/listener/test-call';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';

const unitPath = join(repoRoot, 'deploy/callpop-hub.service');
const unit = readFileSync(unitPath, 'utf8');
const systemdAnalyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const denyInterfaces = join(repoRoot, 'test/support/deny-interfaces.mjs');

/** The value of `Key=` in the unit (last one wins, as in systemd). */
const directive = (key: string): string | undefined =>
  unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .at(-1)
    ?.slice(key.length + 1);

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-unit-'));
  await chmod(dir, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('deploy/callpop-hub.service', () => {
  it.skipIf(!systemdAnalyze)('passes systemd-analyze verify without a warning (ExecStart pointed at a real callpop)', async () => {
    // The unit runs `callpop` from the PATH (the npm package's bin); here a stand-in executable, so
    // verify checks the command exists without an installation.
    const bin = join(dir, 'callpop');
    await writeFile(bin, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const exec = directive('ExecStart')!;
    expect(exec).toMatch(/^\/usr\/bin\/callpop hub /);
    const copy = join(dir, 'callpop-hub.service');
    await writeFile(copy, unit.replace(/^ExecStart=\/usr\/bin\/callpop /m, `ExecStart=${bin} `));
    const r = spawnSync(systemdAnalyze!, ['verify', copy], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('allows the address families the hub uses: IPv4, IPv6, Unix sockets and netlink (the list of addresses)', () => {
    const families = (directive('RestrictAddressFamilies') ?? '').split(/\s+/);
    expect(families).toEqual(expect.arrayContaining(['AF_INET', 'AF_INET6', 'AF_UNIX', 'AF_NETLINK']));
    expect(directive('StateDirectory')).toBe('callpop-hub');
    expect(directive('User')).toBe('callpop-hub');
  });
});

describe.skipIf(!cliBuilt)('the built hub under the unit\'s restrictions', () => {
  let user: SystemUser | null = null;
  afterAll(() => removeSystemUser(user));

  it('starts when the address list cannot be read: prints the URL with the host name and one warning, takes webhooks', async () => {
    const data = join(dir, 'state');
    await mkdir(data, { mode: 0o700 });
    const as: { uid?: number; gid?: number } = {};
    if (!systemUserSkipReason) {
      user = createSystemUser();
      chownSync(data, user.uid, user.gid);
      Object.assign(as, { uid: user.uid, gid: user.gid });
    }
    // The unit's UMask=0077 too (a shell sets it, then becomes the hub).
    expect(directive('UMask')).toBe('0077');
    const hub = startCallpop(['hub', '--data-dir', data, '--port', '0', '--broker-port', '0'], {
      command: ['/bin/sh', '-c', 'umask 0077 && exec "$0" "$@"', process.execPath, '--import', denyInterfaces, builtCli],
      env: { HOME: '/nonexistent' },
      ...as,
    });
    try {
      const [, url] = await hub.waitFor(/Listening on (\S+)/);
      const host = execFileSync('hostname').toString().trim();
      expect(new URL(url!).hostname).toBe(host.toLowerCase());
      await hub.waitFor(/Broker on mqtt:\/\//);
      expect(hub.err()).toMatch(/warning: cannot list this machine's network addresses \(.*error 97.*\)/);
      expect(hub.err().trim().split('\n')).toHaveLength(1);
      // It works: a webhook to the loopback address is taken.
      const local = new URL(url!);
      local.hostname = '127.0.0.1';
      const [first] = flowRequests(findSeedFlow('incoming-answered')!, { extension: '117' });
      const res = await sendWebhook(local.toString(), first!);
      expect(res.status).toBe(200);
    } finally {
      const r = await hub.stop();
      expect(r.code).toBe(0);
    }
    // Under that umask everything the hub wrote is its own only.
    expect(statSync(join(data, 'hub.json')).mode & 0o077).toBe(0);
  });
});
