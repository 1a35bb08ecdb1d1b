// Every seed flow, both schemes, through the real parser and the tracker, for every involved
// extension: exactly the one record the seed implies (issue 2, §3), and nothing for bystanders.
import { describe, expect, it } from 'vitest';
import type { CallRecord } from '../../shared/call-record';
import { CallTracker } from '../../shared/tracking/call-tracker';
import { parseWebhook } from '../../shared/webhook/parse';
import { asExpected, flowExpectations, flowRequests, seedFlows, type FlowOptions, type SeedFlow } from '../../shared/webhook/seed-flows';

function replay(flow: SeedFlow, extension: string, opts: FlowOptions = {}): CallRecord[] {
  let t = Date.parse('2026-11-24T10:00:00Z');
  const tracker = new CallTracker({ extension, now: () => t });
  const records = new Map<string, CallRecord>();
  for (const raw of flowRequests(flow, opts)) {
    const parsed = parseWebhook(raw);
    if (!parsed.ok) throw new Error(`${flow.name}: ${parsed.error}`);
    for (const u of tracker.apply(parsed.event)) records.set(u.record.id, u.record);
    t += 1500;
  }
  return [...records.values()];
}

describe.each(seedFlows.map((f) => [f.name, f] as const))('seed flow %s', (_name, flow) => {
  it.each(Object.entries(flow.expected))('extension %s gets exactly the expected record', (ext, want) => {
    const records = replay(flow, ext);
    expect(records).toHaveLength(1);
    const r = records[0]!;
    expect(r.status).toBe('ended');
    expect(asExpected(r)).toEqual(want);
    expect(r.number).not.toBe('MAKECALL');
  });

  it('a bystander extension gets nothing', () => {
    expect(replay(flow, '999')).toEqual([]);
  });

  it('replayed as another extension with fresh ids, the same outcome', () => {
    const opts = { extension: '4711', freshIds: { stamp: '261124101500' } };
    const want = flowExpectations(flow, opts)['4711'];
    expect(want, 'the agent of every flow has a record').toBeDefined();
    const records = replay(flow, '4711', opts);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: want!.id, result: want!.result, durationSec: want!.durationSec });
  });
});

it('covers every flow of the seed document', () => {
  expect(seedFlows.length).toBeGreaterThanOrEqual(16);
  for (const f of seedFlows) expect(Object.keys(f.expected).length).toBeGreaterThan(0);
});
