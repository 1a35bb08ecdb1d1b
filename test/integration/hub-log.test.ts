// The hub's PBX-wide log on real files: records keyed by (extension, call id), seqs per change,
// "since" queries, restarts (seqs jump past anything a crashed run may have published), retention.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '../../shared/call-record';
import { HubLog, SEQ_START_GAP } from '../../main/core/hub/hub-log';

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
  ({
    id,
    direction: 'incoming',
    number: '05551230000',
    extension,
    queue: null,
    did: null,
    startedAt: '2026-12-01T10:00:00.000Z',
    durationSec: null,
    transferType: null,
    transferredTo: null,
    transferredFrom: null,
    answeredBy: null,
    recordings: [],
    seen: false,
    status: 'ringing',
    result: null,
    answeredAt: null,
    endedAt: null,
    ...more,
  }) as CallRecord;
const ended = (id: string, extension: string, startedAt = '2026-12-01T10:00:00.000Z'): CallRecord =>
  rec(id, extension, { status: 'ended', result: 'missed', startedAt, endedAt: '2026-12-01T10:01:00.000Z' } as Partial<CallRecord>);

describe('HubLog', () => {
  it('keeps the two sides of a transfer (same call id, two extensions) apart and answers "since" per extension in seq order', async () => {
    log = await HubLog.open(dir);
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
    log = await HubLog.open(dir);
    const { seqs, durable } = log.append([rec('C1', '117'), ended('C1', '117'), rec('C2', '204')]);
    await durable;
    await log.close();
    log = await HubLog.open(dir);
    expect(log.head).toBe(Math.max(...seqs) + SEQ_START_GAP);
    expect(log.get('117', 'C1')).toMatchObject({ seq: seqs[1], record: { status: 'ended' } });
    expect(log.openCalls().map((r) => r.id)).toEqual(['C2']);
    // A start with no change still moves the next run's seqs on (this run may have published some).
    const head = log.head;
    await log.close();
    log = await HubLog.open(dir);
    expect(log.head).toBe(head + SEQ_START_GAP);
  });

  it('drops old ended calls on prune (and rewrites the file without them), keeping the head seq', async () => {
    log = await HubLog.open(dir);
    await log.append([ended('OLD', '117', '2025-01-01T00:00:00.000Z'), ended('NEW', '117'), rec('OPEN', '117', { startedAt: '2025-01-01T00:00:00.000Z' })]).durable;
    const head = log.head;
    expect(await log.prune(Date.parse('2026-01-01T00:00:00.000Z'))).toBe(1);
    await log.close();
    const text = await readFile(join(dir, 'calls.jsonl'), 'utf8');
    expect(text).not.toContain('"OLD"');
    log = await HubLog.open(dir);
    expect(log.since('117', 0, 10).records.map((r) => r.record.id).sort()).toEqual(['NEW', 'OPEN']);
    expect(log.head).toBeGreaterThanOrEqual(head + SEQ_START_GAP);
  });
});
