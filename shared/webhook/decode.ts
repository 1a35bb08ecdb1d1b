// Step 1 of parsing: turn the raw request into either a bag of fields (keys lower-cased) or a
// bare recording URL. The PBX add-on is sloppy about Content-Type, so the body is sniffed.

/** A request larger than this is refused outright (the listener's own limit is far lower). */
export const MAX_REQUEST_CHARS = 256 * 1024;

export type Decoded =
  | { kind: 'fields'; fields: ReadonlyMap<string, unknown> }
  | { kind: 'url'; url: string }
  | { kind: 'error'; error: string };

/** Field names whose repetition is meaningful (form bodies repeat a key for each list entry). */
const LIST_FIELDS = new Set(['fileurls']);

/** Quotes a bare URL may come wrapped in; the seed shows ‘…’. */
const QUOTES = `'"‘’“”`;

/**
 * The seed's POST bodies have string values missing their opening quote:
 * `"Callerid": 05551239988"`, `"Id": 30307135611_31-1"`. This matches exactly that shape
 * (key, colon, unquoted [A-Za-z0-9_.+-] run, closing quote, then , } or ]).
 */
const MISSING_OPEN_QUOTE = /("[^"\\\n]{1,64}"\s*:\s*)([A-Za-z0-9_.+-]{1,256}")(?=\s*[,}\]])/g;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // One narrow repair attempt (all occurrences of that one pattern), then give up.
    const repaired = text.replace(MISSING_OPEN_QUOTE, '$1"$2');
    if (repaired === text) return undefined;
    try {
      return JSON.parse(repaired);
    } catch {
      return undefined;
    }
  }
}

/** "‘https://pbx/x.mp3’" → "https://pbx/x.mp3" when the text is a lone http(s) URL, else null. */
export function bareUrl(text: string): string | null {
  let t = text.trim();
  if (t.length >= 2 && QUOTES.includes(t[0] as string) && QUOTES.includes(t[t.length - 1] as string)) {
    t = t.slice(1, -1).trim();
  }
  return /^https?:\/\/\S+$/i.test(t) ? t : null;
}

function collect(entries: Iterable<[string, unknown]>): Decoded {
  const fields = new Map<string, unknown>();
  for (const [key, value] of entries) {
    const error = addField(fields, key, value);
    if (error) return { kind: 'error', error };
  }
  return { kind: 'fields', fields };
}

/** Adds one field (key lower-cased); the error when it repeats a key that is not a list. */
function addField(fields: Map<string, unknown>, key: string, value: unknown): string | null {
  const k = key.trim().toLowerCase();
  if (!fields.has(k)) {
    fields.set(k, value);
  } else if (LIST_FIELDS.has(k)) {
    const prev = fields.get(k);
    fields.set(k, [...(Array.isArray(prev) ? prev : [prev]), ...(Array.isArray(value) ? value : [value])]);
  } else {
    return `field "${displayKey(key)}" appears more than once`;
  }
  return null;
}

/** A key for an error message: short and printable. */
function displayKey(key: string): string {
  const k = key.replace(/[^\x20-\x7e]/g, '?');
  return k.length > 32 ? `${k.slice(0, 32)}…` : k;
}

function decodeJson(text: string): Decoded {
  const value = parseJson(text);
  if (value === undefined) return { kind: 'error', error: 'body is not valid JSON' };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'error', error: 'JSON body is not an object' };
  }
  // Key by key rather than Object.entries: no pair array per field (every webhook of the PBX is one).
  const object = value as Record<string, unknown>;
  const fields = new Map<string, unknown>();
  for (const key of Object.keys(object)) {
    const error = addField(fields, key, object[key]);
    if (error) return { kind: 'error', error };
  }
  return { kind: 'fields', fields };
}

/**
 * Form bodies follow the form encoding ("+" is a space). A URL query keeps "+" literal: the GET
 * scheme's values arrive unencoded or %-encoded (the seed shows raw spaces in the title), and a
 * caller id like "+420774852629" must not lose its plus.
 */
function decodeForm(text: string, plusIsSpace: boolean): Decoded {
  return collect(new URLSearchParams(plusIsSpace ? text : text.replaceAll('+', '%2B')).entries());
}

/** A query string: parameters, or the whole query being a (possibly percent-encoded) recording URL. */
function decodeQuery(query: string): Decoded {
  let plain = query;
  try {
    plain = decodeURIComponent(query);
  } catch {
    // malformed %-escape: the raw text is all we have
  }
  const url = bareUrl(plain) ?? bareUrl(query);
  if (url !== null) return { kind: 'url', url };
  if (query.includes('=')) return decodeForm(query, false);
  return { kind: 'error', error: 'query string is neither parameters nor a recording URL' };
}

function decodeBody(body: string): Decoded {
  const text = body.trim();
  if (text.startsWith('{') || text.startsWith('[')) return decodeJson(text);
  const url = bareUrl(text);
  if (url !== null) return { kind: 'url', url };
  if (text.includes('=')) return decodeForm(text, true);
  return { kind: 'error', error: 'body is neither JSON, a query string nor a recording URL' };
}

export function decodeRequest(method: string, query: string, body: string): Decoded {
  if (query.length + body.length > MAX_REQUEST_CHARS) return { kind: 'error', error: 'request is too large' };
  const q = query.startsWith('?') ? query.slice(1) : query;
  const isPost = method.toUpperCase() === 'POST';
  if (isPost && body.trim() !== '') return decodeBody(body);
  // A GET, or a POST that carried its parameters in the URL only.
  if (q.trim() === '') return { kind: 'error', error: isPost ? 'empty request body' : 'empty query string' };
  return decodeQuery(q);
}
