// The hub's PBX-wide log on real files: records keyed by (extension, call id), seqs per change,
// "since" queries, restarts (seqs jump past anything a crashed run may have published), retention.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '../../shared/call-record';
import { HubLog, SEQ_START_GAP } from '../../main/core/hub/log/hub-log';
import { encodeLine } from '../../main/core/call-log/journal';
import { callRecord } from '../support/call-records';

let dir = '';
let log: HubLog | null = null;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-hub-log-'));
});
afterEach(async () => {
  await log?.close();
  log = null;
  await rm(dir, { recursive: true, force: true });
});

const rec = (id: string, extension: string, more: Partial<CallRecord> = {}): CallRecord =>
  callRecord({ id, extension, startedAt: '2026-12-01T10:00:00.000Z', status: 'ringing', result: null, answeredAt: null, endedAt: null, ...more });
const ended = (id: string, extension: string, startedAt = '2026-12-01T10:00:00.000Z', more: Partial<CallRecord> = {}): CallRecord =>
  rec(id, extension, { status: 'ended', result: 'missed', startedAt, endedAt: '2026-12-01T10:01:00.000Z', ...more } as Partial<CallRecord>);

// Each test runs with the default hot window and with one of 2 ended records, so that nearly every
// ended record is cold (on disk only) and "since", compaction, prune and restarts read it from there.
describe.each([
  { window: 'default hot window', hotEnded: undefined },
  { window: 'nearly everything cold', hotEnded: 2 },
])('HubLog ($window)', ({ hotEnded }) => {
  const openLog = (): Promise<HubLog> => HubLog.open(dir, { hotEnded });

  it('keeps the two sides of a transfer (same call id, two extensions) apart and answers "since" per extension in seq order', async () => {
    log = await openLog();
    const start = log.head;
    const a = log.append([rec('C1', '117'), rec('C1', '204'), rec('C2', '117')]);
    expect(a.seqs).toEqual([start + 1, start + 2, start + 3]);
    await a.durable;
    const b = log.append([ended('C1', '117')]);
    await b.durable;
    expect(log.size).toBe(3);
    expect(log.since('117', 0, 10).records.map((r) => [r.record.id, r.seq, r.record.status])).toEqual([
      ['C2', start + 3, 'ringing'],
      ['C1', start + 4, 'ended'],
    ]);
    expect(log.since('204', 0, 10).records.map((r) => [r.record.id, r.record.extension])).toEqual([['C1', '204']]);
    expect(log.since('117', start + 3, 10).records.map((r) => r.record.id)).toEqual(['C1']);
    expect(log.since('117', 0, 1)).toMatchObject({ more: true });
    expect(log.since('999', 0, 10).records).toEqual([]);
  });

  it('reopens with every durable record and starts the next run SEQ_START_GAP past the highest seq on disk', async () => {
    log = await openLog();
    const { seqs, durable } = log.append([rec('C1', '117'), ended('C1', '117'), rec('C2', '204')]);
    await durable;
    await log.close();
    log = await openLog();
    expect(log.head).toBe(Math.max(...seqs) + SEQ_START_GAP);
    expect(log.get('117', 'C1')).toMatchObject({ seq: seqs[1], record: { status: 'ended' } });
    expect(log.openCalls().map((r) => r.id)).toEqual(['C2']);
    // A start with no change still moves the next run's seqs on (this run may have published some).
    const head = log.head;
    await log.close();
    log = await openLog();
    expect(log.head).toBe(head + SEQ_START_GAP);
  });

  it('drops old ended calls on prune (and rewrites the file without them), keeping the head seq', async () => {
    log = await openLog();
    await log.append([ended('OLD', '117', '2025-01-01T00:00:00.000Z'), ended('NEW', '117'), rec('OPEN', '117', { startedAt: '2025-01-01T00:00:00.000Z' })]).durable;
    const head = log.head;
    expect(await log.prune(Date.parse('2026-01-01T00:00:00.000Z'))).toBe(1);
    await log.close();
    const text = await readFile(join(dir, 'calls.jsonl'), 'utf8');
    expect(text).not.toContain('"OLD"');
    log = await openLog();
    expect(log.since('117', 0, 10).records.map((r) => r.record.id).sort()).toEqual(['NEW', 'OPEN']);
    expect(log.head).toBeGreaterThanOrEqual(head + SEQ_START_GAP);
  });

  /** Every record of `ext` changed after `since`, chunk by chunk as the hub answers a sync. */
  const syncAll = (l: HubLog, ext: string, since: number, chunk: number): { id: string; seq: number; status: string }[] => {
    const out: { id: string; seq: number; status: string }[] = [];
    for (let cursor = since; ; ) {
      const { records, more } = l.since(ext, cursor, chunk);
      out.push(...records.map((r) => ({ id: r.record.id, seq: r.seq, status: r.record.status })));
      cursor = records.at(-1)?.seq ?? cursor;
      if (!more) return out;
    }
  };

  it('compacts the file to the newest line per (extension, id) while appends go on, and answers sync from 0 the same before and after a restart', async () => {
    log = await openLog();
    const start = log.head;
    // 1,500 calls on 3 extensions, each rung, re-rung and ended: 4,500 changes, enough superseded lines to compact.
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 1500; i += 50) {
      const ids = Array.from({ length: 50 }, (_, k) => `C${i + k}`);
      pending.push(log.append(ids.map((id, k) => rec(id, String(100 + ((i + k) % 3))))).durable);
      pending.push(log.append(ids.map((id, k) => rec(id, String(100 + ((i + k) % 3)), { number: '0888' }))).durable);
      // Let the writer run (and compact) between batches, as webhooks would.
      await new Promise((r) => setImmediate(r));
      pending.push(log.append(ids.map((id, k) => ended(id, String(100 + ((i + k) % 3))))).durable);
    }
    // A second ring of the same ids on one extension, not awaited before reading.
    pending.push(log.append([rec('C0', '100', { number: '0999' })]).durable);
    expect(log.get('100', 'C0')?.record.number).toBe('0999');
    await Promise.all(pending);
    const before = syncAll(log, '100', 0, 97);
    expect(before).toHaveLength(500);
    expect(new Set(before.map((r) => r.id)).size).toBe(500);
    expect(before.map((r) => r.seq)).toEqual([...before.map((r) => r.seq)].sort((a, b) => a - b));
    expect(before.at(-1)).toEqual({ id: 'C0', seq: log.head, status: 'ringing' });
    expect(before.filter((r) => r.status !== 'ended').map((r) => r.id)).toEqual(['C0']);
    // C0's ended change may have gone cold before its second ring: that cold entry is counted until
    // the next compaction or start drops it (sync above already skips it).
    expect(hotEnded === undefined ? [1500] : [1500, 1501]).toContain(log.size);
    await log.close();

    const text = await readFile(join(dir, 'calls.jsonl'), 'utf8');
    const recordLines = text.split('\n').filter((l) => l.includes('{"s":'));
    // Compacted at least once: far fewer lines than the 4,501 changes, every key still there.
    expect(recordLines.length).toBeLessThan(3000);
    const newest = new Map<string, number>();
    for (const l of recordLines) {
      const seq = Number(/"s":(\d+)/.exec(l)![1]);
      const r = JSON.parse(l.slice(l.indexOf(',"r":') + 5, -1)) as CallRecord;
      newest.set(`${r.extension}/${r.id}`, Math.max(seq, newest.get(`${r.extension}/${r.id}`) ?? 0));
    }
    expect(newest.size).toBe(1500);

    log = await openLog();
    expect(log.size).toBe(1500);
    expect(syncAll(log, '100', 0, 500)).toEqual(before);
    expect(syncAll(log, '101', 0, 500)).toHaveLength(500);
    // Since a seq in the middle: exactly the records whose latest change came after it.
    const mid = before[250]!.seq;
    expect(syncAll(log, '100', mid, 40)).toEqual(before.slice(251));
    expect(log.openCalls().map((r) => r.id)).toEqual(['C0']);
    expect(start).toBeGreaterThan(0);
  });

  it('answers "since" in seq order when the file has lines out of seq order (a retried write lands after newer ones)', async () => {
    const line = (seq: number, r: CallRecord): string => encodeLine(`{"s":${seq},"r":${JSON.stringify(r)}}`);
    await writeFile(
      join(dir, 'calls.jsonl'),
      encodeLine('{"callpop":"hub-log","version":1,"head":0}') +
        line(10, rec('A', '117')) +
        line(12, ended('A', '117')) +
        line(11, rec('B', '117')) +
        line(9, rec('C', '117')) +
        line(8, ended('C', '117')),
    );
    log = await openLog();
    expect(syncAll(log, '117', 0, 10).map((r) => [r.id, r.seq, r.status])).toEqual([
      ['C', 9, 'ringing'],
      ['B', 11, 'ringing'],
      ['A', 12, 'ended'],
    ]);
    expect(syncAll(log, '117', 9, 1).map((r) => r.id)).toEqual(['B', 'A']);
    expect(syncAll(log, '117', 11, 10).map((r) => r.id)).toEqual(['A']);
  });

  it('keeps answering from the right file positions across many compactions and prunes', async () => {
    log = await openLog();
    // One record changed 6,000 times among 10 quiet ones: the file is compacted again and again.
    await log.append(Array.from({ length: 10 }, (_, i) => ended(`Q${i}`, '117', '2025-01-01T00:00:00.000Z'))).durable;
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 6000; i++) {
      writes.push(log.append([rec('HOT', '117', { number: String(i) })]).durable);
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    expect(log.get('117', 'HOT')?.record.number).toBe('5999');
    expect(log.get('117', 'Q3')?.record.id).toBe('Q3');
    expect(await log.prune(Date.parse('2026-01-01T00:00:00.000Z'))).toBe(10);
    expect(syncAll(log, '117', 0, 5).map((r) => r.id)).toEqual(['HOT']);
    await log.append([rec('NEW', '204')]).durable;
    await log.close();
    log = await openLog();
    expect(log.size).toBe(2);
    expect(log.get('117', 'HOT')?.record.number).toBe('5999');
    expect(log.get('204', 'NEW')?.record.status).toBe('ringing');
    expect((await readFile(join(dir, 'calls.jsonl'), 'utf8')).split('\n').length).toBeLessThan(10);
  });
});

