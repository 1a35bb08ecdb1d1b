// 3CX call ids: "230307142318_40-2" is call "230307142318_40", leg 2. Recording files are named
// "<id>-<n>.mp3" where <n> numbers the recordings of that leg.
import type { CallRef } from './event';

/** What a call id may look like: it ends up in file names, logs and UI, so keep it boring. */
export const CALL_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Split a valid id into call id and leg ("-<digits>" suffix; at most 9 digits so it stays a safe integer). */
export function toCallRef(raw: string): CallRef {
  const m = /^(.+)-(\d{1,9})$/.exec(raw);
  return m ? { raw, callId: m[1] as string, leg: Number(m[2]) } : { raw, callId: raw, leg: null };
}

/**
 * The call ref a recording URL names: ".../230102185935_18-1-1.mp3" → "230102185935_18-1".
 * The trailing recording index is stripped only when a leg suffix remains, so "<call>-<leg>.mp3"
 * (no index) still keeps its leg. null when the file name is not a plausible id.
 */
export function refFromRecordingUrl(url: URL): CallRef | null {
  const file = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  let name: string;
  try {
    name = decodeURIComponent(file);
  } catch {
    return null;
  }
  name = name.replace(/\.[A-Za-z0-9]{1,8}$/, '');
  const indexed = /^(.+-\d{1,9})-\d{1,9}$/.exec(name);
  if (indexed) name = indexed[1] as string;
  return CALL_ID_RE.test(name) ? toCallRef(name) : null;
}
