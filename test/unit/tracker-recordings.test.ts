// A leg's recording belongs to whoever answered that leg (issue 10 item 1). In the GET scheme a
// recording is a bare URL naming no user: the transferrer must not get the colleague's leg. When
// the owner cannot be told, the recording is attached to nobody.
import { describe, expect, it } from 'vitest';
import type { CallRecord, CallUpdate } from '../../shared/call-record';
import { CallTracker } from '../../shared/tracking/call-tracker';
import { PbxTracker } from '../../shared/tracking/pbx-tracker';
import type { RawWebhook, WebhookEvent } from '../../shared/webhook/event';
import { parseWebhook } from '../../shared/webhook/parse';
import { flowGetRequests, flowRequests, flowSteps, seedFlows, SEED_RECORDING_BASE, type SeedFlow } from '../../shared/webhook/seed-flows';

const parse = (raws: RawWebhook[]): WebhookEvent[] =>
  raws.map((r) => {
    const p = parseWebhook(r);
    if (!p.ok) throw new Error(p.error);
    return p.event;
  });

/** URL → the extension whose leg it recorded, as the seed says (the POST row's User; a GET flow's bare URL is its agent's). */
function owners(flow: SeedFlow): Map<string, string> {
  const out = new Map<string, string>();
  for (const step of flowSteps(flow)) {
    if (step.rawUrl !== undefined) out.set(step.rawUrl, flow.agent);
    const urls = step.fields?.FileUrls;
    if (Array.isArray(urls)) for (const u of urls as string[]) out.set(u, String(step.fields?.User));
  }
  return out;
}

const withRecordings = seedFlows.filter((f) => owners(f).size > 0);

function recordsOf(updates: CallUpdate[]): Map<string, CallRecord> {
  const m = new Map<string, CallRecord>();
  for (const u of updates) m.set(u.record.extension, u.record);
  return m;
}

const schemes = [
  ['as sent', flowRequests],
  ['as GET (bare recording URLs)', flowGetRequests],
] as const;

it('covers the transfer flows and every other flow with a recording', () => {
  expect(withRecordings.map((f) => f.name)).toEqual(expect.arrayContaining(['incoming-attended-transfer', 'incoming-blind-transfer', 'get-outgoing-answered']));
  expect(withRecordings.length).toBeGreaterThanOrEqual(7);
});

describe.each(schemes)('%s', (_scheme, requests) => {
  describe.each(withRecordings.map((f) => [f.name, f] as const))('%s', (_name, flow) => {
    const events = parse(requests(flow));
    const own = owners(flow);
    const expectedFor = (ext: string) => [...own].filter(([, o]) => o === ext).map(([u]) => u);

    it.each(Object.keys(flow.expected))('CallTracker for %s: exactly its own legs’ recordings', (ext) => {
      let t = Date.parse('2026-11-24T10:00:00Z');
      const tracker = new CallTracker({ extension: ext, now: () => t });
      const updates = events.flatMap((e) => {
        t += 1000;
        return tracker.apply(e);
      });
      expect(recordsOf(updates).get(ext)?.recordings).toEqual(expectedFor(ext));
    });

    it('PbxTracker: every extension exactly its own legs’ recordings, bystanders none', () => {
      let t = Date.parse('2026-11-24T10:00:00Z');
      const tracker = new PbxTracker({ now: () => t });
      const records = recordsOf(
        events.flatMap((e) => {
          t += 1000;
          return tracker.apply(e);
        }),
      );
      expect([...records.keys()].sort()).toEqual(Object.keys(flow.expected).sort());
      for (const [ext, r] of records) expect(r.recordings, ext).toEqual(expectedFor(ext));
    });
  });
});

describe('a recording whose owner cannot be told goes to nobody', () => {
  const bare = (file: string): WebhookEvent => parse([{ method: 'GET', query: `${SEED_RECORDING_BASE}${file}`, body: '' }])[0]!;
  const talking = (): { tracker: CallTracker; pbx: PbxTracker } => {
    const t = Date.parse('2026-11-24T10:00:00Z');
    const tracker = new CallTracker({ extension: '117', now: () => t });
    const pbx = new PbxTracker({ now: () => t });
    // 117 answers leg 1 of call K_1; nobody is known to have answered leg 2.
    const evs = parse([
      { method: 'GET', query: 'event=ringing&callerid=0555&user=117&usertype=ext&id=K_1-0', body: '' },
      { method: 'GET', query: 'event=hangupincoming&callerid=0555&user=117&trtype=NotDef&id=K_1-1', body: '' },
    ]);
    for (const e of evs) {
      tracker.apply(e);
      pbx.apply(e);
    }
    return { tracker, pbx };
  };

  it.each([
    ['a leg nobody is known to have answered', 'K_1-2-1.mp3'],
    ['a file name with no leg', 'K_1.mp3'],
    ['a call id never seen', 'K_9-1-1.mp3'],
  ])('%s', (_what, file) => {
    const { tracker, pbx } = talking();
    expect(tracker.apply(bare(file))).toEqual([]);
    expect(pbx.apply(bare(file))).toEqual([]);
    // while the leg 117 answered is its own
    expect(tracker.apply(bare('K_1-1-1.mp3')).map((u) => u.record.recordings.length)).toEqual([1]);
  });
});
