// Issue #20 item 9 in the personal call log, on real files: a rang-out call (endedBy "ring-timeout") keeps
// its marker across a reopen, the log's result filter finds it without reading records, it still counts
// as an unseen missed call, and a log written before the marker (format 1, columns without endedBy)
// loads whole and is rewritten in the current format.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callRecordColumns, type CallRecord } from '../../shared/call-record';
import { NumberKeys, entryLine, recordColumns } from '../../main/core/call-log/entry';
import { encodeLine } from '../../main/core/call-log/journal';
import { openCallLogStore, type CallLogStore } from '../../main/core/call-log/store';
import { callRecord } from '../support/call-records';

let dir: string;
const opened: CallLogStore[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-rang-out-'));
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<CallLogStore> {
  const s = await openCallLogStore(dir, { defaultCountry: 'TR' });
  opened.push(s);
  return s;
}
async function reopen(s: CallLogStore): Promise<CallLogStore> {
  opened.splice(opened.indexOf(s), 1);
  await s.close();
  return open();
}

const at = (min: number) => new Date(Date.UTC(2026, 11, 7, 9, min)).toISOString();
const call = (id: string, min: number, over: Partial<CallRecord> = {}): CallRecord =>
  callRecord({ id, startedAt: at(min), endedAt: at(min + 1), ...over } as CallRecord & { id: string });
const ids = (rs: readonly CallRecord[]) => rs.map((r) => r.id);
const all = { offset: 0, limit: 100 };

describe('a rang-out call in the call log', () => {
  it('keeps its marker across a reopen; the filters and the badge count see it', async () => {
    let s = await open();
    const rangOut = call('ro', 3, { endedBy: 'ring-timeout' });
    await s.put([call('answered', 1, { result: 'answered', answeredAt: at(1), durationSec: 20, seen: true }), call('missed', 2), rangOut]);
    s = await reopen(s);
    expect(s.get('ro')).toEqual(rangOut);
    // A record put without the marker reads back without it (not as endedBy: null).
    expect(s.get('missed')).toEqual(call('missed', 2));
    expect(ids(s.query({ result: 'rang-out' }, all).records)).toEqual(['ro']);
    expect(ids(s.query({ result: 'missed' }, all).records)).toEqual(['ro', 'missed']);
    expect(s.missedUnseen()).toBe(2);
    // Seen keeps the marker (both live in the line's flags).
    await s.markSeen(['ro']);
    s = await reopen(s);
    expect(s.get('ro')).toEqual({ ...rangOut, seen: true });
    expect(ids(s.query({ result: 'rang-out' }, all).records)).toEqual(['ro']);
    expect(s.missedUnseen()).toBe(1);
  });

  it('loads a log written before the marker (format 1) whole, and rewrites it in the current format', async () => {
    // Format 1 as the previous release wrote it: header version 1, the columns without endedBy, "seen" 0/1.
    const oldColumns = callRecordColumns.filter((c) => c !== 'endedBy');
    const keys = new NumberKeys('TR');
    const line = (r: CallRecord): string => encodeLine(entryLine({ ...keys.entry(r), json: JSON.stringify(oldColumns.map((c) => r[c])) }));
    const old = [call('o1', 1, { seen: true }), call('o2', 2), call('o3', 3, { result: 'answered', answeredAt: at(3), durationSec: 5, seen: true })];
    await writeFile(join(dir, 'calls.jsonl'), encodeLine(JSON.stringify({ callpop: 'call-log', version: 1, country: 'TR', columns: oldColumns })) + old.map(line).join(''));
    let s = await open();
    expect(s.size).toBe(3);
    for (const r of old) expect(s.get(r.id)).toEqual(r);
    expect(s.missedUnseen()).toBe(1);
    expect(ids(s.query({ result: 'rang-out' }, all).records)).toEqual([]);
    // The rewrite runs before the next write.
    await s.put([call('new', 4, { endedBy: 'ring-timeout' })]);
    s = await reopen(s);
    const header = JSON.parse((await readFile(join(dir, 'calls.jsonl'), 'utf8')).split('\n')[0]!.replace(/^[^{]*/, '')) as { version: number; columns: string[] };
    expect(header.version).toBe(2);
    expect(header.columns).toEqual([...recordColumns]);
    for (const r of old) expect(s.get(r.id)).toEqual(r);
    expect(ids(s.query({ result: 'rang-out' }, all).records)).toEqual(['new']);
  });

  it('refuses a log of a format it does not know, with a clear message, and leaves it as it is', async () => {
    const file = join(dir, 'calls.jsonl');
    const text = encodeLine(JSON.stringify({ callpop: 'call-log', version: 3, country: 'TR', columns: callRecordColumns }));
    await writeFile(file, text);
    await expect(openCallLogStore(dir, { defaultCountry: 'TR' })).rejects.toThrow(/another version of Callpop \(format 3\)/);
    expect(await readFile(file, 'utf8')).toBe(text);
  });
});