describe('HubLog cold records (older ended calls kept on disk only)', () => {
  const syncIds = (l: HubLog, ext: string, since: number, chunk: number): [string, number, string][] => {
    const out: [string, number, string][] = [];
    for (let cursor = since; ; ) {
      const { records, more } = l.since(ext, cursor, chunk);
      out.push(...records.map((r): [string, number, string] => [r.record.id, r.seq, r.record.number]));
      cursor = records.at(-1)?.seq ?? cursor;
      if (!more) return out;
    }
  };

  it('moves ended records past the hot window to cold once on disk, answers them from the file, and never twice when one changes again', async () => {
    log = await HubLog.open(dir, { hotEnded: 3 });
    const start = log.head;
    await log.append(Array.from({ length: 10 }, (_, i) => ended(`E${i}`, '117'))).durable;
    await log.append([rec('OPEN', '117'), ended('X', '204')]).durable;
    // E0..E7 are the oldest ended changes past the 3 hot ones (E8, E9, X); the open call is always hot.
    expect(log.coldSize).toBe(8);
    expect(log.openCalls().map((r) => r.id)).toEqual(['OPEN']);
    expect(log.recent(0).map((r) => r.id).sort()).toEqual(['E8', 'E9', 'X']);
    const all = syncIds(log, '117', 0, 4);
    expect(all.map(([id]) => id)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8', 'E9', 'OPEN']);
    expect(all.map(([, seq]) => seq)).toEqual(Array.from({ length: 11 }, (_, i) => start + 1 + i));
    expect(syncIds(log, '117', start + 5, 2).map(([id]) => id)).toEqual(['E5', 'E6', 'E7', 'E8', 'E9', 'OPEN']);

    // A late change of a cold record (a recording): its hot slot wins, the cold entry is skipped.
    const { seqs, durable } = log.append([ended('E2', '117', undefined, { number: 'LATE' })]);
    await durable;
    expect(log.get('117', 'E2')).toMatchObject({ seq: seqs[0], record: { number: 'LATE' } });
    const after = syncIds(log, '117', 0, 3);
    expect(after.filter(([id]) => id === 'E2')).toEqual([['E2', seqs[0], 'LATE']]);
    expect(after).toHaveLength(11);
    expect(syncIds(log, '117', start + 1, 100).map(([id]) => id)).toEqual(['E1', 'E3', 'E4', 'E5', 'E6', 'E7', 'E8', 'E9', 'OPEN', 'E2']);

    // A restart drops the superseded line and keeps the same answers.
    await log.close();
    log = await HubLog.open(dir, { hotEnded: 3 });
    expect(log.size).toBe(12);
    expect(syncIds(log, '117', 0, 5)).toEqual(after);
    expect(syncIds(log, '204', 0, 5).map(([id]) => id)).toEqual(['X']);
  });

  it('compacts cold records into the new file (superseded ones left out) and prunes them by start', async () => {
    log = await HubLog.open(dir, { hotEnded: 1 });
    await log.append(Array.from({ length: 30 }, (_, i) => ended(`OLD${i}`, '117', '2025-01-01T00:00:00.000Z'))).durable;
    await log.append(Array.from({ length: 30 }, (_, i) => ended(`NEW${i}`, '117'))).durable;
    // Every NEW record changed again after going cold: 30 superseded cold entries.
    await log.append(Array.from({ length: 30 }, (_, i) => ended(`NEW${i}`, '117', undefined, { number: `N${i}` }))).durable;
    // Until a compaction, a record that went cold twice is sent twice (older version first; a
    // client keeps the highest seq): NEW0..NEW28 twice, NEW29's first version skipped (hot again).
    const twice = syncIds(log, '117', 0, 7);
    expect(twice).toHaveLength(30 + 29 * 2 + 1);
    const latest = new Map<string, [string, number, string]>();
    for (const r of twice) if ((latest.get(r[0])?.[1] ?? -1) < r[1]) latest.set(r[0], r);
    const before = [...latest.values()].sort((a, b) => a[1] - b[1]);
    expect(before).toHaveLength(60);
    expect(before.slice(30).every(([id, , number]) => number === `N${id.slice(3)}`)).toBe(true);
    expect(await log.prune(Date.parse('2026-01-01T00:00:00.000Z'))).toBe(30);
    const text = await readFile(join(dir, 'calls.jsonl'), 'utf8');
    const recordLines = text.split('\n').filter((l) => l.includes('{"s":'));
    // The prune's rewrite holds each NEW record once, in its latest version.
    expect(recordLines).toHaveLength(30);
    expect(recordLines.every((l) => /"number":"N\d+"/.test(l))).toBe(true);
    expect(syncIds(log, '117', 0, 7)).toEqual(before.slice(30));
    expect(log.get('117', 'NEW7')?.record.number).toBe('N7');
    await log.append([rec('MORE', '117')]).durable;
    await log.close();
    log = await HubLog.open(dir, { hotEnded: 1 });
    expect(log.size).toBe(31);
    expect(syncIds(log, '117', 0, 100).map(([id]) => id)).toEqual([...before.slice(30).map(([id]) => id), 'MORE']);
  });
});

