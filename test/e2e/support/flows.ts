// Replaying seed flows against the bridge's real listener.
import { flowExpectations, flowRequests } from '../../../shared/webhook/seed-flows';
import type { ExpectedRecord, FlowOptions, SeedFlow } from '../../../shared/webhook/seed-flows';
import type { RawWebhook } from '../../../shared/webhook/event';
import { sendWebhook } from '../fixtures';

let last = 0;
/** A fresh 12-digit id stamp per call, so replays never collide with earlier calls. */
export function stamp(): string {
  const n = Math.max(Date.now() % 1e12, last + 1);
  last = n;
  return String(n).padStart(12, '0');
}

export async function play(url: string, requests: readonly RawWebhook[]): Promise<number[]> {
  const statuses: number[] = [];
  for (const r of requests) statuses.push(await sendWebhook(url, r));
  return statuses;
}

export function replay(flow: SeedFlow, extension: string): { opts: FlowOptions; requests: RawWebhook[]; expected: ExpectedRecord | undefined } {
  const opts: FlowOptions = { extension, freshIds: { stamp: stamp() } };
  return { opts, requests: flowRequests(flow, opts), expected: flowExpectations(flow, opts)[extension] };
}

/** A well-formed POST webhook (for hand-made calls: odd caller ids, local recording URLs). */
export const post = (fields: Record<string, string | string[]>): RawWebhook => ({
  method: 'POST',
  query: '',
  body: JSON.stringify(fields),
  contentType: 'application/json',
});
