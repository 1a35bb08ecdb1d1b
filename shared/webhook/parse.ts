// 3CX WebAPI webhook → one typed, validated WebhookEvent, whichever scheme delivered it (POST JSON,
// form body, GET query, or a bare recording URL). Pure; never throws: every input gives a ParseResult.
import { z } from 'zod';
import type { CallDirection, ParseResult, RawWebhook, RecordingEvent, WebhookEvent } from './event';
import { refFromRecordingUrl } from './call-ref';
import { decodeRequest } from './decode';
import { compileObject } from './fast-parse';
import {
  callerIdField,
  didField,
  durationField,
  eventField,
  fileUrlsField,
  finishField,
  httpUrl,
  idField,
  titleDurationField,
  transferField,
  trTypeField,
  userField,
  userTypeField,
  optionalUserField,
} from './fields';

/** The field names as the seed's POST scheme spells them, for error messages. */
const FIELD_NAMES: Record<string, string> = {
  event: 'Event',
  id: 'Id',
  user: 'User',
  callerid: 'Callerid',
  did: 'Did',
  usertype: 'Usertype',
  trtype: 'Trtype',
  finishtype: 'Finishtype',
  transfer: 'Transfer',
  duration: 'Duration',
  title: 'Title',
  fileurls: 'FileUrls',
  // Not sent by the WebAPI add-on: the Call Control source's translation adds the PBX's caller name.
  callername: 'Callername',
};
const KNOWN_KEYS = new Set(Object.keys(FIELD_NAMES));

type Kind =
  | { type: 'ringing' | 'dialing' | 'recording' }
  | { type: 'started' | 'ended'; direction: CallDirection };

/** Event names (lower-cased) and what they mean; a Map so "constructor" & co. are not found. */
const EVENT_KINDS = new Map<string, Kind>([
  ['ringing', { type: 'ringing' }],
  ['dialing', { type: 'dialing' }],
  ['incomingcall_started', { type: 'started', direction: 'incoming' }],
  ['hangupincoming', { type: 'started', direction: 'incoming' }],
  ['pickupincoming', { type: 'started', direction: 'incoming' }],
  ['outgoingcall_started', { type: 'started', direction: 'outgoing' }],
  ['hangupoutgoing', { type: 'started', direction: 'outgoing' }],
  ['pickupoutgoing', { type: 'started', direction: 'outgoing' }],
  ['incoming', { type: 'ended', direction: 'incoming' }],
  ['outgoing', { type: 'ended', direction: 'outgoing' }],
  ['recording', { type: 'recording' }],
]);

const common = {
  id: idField,
  user: userField,
  // Absent caller id = withheld.
  callerid: callerIdField.default(''),
  // Absent = none (zod returns a default without running the field).
  did: didField.default(null),
};

const headSchema = z.object({ event: eventField });
// Optional and untransformed: the add-on never sends it, so a webhook pays only for an absent key.
const callerNameField = callerIdField.optional();
const ringingSchema = z.object({ ...common, usertype: userTypeField.default('other'), callername: callerNameField });
const dialingSchema = z.object({ ...common, callername: callerNameField });
const startedSchema = z.object({ ...common, trtype: trTypeField.default(null) });
const endedSchema = z.object({
  ...common,
  finishtype: finishField.default('missed'),
  transfer: transferField.default(false),
  duration: durationField.optional(),
  title: titleDurationField.optional(),
});
const recordingSchema = z.object({
  id: idField.optional(),
  fileurls: fileUrlsField,
  user: optionalUserField.optional(),
  callerid: callerIdField.optional(),
});

/** The schemas, for the fast path's equivalence test. */
export const webhookSchemas = { head: headSchema, ringing: ringingSchema, dialing: dialingSchema, started: startedSchema, ended: endedSchema, recording: recordingSchema };

/** A webhook's decoded fields: the map for the fast path, an object of the known keys for zod (built only if asked). */
class Fields {
  private object: Record<string, unknown> | null = null;

  constructor(readonly map: ReadonlyMap<string, unknown>) {}

  /** Only known keys are copied, so "__proto__" & co. never reach an object. */
  get known(): Record<string, unknown> {
    if (this.object === null) {
      const object: Record<string, unknown> = {};
      for (const [key, value] of this.map) if (KNOWN_KEYS.has(key)) object[key] = value;
      this.object = object;
    }
    return this.object;
  }
}

/**
 * The schema's parse, with its compiled fast path first (fast-parse.ts: it only accepts, and exactly
 * as the schema would; anything else goes to the schema, whose errors are the ones reported).
 */
