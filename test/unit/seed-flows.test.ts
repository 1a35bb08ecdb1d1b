import { describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../../shared/webhook/event';
import { parseWebhook } from '../../shared/webhook/parse';
import { findSeedFlow, flowExpectations, flowRequests, flowSteps, seedFlows, type SeedFlow } from '../../shared/webhook/seed-flows';

const flow = (name: string): SeedFlow => {
  const f = findSeedFlow(name);
  if (!f) throw new Error(`no flow ${name}`);
  return f;
};

const events = (f: SeedFlow, opts?: Parameters<typeof flowRequests>[1]): WebhookEvent[] =>
  flowRequests(f, opts).map((r) => {
    const p = parseWebhook(r);
    if (!p.ok) throw new Error(`${f.name}: ${p.error}`);
    return p.event;
  });

const idsOf = (evs: WebhookEvent[]): string[] => evs.map((e) => (e.type === 'unknown' ? '' : e.ref.raw));

/** Rows per section of the seed document, in document order. */
const seedRowCounts: [string, 'post' | 'get', number][] = [
  ['incoming-answered', 'post', 6],
  ['incoming-attended-transfer', 'post', 10],
  ['incoming-blind-transfer', 'post', 9],
  ['incoming-missed', 'post', 4],
  ['hunt-answered', 'post', 5],
  ['hunt-missed', 'post', 3],
  ['ringall-answered', 'post', 6],
  ['ringall-missed', 'post', 4],
  ['outgoing-answered', 'post', 4],
  ['outgoing-unanswered', 'post', 2],
  ['makecall-answered', 'post', 4],
  ['makecall-hangup', 'post', 2],
  ['get-incoming-answered', 'get', 5],
  ['get-incoming-missed', 'get', 4],
  ['get-outgoing-answered', 'get', 4],
  ['get-outgoing-unanswered', 'get', 2],
];

describe('seed flows', () => {
  it('has every section of the seed, in order, with its number of rows', () => {
    expect(seedFlows.map((f) => [f.name, f.scheme, f.steps.length])).toEqual(seedRowCounts);
    expect(new Set(seedFlows.map((f) => f.name)).size).toBe(seedFlows.length);
    for (const f of seedFlows) expect(f.name).toMatch(/^[a-z0-9-]+$/);
  });

  it('gives the two "MakeCall successful call" sections distinct names', () => {
    expect(flow('makecall-answered').title).toBe('MakeCall successful call');
    expect(flow('makecall-hangup').title).toMatch(/^MakeCall successful call \(/);
    expect(Object.keys(flow('makecall-hangup').expected)).toEqual(['117']);
  });

  it('sends POST flows as JSON with the seed keys, GET flows as an encoded query', () => {
    for (const f of seedFlows) {
      for (const r of flowRequests(f, { validJson: true })) {
        if (f.scheme === 'post') {
          expect(r).toMatchObject({ method: 'POST', query: '', contentType: 'application/json' });
          const keys = Object.keys(JSON.parse(r.body) as object);
          expect(keys[0]).toBe('Event');
          for (const k of keys) expect(['Event', 'Callerid', 'User', 'Usertype', 'Did', 'Id', 'Trtype', 'Finishtype', 'Transfer', 'Duration', 'FileUrls']).toContain(k);
        } else {
          expect(r).toMatchObject({ method: 'GET', body: '' });
          expect(r.query).not.toMatch(/[ ‘’]/);
        }
      }
    }
    const end = flowRequests(flow('get-incoming-answered'))[4]!;
    expect(end.query).toBe(
      'event=incoming&callerid=420774852629&user=102&finishtype=Ok&transfer=False&did=DID-420222000320&title=DID-420222000320%3AAnswered%20call%20from%20420774852629%20(0%3A07)&id=230102104542_15-1',
    );
    expect(new URLSearchParams(end.query).get('title')).toBe('DID-420222000320:Answered call from 420774852629 (0:07)');
    expect(flowRequests(flow('get-outgoing-answered'))[3]!.query).toBe('https://pbx.example.com:5001/webapi/recording/230102185935_18-1-1.mp3');
  });

  it('reproduces the two malformed POST bodies of the seed unless validJson is asked for', () => {
    const broken = seedFlows.flatMap((f) =>
      flowRequests(f)
        .filter((r) => r.method === 'POST')
        .flatMap((r, i) => {
          try {
            JSON.parse(r.body);
            return [];
          } catch {
            return [`${f.name}#${i}: ${r.body}`];
          }
        }),
    );
    expect(broken).toEqual([
      'incoming-answered#3: {"Event":"incomingcall_started","Callerid":05551239988","User":"202","Trtype":"NotDef","Did":"","Id":"230307114903_10-1"}',
      'outgoing-answered#2: {"Event":"outgoing","Callerid":"05551239988","User":"117","Finishtype":"Ok","Transfer":"False","Did":"","Duration":"00:05","Id":30307135611_31-1"}',
    ]);
    for (const f of seedFlows) for (const r of flowRequests(f, { validJson: true })) if (r.method === 'POST') expect(() => JSON.parse(r.body)).not.toThrow();
  });

  it('keeps the odd parts of the seed', () => {
    expect(idsOf(events(flow('incoming-answered'))).slice(3, 5)).toEqual(['230307114903_10-1', '230307140234_35-1']);
    expect(idsOf(events(flow('outgoing-answered')))[2]).toBe('30307135611_31-1');
    expect(idsOf(events(flow('makecall-hangup')))).toEqual(['230307155208_64-0', '230307155409_66-0']);
    expect(events(flow('makecall-answered'))[1]).toMatchObject({ type: 'started', callerId: 'MAKECALL' });
    expect(idsOf(events(flow('get-incoming-missed')))[3]).toBe('230102154720_16-0');
    expect(idsOf(events(flow('get-outgoing-answered')))).toEqual(['230102184431_17-0', '230102185935_18-1', '230102185935_18-1', '230102185935_18-1']);
    // attended transfer: 204 starts talking (leg 2) before its ringing row (leg 1)
    expect(events(flow('incoming-attended-transfer')).slice(4, 6).map((e) => e.type)).toEqual(['started', 'ringing']);
    for (const f of seedFlows) {
      for (const s of flowSteps(f)) {
        const urls = s.rawUrl !== undefined ? [s.rawUrl] : ((s.fields?.FileUrls as string[] | undefined) ?? []);
        for (const u of urls) expect(u).toMatch(/^https:\/\/pbx\.example\.com:5001\/webapi\/recording\/\d{12}_\d+-\d+-1\.mp3$/);
      }
    }
  });
});

describe('seed flows: expected records', () => {
  /** Extensions a flow involves, derived from its events (queues and the IVR are not extensions). */
  function involved(evs: WebhookEvent[], agent: string): string[] {
    const notExt = new Set(evs.flatMap((e) => (e.type === 'ringing' && e.userType !== 'ext' ? [e.user] : [])));
    const exts = new Set<string>();
    for (const e of evs) {
      if (e.type === 'unknown') continue;
      if (e.type === 'recording') exts.add(e.user ?? agent);
      else if (!notExt.has(e.user)) exts.add(e.user);
    }
    return [...exts].sort();
  }

  for (const f of seedFlows) {
    it(`${f.name}: one record per involved extension, consistent with its events`, () => {
      const evs = events(f);
      expect(Object.keys(f.expected).sort()).toEqual(involved(evs, f.agent));
      expect(Object.keys(f.expected)).toContain(f.agent);
      const queue = evs.find((e) => e.type === 'ringing' && e.userType === 'queue');
      for (const [ext, r] of Object.entries(f.expected)) {
        expect(r.number).not.toBe('MAKECALL');
        expect(r.number).toBe(f.scheme === 'post' ? '05551239988' : '420774852629');
        expect(r.queue).toBe(queue && queue.type === 'ringing' ? queue.user : null);
        expect(r.did).toBe(f.scheme === 'get' && r.direction === 'incoming' ? '420222000320' : null);
        expect(r.direction).toBe(evs.some((e) => e.type === 'dialing') ? 'outgoing' : 'incoming');
        const first = evs.find((e) => e.type !== 'unknown' && e.type !== 'recording');
        expect(r.id).toBe(first?.type === 'ringing' || first?.type === 'dialing' ? first.ref.callId : 'no first event');
        const recordings = evs.filter((e) => e.type === 'recording' && (e.user ?? f.agent) === ext).length;
        expect(r.recordings).toBe(recordings);
        if (r.result === 'answered-elsewhere') expect(r.answeredBy).not.toBeNull();
        else expect(r.answeredBy).toBeNull();
      }
    });
  }

  it('states the issue\'s figures', () => {
    const at = flow('incoming-attended-transfer').expected;
    expect(at['117']).toMatchObject({ result: 'answered', durationSec: 14, transferType: 'attended', transferredTo: '204', recordings: 1 });
    expect(at['204']).toMatchObject({ result: 'answered', durationSec: 6, transferredFrom: '117', recordings: 1 });
    const blind = flow('incoming-blind-transfer').expected;
    expect(blind['117']).toMatchObject({ transferType: 'blind', transferredTo: '204', durationSec: null });
    expect(blind['204']).toMatchObject({ durationSec: 4, transferredFrom: '117' });
    expect(flow('incoming-answered').expected['202']).toMatchObject({ result: 'answered', queue: '820', durationSec: 6, recordings: 1 });
    expect(flow('incoming-missed').expected['202']).toMatchObject({ result: 'missed', queue: '820' });
    expect(flow('ringall-answered').expected['117']).toMatchObject({ result: 'answered', durationSec: 5 });
    expect(flow('ringall-answered').expected['204']).toMatchObject({ result: 'answered-elsewhere', answeredBy: '117' });
    expect(Object.values(flow('ringall-missed').expected).map((r) => r.result)).toEqual(['missed', 'missed']);
    expect(flow('makecall-answered').expected['117']).toMatchObject({ number: '05551239988', durationSec: 4 });
    expect(flow('get-incoming-answered').expected['102']).toMatchObject({ did: '420222000320', durationSec: 7, queue: '804' });
    expect(flow('get-outgoing-answered').expected['102']).toMatchObject({ durationSec: 6, recordings: 1 });
  });
});

describe('flowRequests options', () => {
  it('plays the flow as another extension, leaving the other parties alone', () => {
    const f = flow('incoming-attended-transfer');
    const users = events(f, { extension: '555' }).map((e) => (e.type === 'unknown' ? '' : e.user));
    expect(users).toEqual(['800', '820', '555', '555', '204', '204', '555', '204', '204', '555']);
    expect(Object.keys(flowExpectations(f, { extension: '555' })).sort()).toEqual(['204', '555']);
    expect(flowExpectations(f, { extension: '555' })['204']).toMatchObject({ transferredFrom: '555' });
    expect(flowExpectations(f, { extension: '555' })['555']).toMatchObject({ transferredTo: '204', durationSec: 14 });
    expect(flowExpectations(flow('ringall-answered'), { extension: '9' })['204']).toMatchObject({ answeredBy: '9' });
    // GET: the query carries the new user; the bare recording URL is unchanged
    const get = flowRequests(flow('get-outgoing-answered'), { extension: '4711' });
    expect(get.slice(0, 3).map((r) => new URLSearchParams(r.query).get('user'))).toEqual(['4711', '4711', '4711']);
    expect(get[3]!.query).toBe(flowRequests(flow('get-outgoing-answered'))[3]!.query);
    // everything but the user is as before
    const strip = (e: WebhookEvent) => ({ ...e, user: null });
    expect(events(flow('incoming-answered'), { extension: '3' }).map(strip)).toEqual(events(flow('incoming-answered')).map(strip));
  });

  it('refuses an extension that is not 1-10 digits or already plays another role', () => {
    expect(() => flowRequests(flow('incoming-answered'), { extension: '' })).toThrow(RangeError);
    expect(() => flowRequests(flow('incoming-answered'), { extension: '12a' })).toThrow(/1 to 10 digits/);
    expect(() => flowRequests(flow('incoming-attended-transfer'), { extension: '204' })).toThrow(/another role/);
    expect(() => flowRequests(flow('incoming-answered'), { extension: '820' })).toThrow(/another role/);
    expect(flowRequests(flow('incoming-answered'), { extension: '202' })).toEqual(flowRequests(flow('incoming-answered')));
  });

  it('freshIds replaces every stamp (the truncated one too) and keeps suffixes and mismatches', () => {
    const stamp = '261124203000';
    for (const f of seedFlows) {
      const before = idsOf(events(f));
      const after = idsOf(events(f, { freshIds: { stamp } }));
      expect(after).toEqual(before.map((id) => (/^\d{12}_/.test(id) ? stamp + id.slice(12) : /^\d{11}_/.test(id) ? stamp.slice(1) + id.slice(11) : id)));
      // the same ids stay equal and different ones stay different
      for (let i = 0; i < before.length; i++) for (let j = 0; j < before.length; j++) expect(after[i] === after[j]).toBe(before[i] === before[j]);
      const recs = events(f, { freshIds: { stamp } }).flatMap((e) => (e.type === 'recording' ? e.urls : []));
      for (const u of recs) expect(u).toContain(`/webapi/recording/${stamp}_`);
      for (const [ext, r] of Object.entries(flowExpectations(f, { freshIds: { stamp } }))) expect(r.id).toBe(stamp + f.expected[ext]!.id.slice(12));
    }
    expect(idsOf(events(flow('outgoing-answered'), { freshIds: { stamp } }))).toEqual([
      `${stamp}_31-0`,
      `${stamp}_31-1`,
      // the truncated end id keeps its oddity (first digit lost) but follows the fresh stamp
      `${stamp.slice(1)}_31-1`,
      `${stamp}_31-1`,
    ]);
    expect(idsOf(events(flow('incoming-answered'), { freshIds: { stamp } })).slice(3, 5)).toEqual([`${stamp}_10-1`, `${stamp}_35-1`]);
    expect(flowRequests(flow('get-outgoing-answered'), { freshIds: { stamp } })[3]!.query).toBe(
      `https://pbx.example.com:5001/webapi/recording/${stamp}_18-1-1.mp3`,
    );
    // the malformed body stays malformed after rewriting
    expect(flowRequests(flow('incoming-answered'), { freshIds: { stamp }, extension: '7' })[3]!.body).toContain('"Callerid":05551239988"');
  });

  it('refuses a stamp that is not 12 digits', () => {
    for (const stamp of ['', '12345678901', '1234567890123', 'abcdefghijkl']) {
      expect(() => flowRequests(flow('incoming-answered'), { freshIds: { stamp } })).toThrow(/12 digits/);
    }
  });

  it('does not mutate the seed data', () => {
    const snapshot = JSON.stringify(seedFlows);
    for (const f of seedFlows) flowRequests(f, { extension: '1', freshIds: { stamp: '000000000000' } });
    expect(JSON.stringify(seedFlows)).toBe(snapshot);
  });
});

describe('freshIds across runs', () => {
  it('two stamps give two sets of ids with nothing in common, the truncated end id included', () => {
    const ids = (stamp: string) => idsOf(events(flow('outgoing-answered'), { freshIds: { stamp } }));
    const a = ids('261124203000');
    const b = ids('261124203001');
    for (const id of a) expect(b).not.toContain(id);
    expect(a[2]).toBe('61124203000_31-1');
  });

  it('a serial moves every call counter by the same amount: same stamp, different ids, relations kept', () => {
    const stamp = '261124203000';
    for (const f of seedFlows) {
      const plain = idsOf(events(f, { freshIds: { stamp } }));
      const moved = idsOf(events(f, { freshIds: { stamp, serial: 1000 } }));
      expect(moved).toEqual(plain.map((id) => id.replace(/_(\d+)/, (_m, n: string) => `_${Number(n) + 1000}`)));
      for (const id of moved) expect(plain).not.toContain(id);
      for (const [ext, r] of Object.entries(flowExpectations(f, { freshIds: { stamp, serial: 1000 } }))) expect(r.id).toBe(`${stamp}_${Number(f.expected[ext]!.id.split('_')[1]) + 1000}`);
    }
    expect(flowRequests(flow('get-outgoing-answered'), { freshIds: { stamp, serial: 7 } })[3]!.query).toBe(`https://pbx.example.com:5001/webapi/recording/${stamp}_25-1-1.mp3`);
    expect(() => flowRequests(flow('incoming-answered'), { freshIds: { stamp, serial: -1 } })).toThrow(/serial/);
    expect(() => flowRequests(flow('incoming-answered'), { freshIds: { stamp, serial: 1.5 } })).toThrow(/serial/);
  });
});
