// The board page's decoding of board messages (shared/team-protocol.ts decodeBoardMessage): the same
// result as checking the whole message with its schema, the previous message's checked agents and
// figures reused when unchanged, and a changed part that is invalid refused like any bad message (an
// unchanged-looking agent with an extra or a changed field is checked again).
import { describe, expect, it } from 'vitest';
import { boardMessageSchema, decodeBoardMessage, type BoardMessage } from '../../shared/team-protocol';

const agent = (i: number, state = 'free') => ({ ext: String(100 + i), name: `Agent ${i}`, state, since: '2026-12-07T10:00:00.000Z' });
const message = (agents: unknown[], byAgent: Record<string, unknown> = { '100': { answered: 2, talkSec: 60 } }) =>
  JSON.stringify({ v: 1, seq: 1, agents, queues: [], today: { answered: 2, missed: 0, abandoned: 0, avgWaitSec: 3, avgTalkSec: 30, byQueue: {}, byAgent } });

function decoded(payload: string, previous: BoardMessage | null): BoardMessage {
  const m = decodeBoardMessage(payload, previous);
  if (!m.ok) throw new Error(m.error);
  return m.value;
}

describe('decodeBoardMessage', () => {
  it('gives what the schema gives, reusing the unchanged agents and figures of the previous message', () => {
    const first = message([agent(0), agent(1), agent(2)]);
    const a = decoded(first, null);
    expect(a).toEqual(boardMessageSchema.parse(JSON.parse(first)));
    const secondText = message([agent(0), { ...agent(1, 'talking'), number: '0555', callId: 'c1' }, agent(2)], { '100': { answered: 2, talkSec: 60 }, '101': { answered: 1, talkSec: 5 } });
    const b = decoded(secondText, a);
    expect(b).toEqual(boardMessageSchema.parse(JSON.parse(secondText)));
    expect(b.agents[0]).toBe(a.agents[0]);
    expect(b.agents[1]).not.toBe(a.agents[1]);
    expect(b.agents[2]).toBe(a.agents[2]);
    expect(b.today.byAgent['100']).toBe(a.today.byAgent['100']);
  });

  it('refuses an invalid changed agent or figure, and checks again an agent with an extra field', () => {
    const a = decoded(message([agent(0), agent(1)]), null);
    const bad = decodeBoardMessage(message([agent(0), { ...agent(1), state: 'asleep' }]), a);
    expect(bad).toMatchObject({ ok: false, error: expect.stringContaining('agents.1.state') });
    expect(decodeBoardMessage(message([agent(0)], { '100': { answered: -1, talkSec: 0 } }), a)).toMatchObject({ ok: false, error: expect.stringContaining('today.byAgent.100') });
    expect(decodeBoardMessage(message([agent(0)], { x: { answered: 1, talkSec: 0 } }), a).ok).toBe(false);
    const extra = decoded(message([{ ...agent(0), evil: '<script>' }, agent(1)]), a);
    expect(extra.agents[0]).toEqual(agent(0));
    expect(extra.agents[0]).not.toBe(a.agents[0]);
    expect(decodeBoardMessage('{"v":2}', a)).toMatchObject({ ok: false });
  });
});
