// zod schemas for the individual webhook fields (keys already lower-cased). Each failure message
// is the tail of a one-line error: `field "User" ${message}`.
import { z } from 'zod';
import type { CallRef, UserType } from './event';
import { CALL_ID_RE, toCallRef } from './call-ref';

/** Control characters, Unicode line/paragraph separators and bidi overrides/isolates (spoofing). */
const UNSAFE_CHARS = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;
export const cleanText = (s: string): string => s.replace(UNSAFE_CHARS, '').trim();

/** A scalar as text: JSON numbers and booleans are accepted as their string form; null otherwise. */
const asText = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);

/**
 * A field read as text, then shaped by `shape` (the value, or the tail of its error message). One zod
 * stage per field: the union, transforms and pipes it replaced cost most of a webhook's parse, which
 * runs for every webhook of the PBX.
 */
function textField<T>(shape: (s: string) => { value: T } | string) {
  return z.unknown().transform((v, ctx): T => {
    const s = asText(v);
    const r = s === null ? 'must be text' : shape(s);
    if (typeof r !== 'string') return r.value;
    ctx.addIssue({ code: 'custom', message: r });
    return z.NEVER;
  });
}

/** Cleaned text of at most `max` characters; `min` 1 = must not be empty. */
const cleanedText = (min: 0 | 1, max: number) =>
  textField((raw) => {
    const s = cleanText(raw);
    return s.length < min ? 'is empty' : s.length > max ? 'is too long' : { value: s };
  });

export const userField = cleanedText(1, 32);
/** A recording's user: optional there, and "" means unknown. */
export const optionalUserField = textField((raw) => {
  const s = cleanText(raw);
  return s.length > 32 ? 'is too long' : { value: s === '' ? null : s };
});
export const callerIdField = cleanedText(0, 128);

export const eventField = cleanedText(1, 64);

export const idField = textField((raw): { value: CallRef } | string => {
  const s = raw.trim();
  return CALL_ID_RE.test(s) ? { value: toCallRef(s) } : 'is not a valid call id (1-64 of A-Z a-z 0-9 _ . -)';
});

/** "DID-420222000320" → "420222000320"; "" → null. */
export const didField = textField((raw) => {
  const s = cleanText(raw).replace(/^did-/i, '').trim();
  return s.length > 64 ? 'is too long' : { value: s === '' ? null : s };
});

export const userTypeField = textField((s): { value: UserType } => {
  const t = s.trim().toLowerCase();
  return { value: t === 'ext' || t === 'queue' ? t : 'other' };
});

export const trTypeField = textField((s): { value: 'attended' | 'blind' | null } => {
  const t = s.trim().toLowerCase();
  return { value: t === 'attended' || t === 'blind' ? t : null };
});

export const finishField = textField((s): { value: 'ok' | 'missed' } => ({ value: s.trim().toLowerCase() === 'ok' ? 'ok' : 'missed' }));

export const transferField = z
  .union([z.boolean(), z.string()], { error: 'is neither True nor False' })
  .transform((v) => (typeof v === 'boolean' ? String(v) : v.trim().toLowerCase()))
  .refine((v) => v === 'true' || v === 'false', { error: 'is neither True nor False' })
  .transform((v) => v === 'true');

/** "mm:ss" or "h:mm:ss" → seconds; null when it is neither. */
export function durationSeconds(s: string): number | null {
  const m = /^(?:(\d{1,4}):([0-5]\d)|(\d{1,4})):([0-5]\d)$/.exec(s);
  if (!m) return null;
  const [, h, mmWithH, mmAlone, ss] = m;
  return h !== undefined ? Number(h) * 3600 + Number(mmWithH) * 60 + Number(ss) : Number(mmAlone) * 60 + Number(ss);
}

/** "" → null (no talk time, e.g. a missed call). */
export const durationField = textField((raw) => {
  const s = raw.trim();
  if (s === '') return { value: null };
  const sec = durationSeconds(s);
  return sec === null ? 'is not mm:ss or h:mm:ss' : { value: sec };
});

/** The GET scheme's title: "DID-420222000320:Answered call from 420774852629 (0:07)" → 7. */
export const titleDurationField = textField((s) => {
  let last: number | null = null;
  for (const m of s.matchAll(/\((\d{1,4}(?::[0-5]\d){1,2})\)/g)) last = durationSeconds(m[1] as string);
  return { value: last };
});

export const MAX_URL_CHARS = 2048;
export const MAX_RECORDING_URLS = 16;

/** A well-formed absolute http(s) URL, normalised; null otherwise. */
export function httpUrl(value: unknown): URL | null {
  if (typeof value !== 'string') return null;
  const s = value.trim();
  // URL() silently drops tabs/newlines inside; refuse them instead of guessing.
  if (s.length > MAX_URL_CHARS || /[\s\p{Cc}]/u.test(s)) return null;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return null;
  return url.href.length > MAX_URL_CHARS ? null : url;
}

/** A URL or a list of them; the well-formed ones are kept (at most 16), none → failure. */
export const fileUrlsField = z
  .union([z.string(), z.array(z.unknown())], { error: 'must be a URL or a list of URLs' })
  .refine((v) => !Array.isArray(v) || v.length <= 256, { error: 'has too many entries' })
  .transform((v) =>
    (Array.isArray(v) ? v : [v])
      .map(httpUrl)
      .filter((u): u is URL => u !== null)
      .slice(0, MAX_RECORDING_URLS),
  )
  .refine((urls) => urls.length > 0, { error: 'holds no valid http(s) URL' });
