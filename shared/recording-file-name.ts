// File names for downloaded recordings. Every part except the date comes from webhook input
// (call id, number, extension) and is untrusted, so each part is reduced to characters that are
// safe on Windows, macOS and Linux: no separators, no reserved characters or names, no leading
// dots, bounded length. A name from here can never point outside the download folder.
import type { CallRecord } from './call-record';

/** Characters no file system of ours accepts in a name, plus controls and bidi overrides (spoofed extensions). */
// eslint-disable-next-line no-control-regex
const unsafeChars = /[/\\:*?"<>|\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** Windows device names, reserved with any extension ("CON.mp3", "com1.txt"). */
const reservedWindowsName = /^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(?:\.|$)/i;

/** Longest file name we produce, in UTF-8 bytes; leaves room for " (99)" and the ".….part" temp name under 255. */
export const maxFileNameBytes = 200;
const maxPartChars = 40;

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/** Cut to at most `maxBytes` UTF-8 bytes without splitting a character. */
function truncateUtf8(s: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = utf8Length(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** One untrusted part of a name: unsafe characters become "_", whitespace collapsed, no dots at the edges, length bounded. */
export function sanitizeNamePart(part: string, maxChars = maxPartChars): string {
  const trimEdges = (s: string): string => s.replace(/^[\s.]+|[\s.]+$/g, '');
  const cleaned = trimEdges(part.normalize('NFC').replace(unsafeChars, '_').replace(/\s+/g, ' '));
  return trimEdges(Array.from(cleaned).slice(0, maxChars).join(''));
}

/**
 * A whole file name made safe: no separators or reserved characters, no leading dots or spaces,
 * no trailing dots or spaces (Windows drops them), no reserved Windows device names, at most
 * `maxFileNameBytes` bytes with the extension kept. `fallback` is used when nothing is left.
 */
export function sanitizeFileName(name: string, fallback = 'recording.mp3'): string {
  let s = name.normalize('NFC').replace(unsafeChars, '_').replace(/\s+/g, ' ');
  s = s.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '');
  if (reservedWindowsName.test(s)) s = `_${s}`;
  if (utf8Length(s) > maxFileNameBytes) {
    const dot = s.lastIndexOf('.');
    const ext = dot > 0 && s.length - dot <= 10 ? s.slice(dot) : '';
    s = truncateUtf8(s.slice(0, s.length - ext.length), maxFileNameBytes - utf8Length(ext)).replace(/[\s.]+$/, '') + ext;
  }
  return s === '' || s === '_' ? fallback : s;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * `YYYY-MM-DD HH-mm <direction> <number> <extension>.mp3` in local time of the call's start;
 * `index` is the recording's position in `record.recordings`: the second one gets " (2)", and so on.
 */
export function recordingFileName(
  record: Pick<CallRecord, 'startedAt' | 'direction' | 'number' | 'extension'>,
  index = 0,
): string {
  const t = new Date(record.startedAt);
  const when = Number.isNaN(t.getTime())
    ? 'unknown-date'
    : `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}-${pad(t.getMinutes())}`;
  const number = sanitizeNamePart(record.number) || 'withheld';
  const extension = sanitizeNamePart(record.extension) || 'unknown';
  const suffix = index > 0 ? ` (${index + 1})` : '';
  return sanitizeFileName(`${when} ${record.direction} ${number} ${extension}${suffix}.mp3`);
}
