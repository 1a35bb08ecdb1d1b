// Everything the PBX sends is untrusted (issue 18): broken JSON, unknown event types, entities that are
// not participants or try to walk the path, a participant of the wrong shape or naming another DN, a
// message larger than the bound. None of it crashes or stalls the client, none of it makes a record,
// and a real call afterwards still arrives.
import { afterAll, describe, expect, it } from 'vitest';
import { startCallControlClient } from '../../main/core/call-control/client';
import type { WebhookFields } from '../../main/core/call-control/translate';
import { participant } from '../support/call-control-scenarios';
import { startFakeCallControl, waitFor } from '../support/fake-3cx-call-control';

const later: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of later.splice(0).reverse()) await c().catch(() => {});
});

describe('a hostile or broken PBX', () => {
  it('is ignored message by message; an oversized message costs a reconnect; the next real call arrives', async () => {
    const fake = await startFakeCallControl({ clients: { callpop: 'h' }, dns: { '117': 'Wextension' } });
    later.push(() => fake.close());
    const out: WebhookFields[] = [];
    const logs: string[] = [];
    const logger = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    const cc = startCallControlClient({ pbx: new URL(fake.url), clientId: 'callpop', clientSecret: 'h', logger, onWebhooks: (l) => out.push(...l), backoff: { initialMs: 20, maxMs: 100 } });
    later.push(() => cc.close());
    await cc.ready;
    const upgrades = () => fake.requests.filter((r) => r.method === 'UPGRADE' && r.status === 101).length;
    const before = upgrades();

    fake.sendRaw('not json');
    fake.sendRaw(JSON.stringify({ sequence: 1, event: { event_type: 0, entity: '/callcontrol/../../etc/passwd', attached_data: null } }));
    fake.sendRaw(JSON.stringify({ sequence: 2, event: { event_type: 0, entity: '/callcontrol/117/devices/x', attached_data: null } }));
    fake.sendRaw(JSON.stringify({ sequence: 3, event: { event_type: 7, entity: '/callcontrol/117/participants/5', attached_data: null } }));
    fake.sendRaw(JSON.stringify({ sequence: 'x', event: null }));
    fake.upsertRaw('117', 6, { id: 6, status: 42, dn: '117', callid: 'no' });
    fake.upsertRaw('117', 7, { ...participant({ id: 7, dn: '204', status: 'Ringing', callid: 77, callerId: '0555' }) });
    fake.upsertRaw('117', 8, { ...participant({ id: 8, dn: '117', status: 'Ringing', callid: 78, callerId: 'x'.repeat(300) }) });
    await waitFor('the bad shapes reported', () => logs.filter((l) => l.includes('unexpected shape')).length >= 3);
    expect(out).toEqual([]);
    expect(cc.state).toBe('connected');

    // Over the 64 KiB bound: the WebSocket is closed, the client reconnects and reconciles.
    fake.sendRaw('x'.repeat(70 * 1024));
    await waitFor('reconnected', () => upgrades() > before && cc.state === 'connected');
    // The snapshot holds the bad participants too: they are dropped one by one, the rest goes on.
    expect(logs).toContain('Call Control: ignored 3 participant(s) of an unexpected shape in GET /callcontrol');
    expect(out).toEqual([]);
    fake.upsert(participant({ id: 9, dn: '117', status: 'Ringing', callid: 79, callerId: '05551239988' }));
    await waitFor('the real call', () => out.some((f) => f.Event === 'ringing' && f.User === '117' && f.Callerid === '05551239988'));
    expect(out.map((f) => `${f.Event} ${f.User} ${f.Callerid}`)).toEqual(['ringing 117 05551239988']);
  });
});
