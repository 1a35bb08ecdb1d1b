// Runs the CallFeed contract (test/support/call-feed-contract.ts) against every kind in the feed table,
// each on real parts: the listener feed with its HTTP listener on 127.0.0.1:0, the hub feed against a
// real `callpop hub` (startHub, embedded aedes broker) on loopback with a real agent. A new kind adds
// one describeCallFeed(...) call here with its driver.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawWebhook } from '../../shared/webhook/event';
import type { CallFeed } from '../../main/core/feed/call-feed';
import type { HubFeed } from '../../main/core/hub-client/hub-feed';
import { addAgent } from '../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../main/core/hub/hub';
import { sendWebhook } from '../../main/core/listener/test-call';
import { contractExtension, contractSettings, describeCallFeed } from '../support/call-feed-contract';

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
});

// A hub: the PBX posts to the hub; the feed acknowledges a change by moving its watermark past it.
let hub: Hub | null = null;
let hubDir = '';
let password = '';
/** The hub seq of the newest change of the contract's extension. */
let lastSeq = 0;
const clientOf = (feed: CallFeed) => (feed as HubFeed).client;
describeCallFeed('hub', {
  async setUp() {
    hubDir = await mkdtemp(join(tmpdir(), 'callpop-feed-contract-hub-'));
    password = (await addAgent(hubDir, { name: 'contract', extensions: [contractExtension] })).password;
    hub = await startHub({ dataDir: hubDir, host: '127.0.0.1', port: 0, broker: { kind: 'embedded', host: '127.0.0.1', port: 0 }, tickMs: 60_000 });
    lastSeq = 0;
    hub.onChange((changes) => {
      for (const c of changes) if (c.update.record.extension === contractExtension) lastSeq = Math.max(lastSeq, c.seq);
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
});
