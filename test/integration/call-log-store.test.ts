// The call log store on real files in a temp dir.
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, uptime } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callRecordColumns } from '../../shared/call-record';
import type { CallRecord } from '../../shared/call-record';
import type { Logger } from '../../shared/diagnostics-log';
import { openCallLogStore } from '../../main/core/call-log/store';
import { NumberKeys, entryLine, recordColumns } from '../../main/core/call-log/entry';
import { LogReader, encodeLine, readLog } from '../../main/core/call-log/journal';
import type { CallLogStore } from '../../main/core/call-log/store';
import { callRecord } from '../support/call-records';

let dir: string;
const opened: CallLogStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-log-test-'));
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(opts: Parameters<typeof openCallLogStore>[1] = {}): Promise<CallLogStore> {
  const s = await openCallLogStore(dir, { defaultCountry: 'TR', ...opts });
  opened.push(s);
  return s;
}

async function reopen(s: CallLogStore, opts: Parameters<typeof openCallLogStore>[1] = {}): Promise<CallLogStore> {
  await s.close();
  return open(opts);
}

/** A local wall-clock time as ISO (filters by bare dates use the local calendar). */
const local = (y: number, mo: number, d: number, h = 12, mi = 0): string => new Date(y, mo - 1, d, h, mi).toISOString();

function call(id: string, over: Partial<CallRecord> = {}): CallRecord {
  const startedAt = over.startedAt ?? local(2026, 11, 24, 10);
  return callRecord({ id, extension: '202', startedAt, endedAt: new Date(Date.parse(startedAt) + 30_000).toISOString(), ...over });
}

const ids = (records: readonly CallRecord[]): string[] => records.map((r) => r.id);
const all = { offset: 0, limit: 1000 };

function capture(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
}

