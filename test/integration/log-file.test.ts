import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileLogger, defaultLogDir, maskPhoneNumbers } from '../../main/core/diagnostics-log-file';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'callpop-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('maskPhoneNumbers', () => {
  it.each([
    ['ringing from 05551239988 for 202', 'ringing from 055…88 for 202'],
    ['Callerid=+905551239988&user=117', 'Callerid=+90…88&user=117'],
    ['call +44 20 7946 0958 ended', 'call +44…58 ended'],
    ['DID-420222000320', 'DID-420…20'],
    ['tel:0555-123-99-88', 'tel:055…88'],
    ['"Callerid":"420774852629"', '"Callerid":"420…29"'],
  ])('masks %s', (input, expected) => {
    expect(maskPhoneNumbers(input)).toBe(expected);
  });

  it.each([
    'call 230307114903_10-0 ended',
    'https://pbx:5001/webapi/recording/230307140234_35-1-1.mp3',
    'listening on 0.0.0.0:8765, took 120 ms, duration 00:06',
    'at 2026-11-24T20:31:02.123Z and 2026-11-24 20:31:02',
    'secret abc1234567def and version 45.4.1 from 192.168.100.200',
    'extension 117 and queue 820',
    'download 3f2a9c1e-1234-5678-9abc-def012345678 done',
  ])('keeps %s', (input) => {
    expect(maskPhoneNumbers(input)).toBe(input);
  });
});

describe('defaultLogDir', () => {
  it('matches Electron app.getPath("logs") per platform', () => {
    expect(defaultLogDir({ platform: 'win32', env: { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, homedir: 'C:\\Users\\a' })).toBe('C:\\Users\\a\\AppData\\Roaming\\Callpop\\logs');
    expect(defaultLogDir({ platform: 'darwin', env: {}, homedir: '/Users/a' })).toBe('/Users/a/Library/Logs/Callpop');
    expect(defaultLogDir({ platform: 'linux', env: {}, homedir: '/home/a' })).toBe('/home/a/.config/Callpop/logs');
    expect(defaultLogDir({ platform: 'linux', env: { XDG_CONFIG_HOME: '/x/cfg' }, homedir: '/home/a' })).toBe('/x/cfg/Callpop/logs');
  });
});

describe('createFileLogger', () => {
  const fixed = () => new Date('2026-11-24T20:00:00.000Z');

  it('writes ISO-timestamped levelled lines, masks numbers, skips debug unless enabled', async () => {
    const log = createFileLogger({ dir: path.join(dir, 'nested', 'logs'), now: fixed });
    log.info('ringing 05551239988 call 230307114903_10-0');
    log.debug('not written');
    log.warn('two\nlines');
    log.setDebug(true);
    log.debug('debug 05551239988');
    log.close();
    log.error('after close');
    const text = await readFile(log.file, 'utf8');
    expect(text).toBe(
      '2026-11-24T20:00:00.000Z INFO  ringing 055…88 call 230307114903_10-0\n' +
        '2026-11-24T20:00:00.000Z WARN  two\n    lines\n' +
        '2026-11-24T20:00:00.000Z DEBUG debug 05551239988\n',
    );
  });

  it('escapes control characters so a caller id cannot forge a line', async () => {
    const log = createFileLogger({ dir, now: fixed });
    log.info('name \r2026-01-01T00:00:00.000Z ERROR fake\u0007');
    log.close();
    expect(await readFile(log.file, 'utf8')).toBe('2026-11-24T20:00:00.000Z INFO  name \n    2026-01-01T00:00:00.000Z ERROR fake\\x07\n');
  });

  it('rotates at maxBytes and keeps maxFiles files, newest first', async () => {
    const log = createFileLogger({ dir, maxBytes: 200, maxFiles: 3, now: fixed });
    for (let i = 0; i < 40; i++) log.info(`line ${String(i).padStart(3, '0')}`);
    log.close();
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['callpop.1.log', 'callpop.2.log', 'callpop.log']);
    const read = async (f: string) => (await readFile(path.join(dir, f), 'utf8')).trim().split('\n').map((l) => l.slice(-3));
    const current = await read('callpop.log');
    const one = await read('callpop.1.log');
    const two = await read('callpop.2.log');
    expect(current.at(-1)).toBe('039');
    // Consecutive, no gaps or duplicates across the kept files.
    const all = [...two, ...one, ...current].map(Number);
    expect(all).toEqual(all.map((_, k) => all[0]! + k));
    for (const f of files) expect((await readFile(path.join(dir, f))).length).toBeLessThanOrEqual(200);
  });

  it('appends to an existing file and counts its size toward rotation', async () => {
    await writeFile(path.join(dir, 'callpop.log'), 'x'.repeat(190) + '\n');
    const log = createFileLogger({ dir, maxBytes: 200, maxFiles: 2, now: fixed });
    log.info('new');
    log.close();
    expect((await readFile(path.join(dir, 'callpop.1.log'), 'utf8')).startsWith('xxx')).toBe(true);
    expect(await readFile(path.join(dir, 'callpop.log'), 'utf8')).toBe('2026-11-24T20:00:00.000Z INFO  new\n');
  });

  it('never throws on a disk error and reports it once', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    await writeFile(blocker, 'file');
    const reports: string[] = [];
    const log = createFileLogger({ dir: path.join(blocker, 'logs'), reportError: (m) => reports.push(m) });
    expect(() => {
      log.info('a');
      log.error('b');
    }).not.toThrow();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/cannot open log file/);
  });
});
