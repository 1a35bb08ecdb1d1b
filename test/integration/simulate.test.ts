// `callpop simulate` against a real listener: any port the listener can bind (fetch refuses its
// "bad ports", e.g. 6000), fresh ids every run so two runs are two complete calls, and the GET
// replay of a transfer gives the transferrer only its own leg's recording (issue 10 items 1-3).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '../../shared/call-record';
import { defaultSettings } from '../../shared/settings';
import { WebhookReceiver } from '../../main/core/receiver/webhook-receiver';
import { runSimulate } from '../../main/cli/simulate';

const secret = 'simulatesecret_0123456789ab';
/** Ports fetch() refuses (Fetch standard "bad ports") that a listener binds fine. */
const fetchBadPorts = [6000, 6665, 6666, 6667, 6668, 6669, 10080];

const services: WebhookReceiver[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function start(extension: string, port: number): Promise<WebhookReceiver> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callpop-simulate-'));
  dirs.push(dataDir);
  const s = await WebhookReceiver.start({
    dataDir,
    settings: { ...defaultSettings(), extension, listenHost: '127.0.0.1', listenPort: port, webhookSecret: secret },
  });
  services.push(s);
  return s;
}

async function simulate(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runSimulate(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

const url = (s: WebhookReceiver) => `http://127.0.0.1:${s.port}/webhook/${secret}`;
const records = (s: WebhookReceiver): CallRecord[] => [...s.store.iterate({})];

describe('callpop simulate', () => {
  it('reaches a listener on a port fetch refuses (6000 or another of its bad ports): every step 200', async () => {
    let port: number | undefined;
    for (const p of fetchBadPorts) {
      if (!(await canBind(p))) continue;
      port = p;
      break;
    }
    expect(port, 'one of the bad ports is free on loopback').toBeDefined();
    const s = await start('202', port!);
    expect(s.port).toBe(port);
    const r = await simulate(['incoming-answered', '--to', url(s)]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(6);
    for (const line of lines) expect(line).toMatch(/^ ?\d\/6 POST 200 /);
    await s.flush();
    expect(records(s).map((x) => [x.extension, x.status, x.result])).toEqual([['202', 'ended', 'answered']]);
  });

  it('run twice: two complete calls, nothing left open (the truncated end id gets a fresh id too)', async () => {
    const s = await start('117', 0);
    for (let i = 0; i < 2; i++) expect((await simulate(['outgoing-answered', '--to', url(s)])).code).toBe(0);
    await s.flush();
    const all = records(s);
    expect(all).toHaveLength(2);
    expect(new Set(all.map((r) => r.id)).size).toBe(2);
    for (const r of all) expect(r).toMatchObject({ status: 'ended', result: 'answered', durationSec: 5 });
    for (const r of all) expect(r.recordings).toHaveLength(1);
    expect(s.openCalls()).toEqual([]);
  });

  it.each(['incoming-attended-transfer', 'incoming-blind-transfer'])('%s --get: the transferrer gets its own leg’s recording only', async (flow) => {
    const s = await start('117', 0);
    expect((await simulate([flow, '--to', url(s), '--get'])).code).toBe(0);
    await s.flush();
    const all = records(s);
    expect(all).toHaveLength(1);
    expect(all[0]!.recordings).toHaveLength(1);
    expect(all[0]!.recordings[0]).toMatch(/_\d+-1-1\.mp3$/); // leg 1: the leg 117 answered (leg 2 is 204's)
  });

  it('cannot reach a closed port: exit 1 with the error code', async () => {
    const s = await start('117', 0);
    const port = s.port!;
    await s.close();
    services.splice(0);
    const r = await simulate(['incoming-answered', '--to', `http://127.0.0.1:${port}/webhook/${secret}`]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });
});
