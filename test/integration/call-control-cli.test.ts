// `callpop hub --source call-control` and `callpop serve --source call-control` on the command line,
// against the fake 3CX Call Control server on loopback: bad flags (one line, exit 2), the status line,
// an agent's desktop (a real HubClient) getting the call, the change lines of serve, `--record-traffic`
// writing what the PBX sent without any secret or token.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../main/cli/index';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { HubClient } from '../../main/core/hub-client/hub-client';
import { participant } from '../support/call-control-scenarios';
import { startFakeCallControl, waitFor, type FakeCallControl } from '../support/fake-3cx-call-control';
import { freePort } from '../support/mosquitto';

const SECRET = 'cli-secret-93be01fa77';
let dir = '';
let fake: FakeCallControl;
let secretFile = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-cc-cli-'));
  fake = await startFakeCallControl({ clients: { callpop: SECRET }, dns: { '117': 'Wextension', '204': 'Wextension' } });
  secretFile = join(dir, 'secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
});
afterEach(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

function start(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const ac = new AbortController();
  const done = main(args, { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config') }, signal: ac.signal });
  return { out, err, stop: async () => (ac.abort(), done), done };
}

describe('flags', () => {
  it.each([
    [['hub', '--source', 'call-control'], '--source call-control needs --pbx URL'],
    [['hub', '--source', 'ccc'], '--source must be webapi or call-control'],
    [['hub', '--pbx', 'https://pbx.example.com'], '--pbx needs --source call-control'],
    [['hub', '--source', 'call-control', '--pbx', 'http://192.0.2.1'], 'accepted only for a loopback address'],
    [['hub', '--source', 'call-control', '--pbx', 'https://pbx.example.com/api'], 'only the scheme, host and port'],
    [['hub', '--source', 'call-control', '--pbx', 'https://pbx.example.com'], '--client-id ID'],
    [['hub', '--source', 'call-control', '--pbx', 'https://pbx.example.com', '--client-id', 'x'], '--client-secret-file FILE'],
    [['serve', '--source', 'call-control', '--pbx', 'https://pbx.example.com', '--client-id', 'x', '--client-secret-file', '/nonexistent/x'], 'cannot read /nonexistent/x'],
  ])('%j → exit 2: %s', async (args, message) => {
    const r = start(args);
    expect(await r.done).toBe(2);
    expect(r.err.join('').split('\n')[0]).toContain(message);
  });
});

describe('running', () => {
  it('callpop hub --source call-control: status line, an agent gets the call, --record-traffic holds the events and no secret or token', async () => {
    const hubDir = join(dir, 'hub');
    const { password } = await addAgent(hubDir, { name: 'anna', extensions: ['117'], displayName: null });
    const brokerPort = await freePort();
    const traffic = join(dir, 'traffic.jsonl');
    const hub = start([
      'hub', '--data-dir', hubDir, '--host', '127.0.0.1', '--port', '0', '--broker-port', String(brokerPort),
      '--source', 'call-control', '--pbx', fake.url, '--client-id', 'callpop', '--client-secret-file', secretFile, '--record-traffic', traffic,
    ]);
    try {
      await waitFor('status line', () => hub.err.join('').includes(`Connected to 3CX Call Control at ${fake.url}, monitoring 2 extensions`));
      const client = await HubClient.start({ dataDir: join(dir, 'anna'), url: `mqtt://127.0.0.1:${brokerPort}`, user: 'anna', password, extension: '117', reconnect: { initialMs: 50, maxMs: 300 } });
      try {
        await waitFor('synced', () => {
          const s = client.currentStatus();
          return s.state === 'connected' && s.synced;
        });
        fake.upsert(participant({ id: 1, dn: '117', status: 'Ringing', callid: 501, callerId: '05551239988', onBehalfOf: ['820', 'Wqueue'] }));
        await waitFor('the agent has the ringing call', () => [...client.store.iterate({})].some((r) => r.id === 'cc501' && r.status === 'ringing'));
        expect([...client.store.iterate({})][0]).toMatchObject({ number: '05551239988', queue: '820', extension: '117' });
        expect(hub.out.join('')).toMatch(/ringing .*05551239988 via queue 820 \(ext 117, seq \d+\)/);
      } finally {
        await client.close();
      }
    } finally {
      expect(await hub.stop()).toBe(0);
    }
    const lines = (await readFile(traffic, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string; path: string; body: unknown });
    expect(lines.map((l) => `${l.kind} ${l.path}`)).toEqual(['get /callcontrol', 'ws /callcontrol/ws', 'get /callcontrol/117/participants/1']);
    expect(lines[1]!.body).toEqual({ sequence: 1, event: { event_type: 0, entity: '/callcontrol/117/participants/1', attached_data: null } });
    const all = `${hub.out.join('')}${hub.err.join('')}${await readFile(traffic, 'utf8')}`;
    expect(all).not.toContain(SECRET);
    expect(all).not.toMatch(/access_token|Bearer/);
  });

  it('callpop serve --source call-control: change lines for the extension, its calls in callpop log', async () => {
    const data = join(dir, 'pc');
    const serve = start(['serve', '--data-dir', data, '--extension', '117', '--source', 'call-control', '--pbx', fake.url, '--client-id', 'callpop', '--client-secret-file', secretFile]);
    try {
      await waitFor('connected', () => serve.err.join('').includes('Connected to 3CX Call Control'));
      expect(serve.out.join('')).toContain(`Tracking extension 117 through 3CX Call Control at ${fake.url}.`);
      fake.upsert(participant({ id: 2, dn: '117', status: 'Dialing', callid: 502, callerId: '05550001111', inbound: false }));
      await waitFor('dialing line', () => /dialing +outgoing 05550001111/.test(serve.out.join('')));
      fake.upsert(participant({ id: 2, dn: '117', status: 'Connected', callid: 502, callerId: '05550001111', inbound: false }));
      await waitFor('answered line', () => /answered +outgoing 05550001111/.test(serve.out.join('')));
      fake.remove('117', 2);
      await waitFor('ended line', () => /ended +outgoing 05550001111/.test(serve.out.join('')));
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    const log = start(['log', '--data-dir', data, '--json']);
    expect(await log.done).toBe(0);
    expect(JSON.parse(log.out.join(''))).toEqual([expect.objectContaining({ id: 'cc502', direction: 'outgoing', result: 'answered', number: '05550001111' })]);
  });
});
