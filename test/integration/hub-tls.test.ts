// The hub with --tls-*: HTTPS webhooks, MQTT over TLS and MQTT over secure WebSocket on the embedded
// broker, with a real certificate made by openssl; and plain MQTT over WebSocket without TLS.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { findSeedFlow, flowRequests } from '../../shared/webhook/seed-flows';
import { agentClientId, callChangeMessageSchema, topics } from '../../shared/hub-protocol';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { sendWebhook } from '../../main/core/listener/test-call';
import { HubHarness, collect, until } from './hub-helpers';
import { selfSignedCert } from '../support/self-signed-cert';

const h = new HubHarness();
let certDir = '';
let cert = '';
let key = '';
beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), 'callpop-hub-tls-'));
  ({ cert, key } = selfSignedCert(certDir));
});
afterAll(() => rmSync(certDir, { recursive: true, force: true }));
beforeEach(() => h.init());
afterEach(() => h.cleanup());

function postHttps(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', ca: cert, agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('hub with TLS', () => {
  it('takes webhooks over HTTPS and serves agents over mqtts:// and wss:// with the same certificate', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start({ tls: { cert, key }, broker: { kind: 'embedded', host: '127.0.0.1', port: 0, wsPort: 0 } });
    expect(h.hub!.webhookUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/webhook\//);
    expect(h.hub!.brokerUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(h.hub!.brokerWsUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const overTls = await mqtt.connectAsync(h.hub!.brokerUrl, { username: 'anna', password: anna.password, clientId: agentClientId('anna'), ca: cert, reconnectPeriod: 0 });
    const overWss = await mqtt.connectAsync(h.hub!.brokerWsUrl!, { username: 'anna', password: anna.password, clientId: agentClientId('anna'), ca: cert, reconnectPeriod: 0 });
    h.clients.push(overTls, overWss);
    const [a, b] = [collect(overTls), collect(overWss)];
    await overTls.subscribeAsync(topics.calls('default', '202'), { qos: 1 });
    await overWss.subscribeAsync(topics.calls('default', '202'), { qos: 1 });
    for (const raw of flowRequests(findSeedFlow('incoming-answered')!, { validJson: true })) expect(await postHttps(h.hub!.webhookUrl, raw.body)).toBe(200);
    const ended = (got: typeof a) => got.some((m) => callChangeMessageSchema.parse(m.json).change === 'recording');
    await until(() => ended(a) && ended(b), 'the call over mqtts and wss');
    expect(a.map((m) => m.text)).toEqual(b.map((m) => m.text));
    // A client that does not trust the certificate is refused by TLS itself.
    await expect(mqtt.connectAsync(h.hub!.brokerUrl, { username: 'anna', password: anna.password, clientId: agentClientId('anna'), reconnectPeriod: 0, connectTimeout: 2000 })).rejects.toThrow(/self.signed|certificate/i);
  });

  it('serves MQTT over plain WebSocket with --broker-ws-port and no TLS', async () => {
    const anna = await addAgent(h.dataDir, { name: 'anna', extensions: ['202'] });
    await h.start({ broker: { kind: 'embedded', host: '127.0.0.1', port: 0, wsPort: 0 } });
    expect(h.hub!.brokerWsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const c = await mqtt.connectAsync(h.hub!.brokerWsUrl!, { username: 'anna', password: anna.password, clientId: agentClientId('anna'), reconnectPeriod: 0 });
    h.clients.push(c);
    const got = collect(c);
    await c.subscribeAsync(topics.calls('default', '202'), { qos: 1 });
    for (const raw of flowRequests(findSeedFlow('incoming-missed')!)) expect((await sendWebhook(h.hub!.webhookUrl, raw)).status).toBe(200);
    await until(() => got.some((m) => callChangeMessageSchema.parse(m.json).change === 'missed'), 'missed over ws');
    // Wrong password over WebSocket: CONNACK 4 as over TCP.
    const err = await mqtt.connectAsync(h.hub!.brokerWsUrl!, { username: 'anna', password: 'nope-nope', clientId: agentClientId('anna'), reconnectPeriod: 0 }).then(
      () => null,
      (e: Error & { code?: number }) => e.code,
    );
    expect(err).toBe(4);
  });
});
