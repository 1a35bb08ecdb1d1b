// `callpop hub agent remove` (and a password change) on a running hub's data folder: once the command
// exits 0, no login with the old credentials succeeds and nothing more reaches the old connections;
// without a running hub it says so. Also the hub's folder modes (0700, calls.lock 0600). Real hub on
// loopback, the command run in-process as the CLI runs it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../main/cli/index';
import { agentClientId, topics } from '../../shared/hub-protocol';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { hubLogDirName } from '../../main/core/hub/hub';
import { sendWebhook } from '../../main/core/listener/test-call';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { rawConnect } from '../support/mqtt-raw';
import { HubHarness, collect, grantedQos, sleep } from './hub-helpers';

const h = new HubHarness();
beforeEach(() => h.init());
afterEach(() => h.cleanup());

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => (out += s), stderr: (s) => (err += s), env: { HOME: h.dataDir, XDG_CONFIG_HOME: join(h.dataDir, 'config') } });
  return { code, out, err };
}

describe('hub agent remove on a running hub', () => {
  it('exits 0 only once the hub applied it: the old password is refused at once and the removed agent gets nothing more, while logins hammer the broker', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    // The poll is slow here: what makes it immediate is the hub's confirmation, not the poll.
    await h.start({ agentsPollMs: 60_000 });
    const port = Number(new URL(h.hub!.brokerUrl).port);
    const c = await h.connect('anna', anna.password);
    const got = collect(c);
    expect(await grantedQos(c, topics.calls('default', '202'))).toBe(1);
    // Anna's other PC logs in again and again, so a login is always under way when the removal lands.
    let hammering = true;
    const hammer = (async () => {
      while (hammering) await rawConnect({ port, clientId: agentClientId('anna', 'other'), username: 'anna', password: anna.password });
    })();
    await sleep(200);
    const removed = await cli(['hub', 'agent', 'remove', 'anna', '--data-dir', h.dataDir]);
    const exitedAt = got.length;
    expect(removed).toMatchObject({ code: 0 });
    expect(removed.err).toContain('The running hub applied it');
    const after = await rawConnect({ port, clientId: agentClientId('anna', 'late'), username: 'anna', password: anna.password });
    expect(after.code).toBe(4);
    for (const raw of flowRequests(findSeedFlow('incoming-missed')!, { freshIds: { stamp: '261207120001' } })) expect((await sendWebhook(h.hub!.webhookUrl, raw)).status).toBe(200);
    await sleep(300);
    hammering = false;
    await hammer;
    expect(got.length).toBe(exitedAt);
    expect(c.connected).toBe(false);
  });

  it('applies a password change the same way (replace = new password), and says so when no hub runs', async () => {
    const old = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    const noHub = await cli(['hub', 'agent', 'remove', 'anna', '--data-dir', h.dataDir]);
    expect(noHub.code).toBe(0);
    expect(noHub.err).toContain(`No hub is running on ${h.dataDir}; it applies when the hub starts.`);
    await addAgent(h.dataDir, { name: 'anna', extensions: ['202'], password: old.password });
    await h.start({ agentsPollMs: 60_000 });
    const port = Number(new URL(h.hub!.brokerUrl).port);
    expect((await rawConnect({ port, clientId: agentClientId('anna'), username: 'anna', password: old.password })).code).toBe(0);
    const changed = await cli(['hub', 'agent', 'add', 'anna', '--extension', '202', '--replace', '--data-dir', h.dataDir]);
    expect(changed.code).toBe(0);
    expect(changed.err).toContain('The running hub applied it');
    expect((await rawConnect({ port, clientId: agentClientId('anna'), username: 'anna', password: old.password })).code).toBe(4);
  });
});

describe.skipIf(process.platform === 'win32')("the hub's folder modes", () => {
  it('creates its data folder and hub-log 0700, and calls.lock 0600', async () => {
    const dataDir = join(h.dataDir, 'fresh', 'hub');
    await addAgent(dataDir, { name: 'anna', extensions: ['202'] });
    h.hub = await (await import('../../main/core/hub/hub')).startHub({ dataDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 } });
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, hubLogDirName))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dataDir, hubLogDirName, 'calls.lock'))).mode & 0o777).toBe(0o600);
  });
});
