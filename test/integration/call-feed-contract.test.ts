// Runs the CallFeed contract (test/support/call-feed-contract.ts) against every kind in the feed table,
// each on real parts: the listener feed with its HTTP listener on 127.0.0.1:0, the hub feed against a
// real `callpop hub` (startHub, embedded aedes broker) on loopback with a real agent, the Call Control
// feed against the fake 3CX Call Control server (test/support/fake-3cx-call-control.ts: HTTP and
// WebSocket on loopback). A new kind adds one describeCallFeed(...) call here with its driver.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawWebhook } from '../../shared/webhook/event';
import type { CallFeed } from '../../main/core/feed/call-feed';
import type { HubFeed } from '../../main/core/hub-client/hub-feed';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../main/core/hub/hub';
import { sendWebhook } from '../../main/core/listener/test-call';
import type { CallControlFeed } from '../../main/core/call-control/call-control-feed';
import { contractExtension, contractSettings, describeCallFeed, webhookCall, type ContractCall } from '../support/call-feed-contract';
import { simple, type ScenarioStep } from '../support/call-control-scenarios';
import { startFakeCallControl, type FakeCallControl } from '../support/fake-3cx-call-control';

async function post(url: string, raw: RawWebhook): Promise<void> {
  const { status, body } = await sendWebhook(url, raw);
  if (status !== 200) throw new Error(`webhook answered ${status}: ${body}`);
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// This PC's listener: the feed is its own origin; while it is down the PBX keeps what it could not post.
const pending: RawWebhook[] = [];
describeCallFeed('listener', {
  keepsHistory: true,
  call: webhookCall,
  async setUp() {
    pending.length = 0;
  },
  async tearDown() {},
  settings: () => ({ settings: contractSettings({ source: 'listener', webhookSecret: 'feedcontract_0123456789abcd' }), password: null }),
  ready: async () => {},
  async send(feed, raw) {
    if (!feed) {
      pending.push(raw);
      return;
    }
    await post(feed.addresses()[0]!, raw);
  },
  async retryPending(feed) {
    for (const raw of pending.splice(0)) await post(feed.addresses()[0]!, raw);
  },
  async redeliver(feed, raws) {
    for (const raw of raws) await post(feed.addresses()[0]!, raw);
  },
});

// A hub: the PBX posts to the hub; the feed acknowledges a change by moving its watermark past it.
let hub: Hub | null = null;
let hubDir = '';
let password = '';
/** The hub seq of the newest change of the contract's extension. */
let lastSeq = 0;
const clientOf = (feed: CallFeed) => (feed as HubFeed).client;
describeCallFeed('hub', {
  keepsHistory: true,
  call: webhookCall,
  async setUp() {
    hubDir = await mkdtemp(join(tmpdir(), 'callpop-feed-contract-hub-'));
    password = (await addAgent(hubDir, { name: 'contract', extensions: [contractExtension] })).password;
    hub = await startHub({ dataDir: hubDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, tickMs: 60_000 });
    lastSeq = 0;
    hub.onChange((changes) => {
      for (const c of changes) if (c.record.extension === contractExtension) lastSeq = Math.max(lastSeq, c.seq);
    });
  },
  async tearDown() {
    await hub?.close();
    hub = null;
    await rm(hubDir, { recursive: true, force: true });
  },
  settings: () => ({
    settings: contractSettings({ source: 'hub', hubUrl: hub!.brokerUrl, hubAgent: 'contract' }),
    password,
    extra: { hub: { reconnect: { initialMs: 30, maxMs: 200 }, syncTimeoutMs: 3000 } },
  }),
  ready: (feed) => until(() => clientOf(feed).currentStatus().state === 'connected' && (clientOf(feed).currentStatus() as { synced: boolean }).synced, 'the hub feed connected and caught up'),
  async send(feed, raw) {
    await post(hub!.webhookUrl, raw);
    if (!feed) return;
    const target = lastSeq;
    const client = clientOf(feed);
    // Acknowledged = the watermark (what the hub need not send again) is past the change. It moves only
    // once the change is durable; a refused write leaves it where it is (the wait goes on).
    await until(() => client.syncedSeq >= target, `the watermark past seq ${target}`, 60_000);
  },
  retryPending: async () => {},
  async redeliver(_feed, raws) {
    // The hub takes the PBX's retries; the feed must hear nothing new from them.
    for (const raw of raws) await post(hub!.webhookUrl, raw);
  },
});

// 3CX Call Control: the origin is the PBX's participant list; the feed follows it over the WebSocket
// (each upsert re-fetched) and reconciles from GET /callcontrol after every (re)connect. The PBX has no
// acknowledgement: a step is acknowledged once the feed applied it and everything it took is written
// (a failed write stays unacknowledged until a later commit carries it).
const CC_CLIENT = 'callpop-contract';
const CC_SECRET = 'contract-secret-5e1f7a';
let fake: FakeCallControl | null = null;
let callid = 7000;
/** The clock the feed runs on: real time, moved forward to each step's second into the call. */
let shiftMs = 0;
let callStart = 0;
const ccNow = () => Date.now() + shiftMs;
const ccFeed = (feed: CallFeed) => feed as CallControlFeed;
describeCallFeed<ScenarioStep>('call-control', {
  keepsHistory: false,
  async setUp() {
    fake = await startFakeCallControl({ clients: { [CC_CLIENT]: CC_SECRET }, dns: { [contractExtension]: 'Wextension', '204': 'Wextension' } });
    shiftMs = 0;
  },
  async tearDown() {
    await fake?.close();
    fake = null;
  },
  settings: () => ({
    settings: contractSettings({ source: 'call-control', callControlPbx: fake!.url, callControlClientId: CC_CLIENT }),
    password: null,
    extra: { 'call-control': { clientSecret: CC_SECRET, backoff: { initialMs: 20, maxMs: 100 }, ringEndGraceMs: 50 } },
    now: ccNow,
  }),
  call(flow): ContractCall<ScenarioStep> {
    callid += 1;
    callStart = ccNow();
    // The seed flow's Call Control counterpart (test/support/call-control-scenarios.ts), at the contract's extension.
    const steps = flow === 'incoming-missed' ? simple(callid, contractExtension, { queue: ['820', 'Wqueue'], end: 20 }) : simple(callid, contractExtension, { queue: ['820', 'Wqueue'], answerAt: 2, end: 8 });
    const [ring, ...rest] = steps as [ScenarioStep, ...ScenarioStep[]];
    return { id: `cc${callid}`, ring: [ring], answer: rest.slice(0, -1), end: rest.slice(-1), after: [] };
  },
  ready: (feed) => until(() => ccFeed(feed).client.state === 'connected', 'Call Control connected and reconciled'),
  async send(feed, step) {
    shiftMs = Math.max(shiftMs, callStart + step.at * 1000 - Date.now());
    if ('upsert' in step) fake!.upsert(step.upsert);
    else fake!.remove(step.remove.dn, step.remove.id);
    if (!feed) return;
    const { client, service } = ccFeed(feed);
    const applied = () => {
      const p = 'upsert' in step ? client.participant(step.upsert.dn, step.upsert.id) : undefined;
      return 'upsert' in step ? p?.status === step.upsert.status : client.participant(step.remove.dn, step.remove.id) === undefined;
    };
    await until(applied, 'the step applied by the client');
    // Acknowledged = everything the feed took so far is on disk.
    const end = Date.now() + 60_000;
    for (;;) {
      await service.flush();
      if (service.unwritten === 0) return;
      if (Date.now() > end) throw new Error('a write stayed unwritten');
      await new Promise((r) => setTimeout(r, 10));
    }
  },
  retryPending: async () => {},
  async redeliver(feed, steps) {
    // The same events again (each upsert re-fetched: a removed participant answers 404), then a
    // reconnect, which reconciles from the snapshot.
    for (const step of steps) {
      const [type, dn, id] = 'upsert' in step ? [0, step.upsert.dn, step.upsert.id] : [1, step.remove.dn, step.remove.id];
      fake!.sendRaw(JSON.stringify({ sequence: 1, event: { event_type: type, entity: `/callcontrol/${dn}/participants/${id}`, attached_data: null } }));
    }
    const client = ccFeed(feed).client;
    await new Promise((r) => setTimeout(r, 100));
    const down = new Promise<void>((resolve) => {
      const off = client.stateChanged((s) => {
        if (s === 'reconnecting') {
          off();
          resolve();
        }
      });
    });
    client.reconnectNow();
    await down;
    await until(() => client.state === 'connected', 'reconnected');
    await ccFeed(feed).service.flush();
  },
});
