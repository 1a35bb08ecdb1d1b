// What `callpop serve` prints per change and what `callpop log` shows: aligned columns for every
// change name, "recording" said once, a Status column (talking is not "answered"; an own unanswered
// outgoing call is "not answered", not missed — also for --missed), run as real processes on real files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { callChanges, type CallRecord } from '../../shared/call-record';
import { callTable, updateLine } from '../../main/cli/format';
import { openCallLogStore } from '../../main/core/call-log/store';
import { openNotesStore } from '../../main/core/call-log/notes';
import { callLogDir } from '../../main/core/config/paths';
import { callRecord } from '../support/call-records';

const root = resolve(__dirname, '../..');

const record = (id: string, over: Partial<CallRecord>): CallRecord => callRecord({ id, extension: '202', ...over });

const talking = record('t', { status: 'talking', result: 'answered', answeredAt: '2026-11-24T10:00:05.000Z', endedAt: null, startedAt: '2026-11-24T10:03:00.000Z' });
const ownUnanswered = record('o', { direction: 'outgoing', startedAt: '2026-11-24T10:02:00.000Z', seen: true });
const missed = record('m', { startedAt: '2026-11-24T10:01:00.000Z' });

describe('callpop serve lines', () => {
  it('keep the number in one column whatever the change name', () => {
    const now = new Date(2026, 10, 24, 12, 3, 4);
    const lines = callChanges.map((change) => updateLine({ change, record: { ...missed, direction: change === 'dialing' ? 'outgoing' : 'incoming' } }, now));
    const at = lines.map((l) => l.indexOf('05551239988'));
    expect(new Set(at).size, lines.join('\n')).toBe(1);
    expect(lines.find((l) => l.includes('answered-elsewhere'))).toMatch(/^12:03:04 answered-elsewhere incoming 05551239988/);
  });

  it('say "recording" once, then the URL', () => {
    const url = 'https://pbx.example.com/webapi/recording/1.mp3';
    const line = updateLine({ change: 'recording', record: { ...missed, recordings: [url] } }, new Date());
    expect(line.match(/recording/g)).toHaveLength(2); // the change, and the URL's own path
    expect(line).toMatch(/ recording +incoming 05551239988 https:\/\/pbx\.example\.com/);
  });
});

describe('callpop log', () => {
  let dataDir = '';
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'callpop-cli-lines-'));
    const store = await openCallLogStore(callLogDir(dataDir), { defaultCountry: 'TR' });
    await store.put([missed, ownUnanswered, talking]);
    await store.close();
    const notes = await openNotesStore(callLogDir(dataDir), { defaultCountry: 'TR' });
    await notes.set('m', missed.number, 'Call back after 3; =not a formula');
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('"Send test call" calls say TEST, in the table and in serve lines, as in the app', () => {
    const test = record('001764547200_35', { status: 'ended', result: 'answered', seen: true });
    expect(callTable([test, missed]).split('\n').map((l) => l.includes('TEST'))).toEqual([false, true, false]);
    expect(updateLine({ change: 'ringing', record: test }, new Date())).toContain('05551239988 TEST');
    expect(updateLine({ change: 'ringing', record: missed }, new Date())).not.toContain('TEST');
  });

  it('the table has a Status column: talking, not answered, missed', () => {
    const [head, ...rows] = callTable([talking, ownUnanswered, missed]).split('\n');
    expect(head).toMatch(/^When +Dir +Status +Number/);
    expect(rows[0]).toMatch(/ in +talking +05551239988/);
    expect(rows[1]).toMatch(/ out +not answered +05551239988/);
    expect(rows[2]).toMatch(/ in +missed +05551239988/);

  });

  const runLog = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((res, rej) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join(root, 'main/cli/index.ts'), 'log', '--data-dir', dataDir, ...args], {
        cwd: root,
        env: { ...process.env, XDG_CONFIG_HOME: dataDir },
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.on('error', rej);
      p.on('exit', (code) => {
        clearTimeout(timer);
        res({ code, stdout, stderr });
      });
    });

  it('--json and --csv carry the agent\'s notes, as the app\'s export does', async () => {
    const json = await runLog('--json');
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { id: string; note: string | null }[]).map((r) => [r.id, r.note])).toEqual([
      ['t', null],
      ['o', null],
      ['m', 'Call back after 3; =not a formula'],
    ]);
    const csv = await runLog('--csv');
    expect(csv.code, csv.stderr).toBe(0);
    const [head, ...rows] = csv.stdout.trim().split('\n');
    expect(head!.split(',').at(-1)).toBe('note');
    // The note is a cell like any other: quoted, and its formula lead after ";" neutralised.
    expect(rows.find((r) => r.startsWith('m,'))).toMatch(/,"Call back after 3;' =not a formula"$/);
  });

  it('--missed lists only calls to the agent nobody took, not the agent’s own unanswered ones', async () => {
    const out = await runLog('--json', '--missed');
    expect(out.code, out.stderr).toBe(0);
    expect((JSON.parse(out.stdout) as CallRecord[]).map((r) => r.id)).toEqual(['m']);
  });
});