describe('call log store', () => {
  it('upserts by id and keeps later updates across a reopen', async () => {
    let s = await open();
    await s.put([call('c1', { status: 'ringing', result: null, endedAt: null })]);
    expect(s.openCalls().map((r) => r.id)).toEqual(['c1']);
    const answered = call('c1', { result: 'answered', answeredAt: local(2026, 11, 24, 10, 1), durationSec: 42 });
    await s.put([answered]);
    await s.put([{ ...answered, recordings: ['https://pbx.example.com/rec/c1.mp3'] }]);
    expect(s.size).toBe(1);
    expect(s.openCalls()).toEqual([]);
    s = await reopen(s);
    expect(s.size).toBe(1);
    expect(s.get('c1')).toEqual({ ...answered, recordings: ['https://pbx.example.com/rec/c1.mp3'] });
  });

  it('rejects an invalid record with a clear message and writes nothing', async () => {
    const s = await open();
    const bad = { ...call('c1'), status: 'ended', endedAt: null } as unknown as CallRecord;
    await expect(s.put([call('ok'), bad])).rejects.toThrow(/Invalid call record "c1": endedAt/);
    expect(s.size).toBe(0);
    const s2 = await reopen(s);
    expect(s2.size).toBe(0);
  });

  it('does not rewrite an identical redelivery', async () => {
    const s = await open();
    await s.put([call('c1')]);
    const size = (await stat(join(dir, 'calls.jsonl'))).size;
    await s.put([call('c1')]);
    expect((await stat(join(dir, 'calls.jsonl'))).size).toBe(size);
  });

  it('queries newest first with direction, result, date, unseen and paging filters', async () => {
    const s = await open();
    await s.put([
      call('a', { startedAt: local(2026, 11, 22, 9), direction: 'outgoing', result: 'answered', answeredAt: local(2026, 11, 22, 9, 1), seen: true }),
      call('b', { startedAt: local(2026, 11, 23, 0, 0) }),
      call('c', { startedAt: local(2026, 11, 23, 23, 59), result: 'answered-elsewhere', answeredBy: '204' }),
      call('d', { startedAt: local(2026, 11, 24, 8), seen: true }),
      call('e', { startedAt: local(2026, 11, 24, 9), status: 'talking', result: 'answered', answeredAt: local(2026, 11, 24, 9, 1), endedAt: null }),
    ]);
    expect(ids(s.query({}, all).records)).toEqual(['e', 'd', 'c', 'b', 'a']);
    expect(ids(s.query({ direction: 'outgoing' }, all).records)).toEqual(['a']);
    expect(ids(s.query({ direction: 'incoming', result: 'missed' }, all).records)).toEqual(['d', 'b']);
    expect(ids(s.query({ result: 'answered' }, all).records)).toEqual(['e', 'a']);
    expect(ids(s.query({ result: 'answered-elsewhere' }, all).records)).toEqual(['c']);
    // A bare `to` date covers that whole (local) day.
    expect(ids(s.query({ from: '2026-11-23', to: '2026-11-23' }, all).records)).toEqual(['c', 'b']);
    expect(ids(s.query({ to: '2026-11-22' }, all).records)).toEqual(['a']);
    expect(ids(s.query({ from: local(2026, 11, 23, 12) }, all).records)).toEqual(['e', 'd', 'c']);
    expect(ids(s.query({ unseenOnly: true }, all).records)).toEqual(['e', 'c', 'b']);
    const page = s.query({}, { offset: 1, limit: 2 });
    expect(page.total).toBe(5);
    expect(ids(page.records)).toEqual(['d', 'c']);
    expect(s.query({}, { offset: 10, limit: 2 })).toEqual({ total: 5, records: [] });
    expect(ids([...s.iterate({ result: 'missed' })])).toEqual(['d', 'b']);
    expect(() => s.query({ from: 'yesterday' }, all)).toThrow(/Invalid date "yesterday"/);
  });

  it('finds a number typed in any format, partial input and extensions', async () => {
    const s = await open();
    await s.put([
      call('national', { number: '0555 123 99 88', startedAt: local(2026, 11, 24, 1) }),
      call('intl', { number: '+90 555 123 99 88', startedAt: local(2026, 11, 24, 2) }),
      call('idd', { number: '00905551239988', startedAt: local(2026, 11, 24, 3) }),
      call('other', { number: '+44 20 7946 0958', startedAt: local(2026, 11, 24, 4) }),
      call('ext', { number: '204', startedAt: local(2026, 11, 24, 5) }),
      call('withheld', { number: '', startedAt: local(2026, 11, 24, 6) }),
    ]);
    const same = ['idd', 'intl', 'national'];
    for (const text of ['0555 123 99 88', '+90 555 123 99 88', '+905551239988', '00905551239988', '05551239988', '(0555) 123-99-88']) {
      expect(ids(s.query({ text }, all).records), text).toEqual(same);
    }
    expect(ids(s.query({ text: '123 99' }, all).records)).toEqual(same);
    expect(ids(s.query({ text: '7946' }, all).records)).toEqual(['other']);
    expect(ids(s.query({ text: '204' }, all).records)).toEqual(['ext']);
    expect(s.query({ text: '999999' }, all).total).toBe(0);
    // Letters: a name search through the caller's contacts.
    expect(s.query({ text: 'Ayşe' }, all).total).toBe(0);
    const numbersForText = (t: string): string[] => (t === 'Ayşe' ? ['+90 (555) 123 99 88'] : []);
    expect(ids(s.query({ text: 'Ayşe' }, all, { numbersForText }).records)).toEqual(same);
    // Calls logged after the first search are found too (the number index follows every change).
    await s.put([call('later', { number: '+90 555 123 99 88', startedAt: local(2026, 11, 24, 7) }), call('new', { number: '0532 000 11 22', startedAt: local(2026, 11, 24, 8) })]);
    await s.delete(['idd']);
    expect(ids(s.query({ text: '05551239988' }, all).records)).toEqual(['later', 'intl', 'national']);
    expect(ids(s.query({ text: '+90 532 000 11 22' }, all).records)).toEqual(['new']);
    expect(ids(s.query({ text: '5', direction: 'incoming' }, all).records)).toEqual(['new', 'later', 'other', 'intl', 'national']);
  });

  it('international forms match whatever the default country', async () => {
    let s = await open({ defaultCountry: 'US' });
    await s.put([call('intl', { number: '+90 555 123 99 88' }), call('idd', { number: '00905551239988', startedAt: local(2026, 11, 24, 9) })]);
    expect(ids(s.query({ text: '+90 555 123 99 88' }, all).records)).toEqual(['intl', 'idd']);
    expect(ids(s.query({ text: '00905551239988' }, all).records)).toEqual(['intl', 'idd']);
    // Reopening with another country re-keys the stored numbers.
    s = await reopen(s, { defaultCountry: 'TR' });
    expect(ids(s.query({ text: '0555 123 99 88' }, all).records)).toEqual(['intl', 'idd']);
    s = await reopen(s, { defaultCountry: 'TR' });
    expect(ids(s.query({ text: '0555 123 99 88' }, all).records)).toEqual(['intl', 'idd']);
  });

  it('summarises the history of a number', async () => {
    const s = await open();
    await s.put([
      call('old', { number: '+90 555 123 99 88', startedAt: local(2026, 11, 20), result: 'answered', answeredAt: local(2026, 11, 20, 12, 1) }),
      call('mid', { number: '0555 123 99 88', startedAt: local(2026, 11, 21) }),
      call('now', { number: '05551239988', startedAt: local(2026, 11, 24) }),
      call('else', { number: '0555 000 00 00', startedAt: local(2026, 11, 23) }),
    ]);
    const h = s.history('0090 555 123 99 88', 'now');
    expect({ count: h.count, missed: h.missed, last: h.last?.id }).toEqual({ count: 2, missed: 1, last: 'mid' });
    expect(s.history('05551239988').count).toBe(3);
    expect(s.history('')).toEqual({ count: 0, missed: 0, last: null, recent: [] });
  });

  it('history lists the last three calls and does not count own unanswered outgoing calls as missed', async () => {
    const s = await open();
    await s.put([
      call('a', { number: '05551239988', startedAt: local(2026, 11, 20) }),
      call('b', { number: '05551239988', startedAt: local(2026, 11, 21), direction: 'outgoing' }),
      call('c', { number: '05551239988', startedAt: local(2026, 11, 22) }),
      call('d', { number: '05551239988', startedAt: local(2026, 11, 23), result: 'answered', answeredAt: local(2026, 11, 23, 12, 1) }),
    ]);
    const h = s.history('05551239988');
    expect(h.recent.map((r) => r.id)).toEqual(['d', 'c', 'b']);
    expect({ count: h.count, missed: h.missed }).toEqual({ count: 4, missed: 2 });
    // The Missed filter and the badge skip the outgoing one; "not-answered" finds it.
    expect(ids(s.query({ result: 'missed' }, all).records)).toEqual(['c', 'a']);
    expect(ids(s.query({ result: 'not-answered' }, all).records)).toEqual(['b']);
    expect(s.missedUnseen()).toBe(2);
  });

  it('counts missed unseen calls and marks them seen (seen stays seen)', async () => {
    let s = await open();
    await s.put([
      call('m1', { startedAt: local(2026, 11, 24, 1) }),
      call('m2', { startedAt: local(2026, 11, 24, 2) }),
      call('m3', { startedAt: local(2026, 11, 24, 3) }),
      call('out', { direction: 'outgoing', startedAt: local(2026, 11, 24, 4) }),
    ]);
    expect(s.missedUnseen()).toBe(3);
    expect(await s.markSeen(['m1', 'missing'])).toBe(1);
    expect(s.missedUnseen()).toBe(2);
    expect(await s.markSeen(['m1'])).toBe(0);
    // The tracker's later update (a recording) carries seen: false; the user's "seen" wins.
    await s.put([call('m1', { startedAt: local(2026, 11, 24, 1), recordings: ['https://pbx.example.com/r.mp3'] })]);
    expect(s.get('m1')?.seen).toBe(true);
    expect(s.get('m1')?.recordings).toHaveLength(1);
    expect(await s.markSeen()).toBe(3);
    expect(s.missedUnseen()).toBe(0);
    s = await reopen(s);
    expect(s.missedUnseen()).toBe(0);
    expect(s.query({ unseenOnly: true }, all).total).toBe(0);
  });

  it('deletes and prunes durably', async () => {
    let s = await open();
    await s.put([
      call('old1', { startedAt: local(2026, 1, 1) }),
      call('old2', { startedAt: local(2026, 1, 2) }),
      call('oldOpen', { startedAt: local(2026, 1, 3), status: 'ringing', result: null, endedAt: null }),
      call('new1', { startedAt: local(2026, 11, 1) }),
      call('new2', { startedAt: local(2026, 11, 2) }),
    ]);
    expect(await s.delete(['new2', 'nope', 'new2'])).toBe(1);
    expect(await s.prune(Date.parse(local(2026, 6, 1)))).toBe(2);
    expect(ids(s.query({}, all).records)).toEqual(['new1', 'oldOpen']);
    s = await reopen(s);
    expect(ids(s.query({}, all).records)).toEqual(['new1', 'oldOpen']);
    // A deleted id can come back.
    await s.put([call('new2', { startedAt: local(2026, 11, 2) })]);
    s = await reopen(s);
    expect(ids(s.query({}, all).records)).toEqual(['new2', 'new1', 'oldOpen']);
  });

  it('returns calls that ended recently', async () => {
    const s = await open();
    await s.put([
      call('long-ago', { startedAt: local(2026, 11, 1) }),
      call('just-now', { startedAt: new Date(Date.now() - 120_000).toISOString() }),
      call('open', { startedAt: new Date().toISOString(), status: 'ringing', result: null, endedAt: null }),
    ]);
    expect(ids(s.recent(Date.now() - 600_000))).toEqual(['just-now']);
  });

  it('groups concurrent puts and keeps them in order', async () => {
    let s = await open();
    const puts: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) puts.push(s.put([call('same', { durationSec: i, result: 'answered', answeredAt: local(2026, 11, 24, 10, 1) })]));
    for (let i = 0; i < 50; i++) puts.push(s.put([call(`c${i}`, { startedAt: local(2026, 11, 1, 0, i) })]));
    await Promise.all(puts);
    expect(s.get('same')?.durationSec).toBe(49);
    s = await reopen(s);
    expect(s.size).toBe(51);
    expect(s.get('same')?.durationSec).toBe(49);
  });

  it('cuts off a torn last line and keeps everything before it', async () => {
    let s = await open();
    await s.put([call('a'), call('b', { startedAt: local(2026, 11, 24, 11) })]);
    await s.close();
    const file = join(dir, 'calls.jsonl');
    const good = (await stat(file)).size;
    const line = (await readFile(file, 'utf8')).split('\n').at(-2)!;
    await appendFile(file, line.slice(0, 40)); // a write cut short by a crash (or one in progress)
    // A reader leaves it alone: the writer may be in the middle of that write.
    const reader = await open({ readOnly: true });
    expect(reader.size).toBe(2);
    await reader.close();
    expect((await stat(file)).size).toBe(good + 40);
    const logger = capture();
    s = await open({ logger });
    expect(ids(s.query({}, all).records)).toEqual(['b', 'a']);
    expect((await stat(file)).size).toBe(good);
    expect(logger.warnings.join('\n')).toMatch(/incomplete last line/);
    await s.put([call('c', { startedAt: local(2026, 11, 24, 12) })]);
    s = await reopen(s);
    expect(ids(s.query({}, all).records)).toEqual(['c', 'b', 'a']);
  });

  it('drops a complete but damaged last line', async () => {
    let s = await open();
    await s.put([call('a'), call('b', { startedAt: local(2026, 11, 24, 11) })]);
    await s.close();
    const file = join(dir, 'calls.jsonl');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, -10) + 'XXXXXXXXX\n');
    s = await open();
    expect(ids(s.query({}, all).records)).toEqual(['a']);
    await s.put([call('c', { startedAt: local(2026, 11, 24, 12) })]);
    s = await reopen(s);
    expect(ids(s.query({}, all).records)).toEqual(['c', 'a']);
  });

  it('skips and reports a damaged line in the middle without losing later records', async () => {
    let s = await open();
    await s.put([call('a', { startedAt: local(2026, 11, 24, 1) })]);
    await s.put([call('b', { startedAt: local(2026, 11, 24, 2) })]);
    await s.put([call('c', { startedAt: local(2026, 11, 24, 3) })]);
    await s.close();
    const file = join(dir, 'calls.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[2] = lines[2]!.replace('"b"', '"B"'); // header, a, b, c: bit rot in b's line
    await writeFile(file, lines.join('\n'));
    const size = (await stat(file)).size;
    const logger = capture();
    s = await open({ logger });
    expect(ids(s.query({}, all).records)).toEqual(['c', 'a']);
    expect(logger.warnings.join('\n')).toMatch(/skipped 1 damaged line\(s\) \(line 3\)/);
    expect((await stat(file)).size).toBe(size);
  });

  it('validates and rewrites a file whose columns differ (an older layout)', async () => {
    // Same records, columns stored in reverse order, one of them not a valid call record.
    const columns = [...callRecordColumns].reverse();
    const keys = new NumberKeys('TR');
    const line = (r: Record<string, unknown>): string => {
      const e = keys.entry(r as CallRecord);
      return encodeLine(entryLine({ ...e, json: JSON.stringify(columns.map((c) => r[c])) }));
    };
    const good = call('good', { recordings: ['https://pbx.example.com/r.mp3'] });
    const bad = { ...call('bad', { startedAt: local(2026, 11, 24, 11) }), durationSec: -5 };
    await writeFile(join(dir, 'calls.jsonl'), encodeLine(JSON.stringify({ callpop: 'call-log', version: 1, country: 'TR', columns })) + line(good) + line(bad));
    const logger = capture();
    let s = await open({ logger });
    expect(ids(s.query({}, all).records)).toEqual(['good']);
    expect(s.get('good')).toEqual(good);
    expect(logger.warnings.join('\n')).toMatch(/ignored 1 record\(s\) that are not valid call records/);
    // The rewrite runs in the background, before the next write.
    await s.put([call('next', { startedAt: local(2026, 11, 24, 12) })]);
    s = await reopen(s);
    expect((await readFile(join(dir, 'calls.jsonl'), 'utf8')).split('\n')[0]).toContain(JSON.stringify(recordColumns));
    expect(s.get('good')).toEqual(good);
    expect(s.size).toBe(2);
  });

  it('rewrites the file when superseded lines dominate', async () => {
    let s = await open();
    const versions = Array.from({ length: 3000 }, (_, i) => call('hot', { durationSec: i, result: 'answered', answeredAt: local(2026, 11, 24, 10, 1) }));
    await s.put(versions);
    const before = (await stat(join(dir, 'calls.jsonl'))).size;
    // Compaction runs between writes: it is done once the next put resolves.
    await s.put([call('other', { startedAt: local(2026, 11, 23) })]);
    const after = (await stat(join(dir, 'calls.jsonl'))).size;
    expect(after).toBeLessThan(before / 100);
    s = await reopen(s);
    expect(s.size).toBe(2);
    expect(s.get('hot')?.durationSec).toBe(2999);
  });

  it('remembers deletions (not retention) across compaction and reopening, until the id is put again', async () => {
    let s = await open();
    await s.put([call('gone', { status: 'ringing', result: null, endedAt: null }), call('old', { startedAt: local(2026, 1, 1) }), call('kept')]);
    expect(await s.delete(['gone'])).toBe(1);
    expect(await s.prune(Date.parse(local(2026, 6, 1)))).toBe(1);
    expect([s.isDeleted('gone'), s.isDeleted('old'), s.isDeleted('kept'), s.isDeleted('never')]).toEqual([true, false, false, false]);
    // Enough superseded lines to make the next put compact the file.
    await s.put(Array.from({ length: 3000 }, (_, i) => call('kept', { durationSec: i })));
    await s.put([call('other', { startedAt: local(2026, 11, 23) })]);
    expect((await readFile(join(dir, 'calls.jsonl'), 'utf8')).split('\n').length).toBeLessThan(10);
    s = await reopen(s);
    expect(s.isDeleted('gone')).toBe(true);
    expect(s.isDeleted('old')).toBe(false);
    expect(ids(s.query({}, all).records)).toEqual(['kept', 'other']);
    // An explicit put brings it back (and clears the mark), durably.
    await s.put([call('gone')]);
    expect(s.isDeleted('gone')).toBe(false);
    s = await reopen(s);
    expect(s.isDeleted('gone')).toBe(false);
    expect(s.get('gone')?.id).toBe('gone');
  });

  it('reads records back from the file: non-ASCII text, after appends, after a compaction, and for a reader opened before it', async () => {
    let s = await open();
    const uni = (id: string, i: number): CallRecord =>
      call(id, { number: `+90 555 ${i} — Çağrı “ü”`, recordings: [`https://pbx.example/rec/${id}/ğ€𝄞-${i}.mp3`], startedAt: local(2026, 11, 20, 8, i % 60) });
    // Enough records that opening reads the file in several chunks.
    const many = Array.from({ length: 1500 }, (_, i) => (i % 3 === 0 ? uni(`ü-${i}-çağrı-ıd`, i) : call(`plain-${i}`, { durationSec: i, startedAt: local(2026, 11, 20, 9, i % 60) })));
    await s.put(many);
    const expectAll = (store: CallLogStore): void => {
      for (const r of many) expect(store.get(r.id)).toEqual(r);
    };
    expectAll(s);
    s = await reopen(s);
    expectAll(s);
    // A reader holding the file open while the writer compacts it keeps reading the right records.
    const reader = await open({ readOnly: true });
    await s.put(Array.from({ length: 3000 }, (_, i) => ({ ...many[0]!, durationSec: i })));
    const superseded = (await stat(join(dir, 'calls.jsonl'))).size;
    await s.put([uni('after-ç', 7)]);
    expect((await stat(join(dir, 'calls.jsonl'))).size).toBeLessThan(superseded / 2);
    const latest = { ...many[0]!, durationSec: 2999 };
    expect(s.get(many[0]!.id)).toEqual(latest);
    expect(s.get('after-ç')).toEqual(uni('after-ç', 7));
    for (const r of many.slice(1)) expect(s.get(r.id)).toEqual(r);
    expectAll(reader);
    // Appends after the compaction land at the right positions too, and the file reopens intact.
    await s.put([uni('later-ğ', 8), call('later-plain')]);
    expect(s.get('later-ğ')).toEqual(uni('later-ğ', 8));
    expect(s.get('later-plain')).toEqual(call('later-plain'));
    s = await reopen(s);
    expect(s.size).toBe(many.length + 3);
    expect(s.get(many[0]!.id)).toEqual(latest);
    expect(s.query({ text: '555 42' }, all).records.map((r) => r.id)).toContain('ü-42-çağrı-ıd');
  });

  it('opening reads lines across chunk boundaries (also lines longer than a chunk) at their byte positions', async () => {
    const lines = ['{"a":1}', 'ascii line', 'ç — “non-ASCII” 𝄞', 'x'.repeat(300), 'last ü'];
    const bad = `${'0'.repeat(8)} damaged\n`;
    await writeFile(join(dir, 'calls.jsonl'), encodeLine(lines[0]!) + encodeLine(lines[1]!) + bad + lines.slice(2).map(encodeLine).join('') + 'deadbeef torn');
    const file = await readFile(join(dir, 'calls.jsonl'));
    for (const chunk of [16, 64, 1 << 18]) {
      const seen: string[] = [];
      const warnings: string[] = [];
      const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
      const reader = await LogReader.open(dir);
      try {
        const loaded = await readLog(dir, reader, logger, (content, pos) => {
          // The position is where the content's bytes are in the file.
          expect(file.subarray(pos, pos + Buffer.byteLength(content)).toString('utf8')).toBe(content);
          seen.push(content);
        }, chunk);
        expect(seen).toEqual(lines);
        expect(loaded).toEqual({ lines: lines.length, validBytes: file.length - 'deadbeef torn'.length, fileBytes: file.length });
        expect(warnings.join()).toMatch(/skipped 1 damaged line\(s\) \(line 3\)/);
      } finally {
        reader.close();
      }
    }
  });

  it('lets only one writer in, takes over a stale lock, and lets readers in', async () => {
    const s = await open();
    await s.put([call('a')]);
    await expect(openCallLogStore(dir)).rejects.toThrow(`the call log in ${dir} is in use by process ${process.pid}`);
    const reader = await open({ readOnly: true });
    expect(ids(reader.query({}, all).records)).toEqual(['a']);
    await expect(reader.put([call('b')])).rejects.toThrow(/read-only/);
    await reader.close();
    await s.close();

    // A writer that died without cleaning up: its pid no longer runs.
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    await writeFile(join(dir, 'calls.lock'), `${deadPid}\n`);
    const s2 = await open();
    expect(s2.get('a')?.id).toBe('a');
    expect((await readFile(join(dir, 'calls.lock'), 'utf8')).split('\n')[0]).toBe(String(process.pid));
    await s2.close();

    // A lock from before a reboot names a pid that may now belong to anything (here: a live one).
    await writeFile(join(dir, 'calls.lock'), `${process.pid}\n${Date.now() - 86_400_000 - uptime() * 1000}\n`);
    const s3 = await open();
    expect(s3.size).toBe(1);
    await s3.close();
    await expect(stat(join(dir, 'calls.lock'))).rejects.toThrow(/ENOENT/);
  });

  it('lets readers open while the writer is appending and shows them a consistent prefix', async () => {
    const s = await open();
    let acked = 0;
    const writing = (async () => {
      for (let i = 0; i < 40; i++) {
        await s.put([call(`w${i}`, { startedAt: local(2026, 11, 24, 0, i) })]);
        acked = i + 1;
      }
    })();
    let reads = 0;
    while (acked < 40) {
      const before = acked;
      const reader = await openCallLogStore(dir, { readOnly: true, defaultCountry: 'TR' });
      const seen = ids(reader.query({}, all).records);
      await reader.close();
      // Everything acknowledged before the reader opened is there, in order, and nothing is half there.
      expect(seen.length).toBeGreaterThanOrEqual(before);
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => `w${seen.length - 1 - i}`));
      reads++;
    }
    await writing;
    expect(reads).toBeGreaterThan(0);
  });

  it('opens a missing log read-only as empty without creating anything', async () => {
    const missing = join(dir, 'not-there');
    const reader = await openCallLogStore(missing, { readOnly: true });
    expect(reader.size).toBe(0);
    await reader.close();
    await expect(stat(missing)).rejects.toThrow(/ENOENT/);
  });
});