function checker<S extends z.ZodObject>(schema: S): (fields: Fields) => { success: true; data: z.output<S> } | { success: false; error: z.ZodError } {
  const fast = compileObject(schema);
  return (fields) => {
    const data = fast(fields.map);
    return data !== null ? { success: true, data } : schema.safeParse(fields.known);
  };
}
const checkHead = checker(headSchema);
const checkRinging = checker(ringingSchema);
const checkDialing = checker(dialingSchema);
const checkStarted = checker(startedSchema);
const checkEnded = checker(endedSchema);
const checkRecording = checker(recordingSchema);

const fail = (error: string): ParseResult => ({ ok: false, error });
const ok = (event: WebhookEvent): ParseResult => ({ ok: true, event });

/** The first zod issue as one line: `missing field "Id"` / `field "User" is too long`. */
function describe(error: z.ZodError, decoded: Fields): string {
  const fields = decoded.known;
  const issue = error.issues[0];
  const key = String(issue?.path[0] ?? '');
  const name = FIELD_NAMES[key] ?? key;
  if (!Object.hasOwn(fields, key)) return `missing field "${name}"`;
  return `field "${name}" ${issue?.message ?? 'is invalid'}`;
}

function recordingFromUrl(raw: string): ParseResult {
  const url = httpUrl(raw);
  if (url === null) return fail('recording URL is not a well-formed http(s) URL');
  const ref = refFromRecordingUrl(url);
  if (ref === null) return fail('recording URL file name is not a call id');
  return ok({ type: 'recording', ref, user: null, callerId: null, urls: [url.href] });
}

function fromFields(fields: Fields): ParseResult {
  const head = checkHead(fields);
  if (!head.success) return fail(describe(head.error, fields));
  const kind = EVENT_KINDS.get(head.data.event.toLowerCase());
  if (kind === undefined) return ok({ type: 'unknown', name: head.data.event });

  switch (kind.type) {
    case 'ringing': {
      const r = checkRinging(fields);
      if (!r.success) return fail(describe(r.error, fields));
      const f = r.data;
      return ok({ type: 'ringing', ref: f.id, user: f.user, callerId: f.callerid, did: f.did, userType: f.usertype, ...(f.callername && { callerName: f.callername }) });
    }
    case 'dialing': {
      const r = checkDialing(fields);
      if (!r.success) return fail(describe(r.error, fields));
      const f = r.data;
      return ok({ type: 'dialing', ref: f.id, user: f.user, callerId: f.callerid, did: f.did, ...(f.callername && { callerName: f.callername }) });
    }
    case 'started': {
      const r = checkStarted(fields);
      if (!r.success) return fail(describe(r.error, fields));
      const f = r.data;
      return ok({
        type: 'started',
        direction: kind.direction,
        ref: f.id,
        user: f.user,
        callerId: f.callerid,
        did: f.did,
        transferType: f.trtype,
      });
    }
    case 'ended': {
      const r = checkEnded(fields);
      if (!r.success) return fail(describe(r.error, fields));
      const f = r.data;
      return ok({
        type: 'ended',
        direction: kind.direction,
        ref: f.id,
        user: f.user,
        callerId: f.callerid,
        did: f.did,
        finish: f.finishtype,
        transfer: f.transfer,
        // An explicit Duration wins; the GET scheme only has it inside the title.
        durationSec: f.duration ?? f.title ?? null,
      });
    }
    case 'recording': {
      const r = checkRecording(fields);
      if (!r.success) return fail(describe(r.error, fields));
      const f = r.data;
      const first = f.fileurls[0] as URL;
      const ref = f.id ?? refFromRecordingUrl(first);
      if (ref === null) return fail('missing field "Id" and the recording file name is not a call id');
      const event: RecordingEvent = {
        type: 'recording',
        ref,
        user: f.user ?? null,
        callerId: f.callerid ?? null,
        urls: f.fileurls.map((u) => u.href),
      };
      return ok(event);
    }
  }
}

/** Parse one webhook request. */
export function parseWebhook(raw: RawWebhook): ParseResult {
  try {
    const decoded = decodeRequest(String(raw.method), String(raw.query ?? ''), String(raw.body ?? ''));
    if (decoded.kind === 'error') return fail(decoded.error);
    if (decoded.kind === 'url') return recordingFromUrl(decoded.url);
    return fromFields(new Fields(decoded.fields));
  } catch {
    // Defensive: nothing above should throw, but a webhook must never crash the listener.
    return fail('request could not be parsed');
  }
}
