// A renewed certificate without a restart (the BUILT hub with --tls-cert/--tls-key, embedded broker
// with TLS and wss): when the files change, new connections to the webhook port, the mqtts port and
// the wss port get the new certificate; on SIGHUP (`systemctl reload`) likewise, even with the files'
// times unchanged; a pair that does not load keeps the old certificate and says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { cliBuilt, startCallpop, type RunningCli } from '../support/built-cli';
import { selfSignedCert, type SelfSignedCert } from '../support/self-signed-cert';

let dir = '';
let hub: RunningCli | null = null;
const certs: SelfSignedCert[] = [];
const live = { cert: '', key: '' };
let ports: number[] = [];

/** The SHA-256 fingerprint a new TLS connection to `port` sees. */
function served(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.once('error', reject);
  });
}
const fingerprint = (c: SelfSignedCert): string => new X509Certificate(c.cert).fingerprint256;
async function expectServed(c: SelfSignedCert): Promise<void> {
  for (const port of ports) expect([port, await served(port)]).toEqual([port, fingerprint(c)]);
}
function install(c: SelfSignedCert): void {
  copyFileSync(c.certFile, live.cert);
  copyFileSync(c.keyFile, live.key);
}

beforeAll(async () => {
  if (!cliBuilt) return;
  dir = await mkdtemp(join(tmpdir(), 'callpop-tls-reload-'));
  for (const name of ['a', 'b', 'c']) {
    await mkdir(join(dir, name));
    certs.push(selfSignedCert(join(dir, name), { cn: `hub-${name}` }));
  }
  live.cert = join(dir, 'cert.pem');
  live.key = join(dir, 'key.pem');
  install(certs[0]!);
  hub = startCallpop(['hub', '--data-dir', join(dir, 'hub'), '--host', '127.0.0.1', '--port', '0', '--broker-port', '0', '--broker-ws-port', '0', '--tls-cert', live.cert, '--tls-key', live.key]);
  const web = Number((await hub.waitFor(/Listening on https:\/\/127\.0\.0\.1:(\d+)/))[1]);
  const mqtts = Number((await hub.waitFor(/Broker on mqtts:\/\/127\.0\.0\.1:(\d+)/))[1]);
  const wss = Number((await hub.waitFor(/Broker on wss:\/\/127\.0\.0\.1:(\d+)/))[1]);
  ports = [web, mqtts, wss];
}, 60_000);
afterAll(async () => {
  await hub?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!cliBuilt)('callpop hub: TLS certificate reload (built)', () => {
  it('picks up renewed files on the webhook, mqtts and wss ports', async () => {
    await expectServed(certs[0]!);
    install(certs[1]!);
    await hub!.waitFor(/TLS certificate reloaded \(the files changed\): CN=hub-b/, 'err');
    await expectServed(certs[1]!);
  });

  it('reloads on SIGHUP (files replaced with their times kept)', async () => {
    const before = statSync(live.cert);
    install(certs[2]!);
    for (const f of [live.cert, live.key]) utimesSync(f, before.atime, before.mtime);
    hub!.child.kill('SIGHUP');
    await hub!.waitFor(/TLS certificate reloaded \(SIGHUP\): CN=hub-c/, 'err');
    await expectServed(certs[2]!);
  });

  it('keeps the old certificate when the new pair does not load, and says so', async () => {
    copyFileSync(certs[0]!.certFile, live.cert);
    writeFileSync(live.key, 'not a key\n');
    hub!.child.kill('SIGHUP');
    await hub!.waitFor(/error: TLS certificate not reloaded \(SIGHUP\); the old one stays in use: /, 'err');
    await expectServed(certs[2]!);
    expect(hub!.child.exitCode).toBe(null);
  });
});
