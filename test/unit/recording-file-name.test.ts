import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maxFileNameBytes, recordingFileName, sanitizeFileName } from '../../shared/recording-file-name';

const call = { startedAt: '2023-03-07T14:02:34Z', direction: 'incoming' as const, number: '05551239988', extension: '117' };
const utf8 = (s: string): number => new TextEncoder().encode(s).length;
const forbidden = /[/\\:*?"<>|\u0000-\u001f]/; // eslint-disable-line no-control-regex
const reserved = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i;

describe('recordingFileName', () => {
  let savedTz: string | undefined;
  beforeEach(() => {
    savedTz = process.env.TZ;
  });
  afterEach(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('uses the local time of the start', () => {
    process.env.TZ = 'UTC';
    expect(recordingFileName(call)).toBe('2023-03-07 14-02 incoming 05551239988 117.mp3');
    process.env.TZ = 'Europe/Istanbul'; // UTC+3
    expect(recordingFileName(call)).toBe('2023-03-07 17-02 incoming 05551239988 117.mp3');
    process.env.TZ = 'America/Los_Angeles'; // the day before
    expect(recordingFileName({ ...call, startedAt: '2023-03-07T02:00:00+00:00' })).toBe('2023-03-06 18-00 incoming 05551239988 117.mp3');
  });

  it('numbers further recordings of one call and names withheld callers', () => {
    process.env.TZ = 'UTC';
    expect(recordingFileName({ ...call, direction: 'outgoing', number: '' }, 1)).toBe('2023-03-07 14-02 outgoing withheld 117 (2).mp3');
    expect(recordingFileName(call, 2)).toBe('2023-03-07 14-02 incoming 05551239988 117 (3).mp3');
    expect(recordingFileName({ ...call, number: '+90 555 123 99 88' })).toBe('2023-03-07 14-02 incoming +90 555 123 99 88 117.mp3');
  });

  it.each([
    ['../../../etc/passwd', '117'],
    ['..\\..\\Windows\\System32', '..'],
    ['C:\\evil', 'a/b'],
    ['a\u0000b\r\nc\u001b[31m', '1\t2'],
    ['"*?<>|:', '\u202egpm.exe'],
    ['9'.repeat(256), 'x'.repeat(32)],
  ])('hostile number %j / extension %j stays one safe name', (number, extension) => {
    const name = recordingFileName({ ...call, number, extension });
    expect(name).not.toMatch(forbidden);
    expect(name).not.toContain('\u202e');
    expect(name.startsWith('.')).toBe(false);
    expect(name.endsWith('.mp3')).toBe(true);
    expect(utf8(name)).toBeLessThanOrEqual(maxFileNameBytes);
  });
});

describe('sanitizeFileName', () => {
  it.each([
    ['CON', '_CON'],
    ['con.mp3', '_con.mp3'],
    ['LPT1.txt', '_LPT1.txt'],
    ['...hidden.mp3', 'hidden.mp3'],
    ['name. . ', 'name'],
    ['a/b\\c:d.mp3', 'a_b_c_d.mp3'],
    ['', 'recording.mp3'],
    ['..', 'recording.mp3'],
    ['/', 'recording.mp3'],
    ['230307140234_35-1-1.mp3', '230307140234_35-1-1.mp3'],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('caps long names by UTF-8 bytes, keeping the extension and whole characters', () => {
    const name = sanitizeFileName(`${'ş'.repeat(300)}.mp3`);
    expect(utf8(name)).toBeLessThanOrEqual(maxFileNameBytes);
    expect(name.endsWith('ş.mp3')).toBe(true);
    expect(name).not.toContain('\uFFFD');
    expect(reserved.test(name)).toBe(false);
  });
});

describe('recordingFileName edge parts', () => {
  it('dots-only parts are dropped, not kept as "..", and an unparsable date is named', () => {
    const name = recordingFileName({ startedAt: 'nonsense', direction: 'incoming', number: '...', extension: '..' });
    expect(name).toBe('unknown-date incoming withheld unknown.mp3');
  });
});
