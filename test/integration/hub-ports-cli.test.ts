// The hub's ports as an administrator meets them (the BUILT command): a WebSocket port in use or
// not allowed for this user, and a webhook port in use, each said in one line (no stack trace, no
// advice about a Settings window the hub does not have), exit 1.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callpop, cliBuilt } from '../support/built-cli';
import { createSystemUser, removeSystemUser, systemUserSkipReason, type SystemUser } from '../support/system-user';

let dir = '';
let taken: Server | null = null;
let takenPort = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-ports-'));
  await chmod(dir, 0o755);
  taken = createServer();
  await new Promise<void>((r) => taken!.listen(0, '127.0.0.1', r));
  takenPort = (taken.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => taken?.close(r));
  await rm(dir, { recursive: true, force: true });
});

const hubArgs = (...more: string[]) => ['hub', '--data-dir', join(dir, 'hub'), '--host', '127.0.0.1', '--port', '0', '--broker-port', '0', ...more];

function oneLine(r: { code: number | null; out: string; err: string }): string {
  expect(r.code).toBe(1);
  expect(r.err).not.toMatch(/\n\s+at |throw er|Usage:/);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  return r.err.trim();
}

describe.skipIf(!cliBuilt)('callpop hub ports (built)', () => {
  it('--broker-ws-port in use: one line naming the port and the flag, exit 1', async () => {
    const r = await callpop(hubArgs('--broker-ws-port', String(takenPort)));
    expect(oneLine(r)).toBe(
      `callpop hub: The broker WebSocket port ${takenPort} is already in use (another broker, e.g. Mosquitto, or another hub?). Choose another with --broker-port/--broker-ws-port, or 0 for a free one.`,
    );
  });

  it('--port in use: one line that points to --port (the hub has no Settings window), exit 1', async () => {
    const line = oneLine(await callpop(['hub', '--data-dir', join(dir, 'hub'), '--host', '127.0.0.1', '--port', String(takenPort), '--broker-port', '0']));
    expect(line).toBe(`callpop hub: Port ${takenPort} is already in use by another program (or another Callpop). Choose another port with --port, or close the other program.`);
  });

  describe.skipIf(systemUserSkipReason !== null)('as a system user (not root)', () => {
    let user: SystemUser | null = null;
    afterEach(() => {
      removeSystemUser(user);
      user = null;
    });
    it('--broker-ws-port 443: one line saying the port needs privileges, exit 1', async () => {
      user = createSystemUser();
      const data = join(dir, `hub-${user.name}`);
      const r0 = await callpop(['hub', 'agent', 'add', 'anna', '--extension', '117', '--data-dir', data]);
      expect(r0.code).toBe(0);
      await chown(data, user.uid, user.gid);
      await chown(join(data, 'agents.json'), user.uid, user.gid);
      const r = await callpop(['hub', '--data-dir', data, '--host', '127.0.0.1', '--port', '0', '--broker-port', '0', '--broker-ws-port', '443'], { uid: user.uid, gid: user.gid, env: { HOME: '/nonexistent' } });
      expect(oneLine(r)).toBe(
        'callpop hub: The broker WebSocket port 443 may not be used by this user (ports below 1024 need root or CAP_NET_BIND_SERVICE). Choose a port above 1024 with --broker-port/--broker-ws-port (e.g. 8083), or give the service AmbientCapabilities=CAP_NET_BIND_SERVICE.',
      );
    });
  });
});
