// zod schemas for the individual webhook fields (keys already lower-cased). Each failure message
// is the tail of a one-line error: `field "User" ${message}`.
import { z } from 'zod';
import type { CallRef, UserType } from './event';
import { CALL_ID_RE, toCallRef } from './call-ref';

/** Control characters, Unicode line/paragraph separators and bidi overrides/isolates (spoofing). */
const UNSAFE_CHARS = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;
export const cleanText = (s: string): string => s.replace(UNSAFE_CHARS, '').trim();

/** A scalar as text: JSON numbers and booleans are accepted as their string form; null otherwise. */
export const asText = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null);

/** What a field's text becomes: `{ value }`, or the tail of its error message. */
export type Shape<T> = (s: string) => { value: T } | string;

const shapeOfSchema = new WeakMap<z.ZodType, Shape<unknown>>();

/** The shape a text field's schema applies (undefined for any other schema): for fast-parse.ts. */
export const shapeOf = (schema: z.ZodType): Shape<unknown> | undefined => shapeOfSchema.get(schema);

/**
 * A field read as text, then shaped by `shape` (the value, or the tail of its error message). One zod
 * stage per field: the union, transforms and pipes it replaced cost most of a webhook's parse, which
 * runs for every webhook of the PBX. Each schema's shape is registered (shapeOf) so the parser's fast
 * path (fast-parse.ts) runs the very same function.
 */
function textField<T>(shape: Shape<T>, notText = 'must be text') {
  const schema = z.unknown().transform((v, ctx): T => {
    const s = asText(v);
    const r = s === null ? notText : shape(s);
    if (typeof r !== 'string') return r.value;
    ctx.addIssue({ code: 'custom', message: r });
    return z.NEVER;
  });
  shapeOfSchema.set(schema, shape);
  return schema;
}

/** Cleaned text of at most `max` characters; `min` 1 = must not be empty. */
const cleanedText =
  (min: 0 | 1, max: number): Shape<string> =>
  (raw) => {
    const s = cleanText(raw);
    return s.length < min ? 'is empty' : s.length > max ? 'is too long' : { value: s };
  };

/** "mm:ss" or "h:mm:ss" → seconds; null when it is neither. */
export function durationSeconds(s: string): number | null {
  const m = /^(?:(\d{1,4}):([0-5]\d)|(\d{1,4})):([0-5]\d)$/.exec(s);
  if (!m) return null;
  const [, h, mmWithH, mmAlone, ss] = m;
  return h !== undefined ? Number(h) * 3600 + Number(mmWithH) * 60 + Number(ss) : Number(mmAlone) * 60 + Number(ss);
}

/** Every text field's shape, by the schema that uses it. */
const shapes = {
  user: cleanedText(1, 32),
  /** A recording's user: optional there, and "" means unknown. */
  optionalUser: ((raw) => {
    const s = cleanText(raw);
    return s.length > 32 ? 'is too long' : { value: s === '' ? null : s };
  }) as Shape<string | null>,
  callerId: cleanedText(0, 128),
  event: cleanedText(1, 64),
  id: ((raw) => {
    const s = raw.trim();
    return CALL_ID_RE.test(s) ? { value: toCallRef(s) } : 'is not a valid call id (1-64 of A-Z a-z 0-9 _ . -)';
  }) as Shape<CallRef>,
  /** "DID-420222000320" → "420222000320"; "" → null. */
  did: ((raw) => {
    const s = cleanText(raw).replace(/^did-/i, '').trim();
    return s.length > 64 ? 'is too long' : { value: s === '' ? null : s };
  }) as Shape<string | null>,
  userType: ((s) => {
    const t = s.trim().toLowerCase();
    return { value: t === 'ext' || t === 'queue' ? t : 'other' };
  }) as Shape<UserType>,
  trType: ((s) => {
    const t = s.trim().toLowerCase();
    return { value: t === 'attended' || t === 'blind' ? t : null };
  }) as Shape<'attended' | 'blind' | null>,
  finish: ((s) => ({ value: s.trim().toLowerCase() === 'ok' ? 'ok' : 'missed' })) as Shape<'ok' | 'missed'>,
  /** "True"/"False" (any case; a JSON boolean too). */
  transfer: ((s) => {
    const t = s.trim().toLowerCase();
    return t === 'true' ? { value: true } : t === 'false' ? { value: false } : 'is neither True nor False';
  }) as Shape<boolean>,
  /** "" → null (no talk time, e.g. a missed call). */
  duration: ((raw) => {
    const s = raw.trim();
    if (s === '') return { value: null };
    const sec = durationSeconds(s);
    return sec === null ? 'is not mm:ss or h:mm:ss' : { value: sec };
  }) as Shape<number | null>,
  /** The GET scheme's title: "DID-420222000320:Answered call from 420774852629 (0:07)" → 7. */
  title: ((s) => {
    let last: number | null = null;
    for (const m of s.matchAll(/\((\d{1,4}(?::[0-5]\d){1,2})\)/g)) last = durationSeconds(m[1] as string);
    return { value: last };
  }) as Shape<number | null>,
};

export const userField = textField(shapes.user);
export const optionalUserField = textField(shapes.optionalUser);
export const callerIdField = textField(shapes.callerId);
export const eventField = textField(shapes.event);
export const idField = textField(shapes.id);
export const didField = textField(shapes.did);
export const userTypeField = textField(shapes.userType);
export const trTypeField = textField(shapes.trType);
export const finishField = textField(shapes.finish);
// Numbers are refused like any other non-boolean, non-string value (not as text: 1 is no answer).
export const transferField = textField(shapes.transfer, 'is neither True nor False');
export const durationField = textField(shapes.duration);
export const titleDurationField = textField(shapes.title);

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
