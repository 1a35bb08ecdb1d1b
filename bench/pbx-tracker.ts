// The PBX-wide tracker alone (no HTTP, no disk): events per second over many extensions, and the
// heap left after a million calls that never end.
//
//   node --import tsx bench/pbx-tracker.ts
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PbxTracker } from '../shared/tracking/pbx-tracker';
import type { WebhookEvent } from '../shared/webhook/event';

const extensions = 1000;
const neverEndingCalls = Number(process.env.BENCH_PBX_CALLS ?? 1_000_000);
const flowCalls = Number(process.env.BENCH_PBX_FLOW_CALLS ?? 100_000);

const ref = (callId: string, leg: number) => ({ raw: `${callId}-${leg}`, callId, leg });
const extOf = (i: number, n: number) => String(1000 + (i % n));

/** A queue call answered by one extension, as the PBX sends it: 5 events (queue ring, ext ring, start, end, recording). */
function answeredCall(i: number, exts: number): WebhookEvent[] {
  const id = `B${i}_${i % 97}`;
  const ext = extOf(i, exts);
  const callerId = `0555${String(i).padStart(7, '0')}`;
  return [
    { type: 'ringing', user: '820', userType: 'queue', ref: ref(id, 0), callerId, did: null },
    { type: 'ringing', user: ext, userType: 'ext', ref: ref(id, 0), callerId, did: null },
    { type: 'started', user: ext, ref: ref(id, 1), callerId, did: null, direction: 'incoming', transferType: null },
    { type: 'ended', user: ext, ref: ref(id, 1), callerId, did: null, direction: 'incoming', finish: 'ok', transfer: false, durationSec: 30 },
    { type: 'recording', user: null, ref: ref(id, 1), callerId: null, urls: [`https://pbx.example.com/webapi/recording/${id}-1-1.mp3`] },
  ];
}

function eventsPerSec(exts: number): number {
  let t = Date.parse('2026-11-24T08:00:00Z');
  const tracker = new PbxTracker({ now: () => t });
  const run = (from: number, n: number): number => {
    let events = 0;
    const t0 = performance.now();
    for (let i = from; i < from + n; i++) {
      for (const e of answeredCall(i, exts)) {
        tracker.apply(e);
        events++;
      }
      t += 5; // 200 calls a second of PBX time
      if (i % 1000 === 0) tracker.tick();
    }
    return (events / (performance.now() - t0)) * 1000;
  };
  run(0, 20_000); // warm-up (JIT)
  return run(1_000_000, flowCalls);
}

function heapAfterNeverEndingCalls(n: number): { heapMb: number; rssMb: number; held: number } {
  let t = Date.parse('2026-11-24T08:00:00Z');
  const tracker = new PbxTracker({ now: () => t });
  for (let i = 0; i < n; i++) {
    tracker.apply({ type: 'ringing', user: extOf(i, extensions), userType: 'ext', ref: ref(`N${i}_1`, 0), callerId: `0666${String(i).padStart(7, '0')}`, did: null });
    t += 1;
  }
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapMb: m.heapUsed / 1024 ** 2, rssMb: m.rss / 1024 ** 2, held: tracker.size.calls };
}

const mem = heapAfterNeverEndingCalls(neverEndingCalls);
console.log(`pbx-tracker-heap-after-1m-calls: ${Math.round(mem.heapMb)} MB`);
console.log(`pbx-tracker-rss-after-1m-calls: ${Math.round(mem.rssMb)} MB`);
console.log(`pbx-tracker-records-held-after-1m-calls: ${mem.held} records`);
console.log(`pbx-tracker-events-per-sec: ${Math.round(eventsPerSec(extensions))} events/s`);
console.log(`pbx-tracker-events-per-sec-10k-extensions: ${Math.round(eventsPerSec(10 * extensions))} events/s`);
