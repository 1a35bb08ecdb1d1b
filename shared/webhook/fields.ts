// zod schemas for the individual webhook fields (keys already lower-cased). Each failure message
// is the tail of a one-line error: `field "User" ${message}`.
import { z } from 'zod';
import type { CallRef, UserType } from './event';
import { CALL_ID_RE, toCallRef } from './call-ref';

/** Control characters, Unicode line/paragraph separators and bidi overrides/isolates (spoofing). */
const UNSAFE_CHARS = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;
export const cleanText = (s: string): string => s.replace(UNSAFE_CHARS, '').trim();

/** A scalar as text: JSON numbers and booleans are accepted as their string form. */
export const text = z.union([z.string(), z.number(), z.boolean()], { error: 'must be text' }).transform(String);

const cleaned = text.transform(cleanText);

export const userField = cleaned.pipe(z.string().min(1, { error: 'is empty' }).max(32, { error: 'is too long' }));
/** A recording's user: optional there, and "" means unknown. */
export const optionalUserField = cleaned
  .pipe(z.string().max(32, { error: 'is too long' }))
  .transform((s) => (s === '' ? null : s));
export const callerIdField = cleaned.pipe(z.string().max(128, { error: 'is too long' }));

export const eventField = cleaned.pipe(z.string().min(1, { error: 'is empty' }).max(64, { error: 'is too long' }));

export const idField = text
  .transform((s) => s.trim())
  .pipe(z.string().regex(CALL_ID_RE, { error: 'is not a valid call id (1-64 of A-Z a-z 0-9 _ . -)' }))
  .transform((s): CallRef => toCallRef(s));

/** "DID-420222000320" → "420222000320"; "" → null. */
export const didField = cleaned
  .transform((s) => s.replace(/^did-/i, '').trim())
  .pipe(z.string().max(64, { error: 'is too long' }))
  .transform((s) => (s === '' ? null : s));

export const userTypeField = text.transform((s): UserType => {
  const t = s.trim().toLowerCase();
  return t === 'ext' || t === 'queue' ? t : 'other';
});

export const trTypeField = text.transform((s): 'attended' | 'blind' | null => {
  const t = s.trim().toLowerCase();
  return t === 'attended' || t === 'blind' ? t : null;
});

export const finishField = text.transform((s): 'ok' | 'missed' => (s.trim().toLowerCase() === 'ok' ? 'ok' : 'missed'));

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
export const durationField = text
  .transform((s) => s.trim())
  .refine((s) => s === '' || durationSeconds(s) !== null, { error: 'is not mm:ss or h:mm:ss' })
  .transform((s) => (s === '' ? null : durationSeconds(s)));

/** The GET scheme's title: "DID-420222000320:Answered call from 420774852629 (0:07)" → 7. */
export const titleDurationField = text.transform((s) => {
  let last: number | null = null;
  for (const m of s.matchAll(/\((\d{1,4}(?::[0-5]\d){1,2})\)/g)) last = durationSeconds(m[1] as string);
  return last;
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
