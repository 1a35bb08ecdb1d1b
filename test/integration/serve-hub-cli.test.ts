// `callpop serve --hub` as an agent runs it (the BUILT command) against the built hub with TLS and its
// embedded broker on loopback: an untrusted certificate is one line with what to do (exit 1); --hub-ca
// and --hub-fingerprint trust it; a wrong pin is one line; an extension that is not the agent's is one
// line naming it (exit 1); several --extension are all followed, and with none, every extension the
// hub lists for the agent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendWebhook } from '../../main/core/listener/test-call';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { callpop, cliBuilt, startCallpop, type RunningCli } from '../support/built-cli';
import { selfSignedCert, type SelfSignedCert } from '../support/self-signed-cert';

let dir = '';
let cert: SelfSignedCert;
let hub: RunningCli | null = null;
let webhookUrl = '';
let brokerUrl = '';
let fingerprint = '';
const passwordFiles: Record<string, string> = {};

beforeAll(async () => {
  if (!cliBuilt) return;
  dir = await mkdtemp(join(tmpdir(), 'callpop-serve-hub-'));
  cert = selfSignedCert(dir);
  fingerprint = new X509Certificate(cert.cert).fingerprint256;
  const data = join(dir, 'hub');
  for (const [name, exts] of [['anna', ['117', '118']], ['ben', ['204']]] as const) {
    const r = await callpop(['hub', 'agent', 'add', name, ...exts.flatMap((e) => ['--extension', e]), '--data-dir', data]);
    passwordFiles[name] = join(dir, `${name}.password`);
    await writeFile(passwordFiles[name], `${r.out.trim().split('\n').at(-1)}\n`, { mode: 0o600 });
  }
  hub = startCallpop(['hub', '--data-dir', data, '--host', '127.0.0.1', '--port', '0', '--broker-port', '0', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile]);
  webhookUrl = (await hub.waitFor(/Listening on (\S+)/))[1]!;
  brokerUrl = (await hub.waitFor(/Broker on (mqtts:\/\/\S+)/))[1]!;
}, 60_000);
afterAll(async () => {
  await hub?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const serveArgs = (user: string, ...more: string[]) => ['serve', '--hub', brokerUrl, '--user', user, '--password-file', passwordFiles[user]!, '--data-dir', join(dir, `pc-${user}-${Math.random().toString(36).slice(2)}`), ...more];

let rings = 0;
/** A missed call to `ext` with fresh call ids (the PC's call log keys records by the PBX's call id). */
async function ring(ext: string): Promise<void> {
  const freshIds = { stamp: '261207120000', serial: ++rings * 10 };
  for (const raw of flowRequests(findSeedFlow('incoming-missed')!, { extension: ext, freshIds })) expect((await sendWebhook(webhookUrl, raw, undefined, cert.cert)).status).toBe(200);
}

describe.skipIf(!cliBuilt)('callpop serve --hub (built, TLS hub)', () => {
  it('an untrusted certificate: one line saying why and what to do, exit 1', async () => {
    const r = await callpop(serveArgs('anna', '--extension', '117'));
    expect([r.code, r.out]).toEqual([1, '']);
    expect(r.err).toBe(
      `callpop serve: the hub's certificate at ${brokerUrl} is not trusted: it is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT). Trust its CA with --hub-ca FILE (PEM), or pin it with --hub-fingerprint SHA256 (openssl x509 -in cert.pem -noout -fingerprint -sha256 on the server).\n`,
    );
  });

  it('--hub-ca and --hub-fingerprint trust the hub; a wrong fingerprint is one line, exit 1', async () => {
    for (const trust of [['--hub-ca', cert.certFile], ['--hub-fingerprint', fingerprint]]) {
      const pc = startCallpop(serveArgs('anna', '--extension', '117', ...trust));
      try {
        await pc.waitFor(/Connected to mqtts:/);
      } finally {
        expect((await pc.stop()).code).toBe(0);
      }
    }
    const wrong = await callpop(serveArgs('anna', '--extension', '117', '--hub-fingerprint', 'AB'.repeat(32)));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^callpop serve: the hub's certificate at \S+ is not trusted: it is not the pinned one \(ERR_CERT_PIN_MISMATCH\)\. .*\n$/);
  });

  it('a broker that cannot be reached yet: one warning, retried, Ctrl+C stops it (exit 0)', async () => {
    const pc = startCallpop(['serve', '--hub', 'mqtt://127.0.0.1:9', '--user', 'anna', '--password-file', passwordFiles.anna!, '--extension', '117', '--data-dir', join(dir, 'pc-unreachable')]);
    await pc.waitFor(/^\d\d:\d\d:\d\d warning: cannot reach the hub's broker at mqtt:\/\/127\.0\.0\.1:9 yet \(ECONNREFUSED\); retrying$/m, 'err');
    expect((await pc.stop('SIGINT')).code).toBe(0);
    expect(pc.err().match(/warning/g)).toHaveLength(1);
  });

  it('a password file that cannot be read: one line naming it, exit 1, no usage', async () => {
    const r = await callpop(['serve', '--hub', brokerUrl, '--user', 'anna', '--password-file', dir, '--extension', '117', '--data-dir', join(dir, 'pc-none')]);
    expect([r.code, r.out, r.err]).toEqual([1, '', `callpop serve: --password-file: cannot read ${dir}: it is a folder; give the file.\n`]);
  });

  it("an extension that is not the agent's: one line naming it and the agent's extensions, exit 1", async () => {
    const r = await callpop(serveArgs('anna', '--extension', '204', '--hub-ca', cert.certFile));
    expect([r.code, r.out]).toEqual([1, '']);
    expect(r.err).toBe("callpop serve: extension 204 is not agent anna's on this hub (the agent's: 117, 118). The hub's administrator can add it: callpop hub agent set anna --extension …\n");
  });

  it('follows every --extension given, and with none every extension the hub lists for the agent', async () => {
    for (const exts of [['--extension', '117', '--extension', '118'], []]) {
      const args = serveArgs('anna', '--hub-ca', cert.certFile, ...exts);
      const dataDir = args[args.indexOf('--data-dir') + 1]!;
      const since = new Date().toISOString();
      const pc = startCallpop(args);
      try {
        await pc.waitFor(/^Following extensions 117, 118 through the hub as anna\./m);
        await pc.waitFor(/Connected to mqtts:/);
        // Whatever is published before a subscription holds comes with that extension's backfill.
        await ring('117');
        await ring('118');
        await hub!.waitFor(/\(ext 118, seq/);
        // Each extension's new missed call reaches this PC's call log (live or caught up, whichever
        // came first: the two clients connect independently), and is printed.
        const missedOf = async (): Promise<string[]> => {
          const r = await callpop(['log', '--json', '--since', since, '--data-dir', dataDir]);
          const records = JSON.parse(r.out || '[]') as { extension: string; result: string | null }[];
          return [...new Set(records.filter((x) => x.result === 'missed').map((x) => x.extension))].sort();
        };
        const deadline = Date.now() + 20_000;
        while ((await missedOf()).join() !== '117,118' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        expect(await missedOf()).toEqual(['117', '118']);
        await pc.waitFor(/ missed /);
      } finally {
        expect((await pc.stop()).code).toBe(0);
      }
    }
  });

  it('a call caught up again unchanged (the hub at a new address: a backfill from the start) prints nothing', async () => {
    await ring('117');
    const pcDir = join(dir, 'pc-again');
    const follow = async (url: string): Promise<string> => {
      const pc = startCallpop(['serve', '--hub', url, '--user', 'anna', '--password-file', passwordFiles.anna!, '--extension', '117', '--hub-fingerprint', fingerprint, '--data-dir', pcDir]);
      try {
        await pc.waitFor(/Connected to /);
        // The backfill is complete once this PC saved a sync position for this address (hub-client.json).
        const host = new URL(url).host;
        await new Promise<void>((resolve) => {
          const t = setInterval(() => {
            try {
              const state = JSON.parse(readFileSync(join(pcDir, 'hub-client.json'), 'utf8')) as { synced: Record<string, number> };
              if (Object.entries(state.synced).some(([k, seq]) => k.includes(`//${host}|`) && seq > 0)) {
                clearInterval(t);
                resolve();
              }
            } catch {
              // Not written yet.
            }
          }, 100);
        });
      } finally {
        await pc.stop();
      }
      return pc.out();
    };
    const first = await follow(brokerUrl);
    expect(first).toMatch(/ missed +incoming /);
    // The same broker under another name: another hub key, so everything is caught up again.
    const again = await follow(brokerUrl.replace('127.0.0.1', 'localhost'));
    expect(again).toMatch(/Connected to mqtts:\/\/localhost:/);
    expect(again).not.toMatch(/ updated /);
  });
});

