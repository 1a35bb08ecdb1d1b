// Client ids bound to agent names (shared/hub-protocol.ts): only [A-Za-z0-9_-], reversible, and no
// agent's id passes for another's.
import { describe, expect, it } from 'vitest';
import { agentClientId, clientIdBelongsTo, clientIdPattern, decodeAgentName, encodeAgentName, topics } from '../../shared/hub-protocol';
import { agentNamePattern } from '../../main/core/hub/accounts/agents';

const names = ['anna', 'carl.d', 'a_b', 'a__b', 'x@example.com', 'bob-smith', '_._@-', 'A'.repeat(64), '.'.repeat(64), 'ab_d', 'ab.'];

describe('agent client ids', () => {
  it('uses only letters, digits, _ and - for every valid agent name, fits a topic level and round-trips', () => {
    for (const name of names) {
      expect(agentNamePattern.test(name)).toBe(true);
      const id = agentClientId(name);
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(clientIdPattern.test(id)).toBe(true);
      expect(() => topics.syncResponse('default', '117', id)).not.toThrow();
      expect(decodeAgentName(encodeAgentName(name))).toBe(name);
      expect(clientIdBelongsTo(id, name)).toBe(true);
    }
  });

  it("never lets one agent's client id pass for another's", () => {
    for (const a of names) for (const b of names) if (a !== b) expect(clientIdBelongsTo(agentClientId(a, 'pc1'), b)).toBe(false);
    // Names that differ only where escaping could collide: "ab.", "ab_d", "ab__d".
    expect(clientIdBelongsTo(agentClientId('ab_d'), 'ab.')).toBe(false);
    expect(clientIdBelongsTo(agentClientId('ab.'), 'ab_d')).toBe(false);
  });

  it('refuses ids of other forms, and random parts that are not letters and digits', () => {
    for (const id of ['anna', 'callpop-anna-0a1b2c', 'cp-anna', 'cp-anna-', 'cp-anna-x-y', 'cp-an.na-1', 'cp-anna_q-1', '']) expect(clientIdBelongsTo(id, 'anna')).toBe(false);
    expect(() => agentClientId('anna', 'with-dash')).toThrow();
    expect(() => agentClientId('anna', 'x'.repeat(17))).toThrow();
  });
});

describe('hub-client.json', () => {
  it('replaces a client id saved in the older form (callpop-NAME-hex, which the hub now refuses) and keeps the sync positions', async () => {
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openHubClientState } = await import('../../main/core/hub-client/state-file');
    const dir = mkdtempSync(join(tmpdir(), 'callpop-client-id-'));
    try {
      writeFileSync(join(dir, 'hub-client.json'), JSON.stringify({ clientIds: { 'carl.d': 'callpop-carl.d-0a1b2c3d4e5f' }, synced: { k: 42 } }));
      const state = openHubClientState(dir);
      const id = state.clientIdFor('carl.d');
      expect(clientIdBelongsTo(id, 'carl.d')).toBe(true);
      expect(state.syncedSeq('k')).toBe(42);
      expect(JSON.parse(readFileSync(join(dir, 'hub-client.json'), 'utf8')).clientIds['carl.d']).toBe(id);
      expect(openHubClientState(dir).clientIdFor('carl.d')).toBe(id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives each further extension followed at once (a slot) an id of its own, still the agent's, kept across restarts", async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openHubClientState } = await import('../../main/core/hub-client/state-file');
    const dir = mkdtempSync(join(tmpdir(), 'callpop-client-id-'));
    try {
      const state = openHubClientState(dir);
      const first = state.clientIdFor('anna.s');
      const second = state.clientIdFor('anna.s', '118');
      expect(second).not.toBe(first);
      // The hub refuses a client id that is not the logging-in agent's (admin's first 'anna.s#118' key made one for 'anna.s#118').
      for (const id of [first, second]) expect(clientIdBelongsTo(id, 'anna.s')).toBe(true);
      expect(openHubClientState(dir).clientIdFor('anna.s', '118')).toBe(second);
      expect(openHubClientState(dir).clientIdFor('anna.s')).toBe(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
