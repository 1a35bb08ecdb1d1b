// Issue #20 (polish): the PBX's caller name (callerName: Call Control, webhooks with a name) is kept by the
// personal call log on real files: it survives a reopen, a record without it reads back byte-identical and
// is stored as before (no extra bytes per row), a log written before the column loads whole and is
// rewritten, and the log's search by words finds calls by that name.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callRecordColumns, type CallRecord } from '../../shared/call-record';
import { NumberKeys, entryLine } from '../../main/core/call-log/entry';
import { encodeLine } from '../../main/core/call-log/journal';
import { openCallLogStore, type CallLogStore } from '../../main/core/call-log/store';
import { callRecord } from '../support/call-records';

let dir: string;
const opened: CallLogStore[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-caller-name-'));
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
/** The record JSON of every line of the log file (the part after the tab). */
const rows = async (): Promise<string[]> =>
  (await readFile(join(dir, 'calls.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l.includes('\t'))
    .map((l) => l.slice(l.indexOf('\t') + 1));
// The columns of a row before callerName (format 2 as the previous release wrote it).
const oldColumns = callRecordColumns;

describe("the PBX's caller name in the call log", () => {
  it('survives a reopen, with and without endedBy; a record without it reads back byte-identical', async () => {
    let s = await open();
    const named = call('named', 1, { number: '05321234567', callerName: 'Mehmet Yılmaz' });
    const namedRangOut = call('named-ro', 2, { callerName: 'Ayşe', endedBy: 'ring-timeout' });
    const plain = call('plain', 3);
    await s.put([named, namedRangOut, plain]);
    s = await reopen(s);
    expect(s.get('named')).toEqual(named);
    expect(s.get('named')?.callerName).toBe('Mehmet Yılmaz');
    expect(s.get('named-ro')).toEqual(namedRangOut);
    // toStrictEqual: no callerName key appears, not even as undefined or null.
    expect(s.get('plain')).toStrictEqual(plain);
    // A row without a name is stored as before: not one byte more.
    const short = oldColumns.filter((c) => c !== 'endedBy');
    expect((await rows()).filter((r) => r.startsWith('["plain"'))).toEqual([JSON.stringify(short.map((c) => plain[c]))]);
    // Marking seen keeps the name.
    await s.markSeen(['named']);
    s = await reopen(s);
    expect(s.get('named')).toEqual({ ...named, seen: true });
  });

  it('loads a log written before the column whole, and rewrites it with the column', async () => {
    const keys = new NumberKeys('TR');
    const line = (r: CallRecord): string => encodeLine(entryLine({ ...keys.entry(r), json: JSON.stringify(oldColumns.map((c) => r[c] ?? null)) }));
    const old = [call('o1', 1, { seen: true }), call('o2', 2, { endedBy: 'ring-timeout' })];
    await writeFile(join(dir, 'calls.jsonl'), encodeLine(JSON.stringify({ callpop: 'call-log', version: 2, country: 'TR', columns: oldColumns })) + old.map(line).join(''));
    let s = await open();
    expect(s.size).toBe(2);
    for (const r of old) expect(s.get(r.id)).toStrictEqual(r);
    await s.put([call('new', 4, { callerName: 'Zeynep' })]);
    s = await reopen(s);
    const header = JSON.parse((await readFile(join(dir, 'calls.jsonl'), 'utf8')).split('\n')[0]!.replace(/^[^{]*/, '')) as { columns: string[] };
    expect(header.columns).toContain('callerName');
    for (const r of old) expect(s.get(r.id)).toStrictEqual(r);
    expect(s.get('new')?.callerName).toBe('Zeynep');
  });

  it("the log's search by words finds calls by the PBX's name, case- and accent-insensitively", async () => {
    let s = await open();
    await s.put([call('a', 1, { callerName: 'Mehmet Yılmaz' }), call('b', 2, { number: '02120000000', callerName: 'ACME Lojistik' }), call('c', 3)]);
    const byName = (text: string) => ids(s.query({ text }, all, { idsForText: (t) => s.idsWithCallerName(t) }).records);
    expect(byName('mehmet')).toEqual(['a']);
    expect(byName('yilmaz')).toEqual(['a']);
    expect(byName('lojistik')).toEqual(['b']);
    expect(byName('nobody')).toEqual([]);
    // Calls put after the first search are found too, and a renamed call only by its new name.
    await s.put([call('d', 4, { callerName: 'Mehmet Kaya' }), call('b', 2, { number: '02120000000', callerName: 'Beta' })]);
    expect(byName('mehmet')).toEqual(['d', 'a']);
    expect(byName('lojistik')).toEqual([]);
    s = await reopen(s);
    expect(byName('MEHMET')).toEqual(['d', 'a']);
  });
});
