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

export interface CallSpec {
  number: string;
  extension: string;
  result: 'answered' | 'missed';
  /** "mm:ss" talk time for answered calls. */
  duration?: string;
  queue?: string;
  recordings?: string[];
  /** Leave the call open after this stage. */
  stopAfter?: 'ringing' | 'talking';
}

/** An incoming call in the seed's POST format. Returns the record id and the webhooks. */
export function incomingCall(spec: CallSpec): { id: string; requests: RawWebhook[] } {
  const id = `${stamp()}_${Math.floor(Math.random() * 90) + 10}`;
  const base = { Callerid: spec.number, Did: '' };
  const reqs: RawWebhook[] = [];
  if (spec.queue) reqs.push(post({ Event: 'ringing', ...base, User: spec.queue, Usertype: 'queue', Id: `${id}-0` }));
  reqs.push(post({ Event: 'ringing', ...base, User: spec.extension, Usertype: 'ext', Id: `${id}-0` }));
  if (spec.stopAfter === 'ringing') return { id, requests: reqs };
  if (spec.result === 'missed') {
    reqs.push(post({ Event: 'incoming', ...base, User: spec.extension, Finishtype: 'Missed', Transfer: 'False', Duration: '', Id: `${id}-0` }));
    return { id, requests: reqs };
  }
  reqs.push(post({ Event: 'incomingcall_started', ...base, User: spec.extension, Trtype: 'NotDef', Id: `${id}-1` }));
  if (spec.stopAfter === 'talking') return { id, requests: reqs };
  reqs.push(post({ Event: 'incoming', ...base, User: spec.extension, Finishtype: 'Ok', Transfer: 'False', Duration: spec.duration ?? '00:42', Id: `${id}-1` }));
  if (spec.recordings?.length) reqs.push(post({ Event: 'recording', FileUrls: spec.recordings, Callerid: spec.number, User: spec.extension, Id: `${id}-1` }));
  return { id, requests: reqs };
}

/** An outgoing call of the extension. */
export function outgoingCall(number: string, extension: string, answered: boolean): { id: string; requests: RawWebhook[] } {
  const id = `${stamp()}_${Math.floor(Math.random() * 90) + 10}`;
  const reqs = [post({ Event: 'dialing', Callerid: number, User: extension, Id: `${id}-0` })];
  if (answered) {
    reqs.push(post({ Event: 'outgoingcall_started', Callerid: number, User: extension, Trtype: 'NotDef', Did: '', Id: `${id}-1` }));
    reqs.push(post({ Event: 'outgoing', Callerid: number, User: extension, Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: '01:10', Id: `${id}-1` }));
  } else {
    reqs.push(post({ Event: 'outgoing', Callerid: number, User: extension, Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${id}-0` }));
  }
  return { id, requests: reqs };
}
