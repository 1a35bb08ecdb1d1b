// URLs built from user/IT templates and untrusted call data: "Open in CRM" and "Call back".
// Every placeholder value is URL-encoded, so a caller id cannot add path segments, query
// parameters or a scheme; the finished URL is parsed and only the allowed schemes pass.

export interface CallUrlValues {
  number: string;
  /** "" when the number is not a possible phone number (e.g. an extension). */
  e164: string;
  extension: string;
  callId: string;
}

export type UrlResult = { ok: true; url: string } | { ok: false; error: string };

export const crmSchemes = ['http:', 'https:'] as const;
export const callBackSchemes = ['http:', 'https:', 'tel:', 'callto:', 'sip:'] as const;

const placeholder = /\{(number|e164|extension|callId)\}/g;
/** Stands in for every placeholder when a template is checked: letters only, so a valid host part. */
const MARKER = 'callpopplaceholder';

/**
 * Why an http(s) template is refused, or null. Call data may only go into the path, query or
 * fragment: a placeholder in the host or user info ("https://{number}.example") would let a
 * caller id choose the server the agent's browser is sent to.
 */
export function urlTemplateProblem(template: string): string | null {
  const t = template.trim();
  if (!/^https?:/i.test(t)) return null; // tel:/callto:/sip: have no host the number could change
  let u: URL;
  try {
    u = new URL(t.replace(placeholder, MARKER));
  } catch {
    return 'The template does not give a valid URL.';
  }
  const authority = `${u.username}:${u.password}@${u.host}`.toLowerCase();
  if (authority.includes(MARKER)) return 'Placeholders may only be in the path or query, not in the host, e.g. https://crm.example.com/search?q={number}.';
  if (u.hostname === '') return 'The URL has no host.';
  return null;
}

function fill(template: string, values: CallUrlValues, encode: (s: string) => string): string {
  return template.replace(placeholder, (_m, key: keyof CallUrlValues) => encode(values[key]));
}

function check(url: string, allowed: readonly string[]): UrlResult {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, error: 'The URL template does not give a valid URL.' };
  }
  if (!allowed.includes(parsed.protocol)) return { ok: false, error: `Only ${allowed.map((s) => s.slice(0, -1)).join(', ')} URLs are allowed.` };
  if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname === '') return { ok: false, error: 'The URL has no host.' };
  return { ok: true, url: parsed.href };
}

/** Open in CRM: `{number}`, `{e164}`, `{extension}`, `{callId}` URL-encoded into an http(s) template. */
export function buildCrmUrl(template: string, values: CallUrlValues): UrlResult {
  if (template.trim() === '') return { ok: false, error: 'No CRM URL template is set (Settings → CRM).' };
  const problem = urlTemplateProblem(template);
  if (problem) return { ok: false, error: problem };
  return check(fill(template.trim(), values, encodeURIComponent), crmSchemes);
}

/** Only what a phone can dial: digits, a leading +, * and #. */
export const dialable = (number: string): string => {
  const trimmed = number.trim();
  const body = trimmed.replace(/[^0-9*#]/g, '');
  return trimmed.startsWith('+') ? `+${body}` : body;
};

// RFC 3966 allows "+" in a tel: number; "#" must be escaped.
const encodeDialable = (s: string) => encodeURIComponent(s).replace(/%2B/g, '+');

/**
 * Call back: the click-to-call template ("" = `tel:{number}`). For tel:/callto:/sip: templates the
 * number is reduced to dialable characters; for http(s) templates every value is URL-encoded.
 */
export function buildCallBackUrl(template: string, values: CallUrlValues): UrlResult {
  const t = template.trim() === '' ? 'tel:{number}' : template.trim();
  const web = /^https?:/i.test(t);
  const problem = urlTemplateProblem(t);
  if (problem) return { ok: false, error: problem };
  if (!web && dialable(values.number).replace('+', '') === '') return { ok: false, error: 'This number cannot be dialed.' };
  const v = web ? values : { ...values, number: dialable(values.number), e164: dialable(values.e164) };
  return check(fill(t, v, web ? encodeURIComponent : encodeDialable), callBackSchemes);
}
