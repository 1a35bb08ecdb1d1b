// Every call flow of the seed document ("3CX Webhooks Usage & Web API Examples", the published API
// documentation of the 3CX WebAPI add-on; not in this repository) as data, both schemes, as
// written: same ids (including the ones that do not line up), same users, same key order,
// "MAKECALL", the two malformed POST bodies, and the GET recording row as a bare URL. Used by
// parser/tracker tests, `callpop simulate` and demos.
//
// Only change from the seed: recording URLs use the host pbx.example.com:5001 instead of the
// document's FQDN placeholders.
import type { CallRecord, CallResult, Direction, TransferType } from '../call-record';
import type { RawWebhook } from './event';

export type SeedScheme = 'post' | 'get';

export interface SeedStep {
  /** The seed's description of the row ("The phone rings"). */
  label: string;
  /** The webhook's fields, keys spelled and ordered as in the seed (POST capitalised, GET lower-case). */
  fields?: Readonly<Record<string, string | readonly string[]>>;
  /** GET recording row: the request is only this URL. */
  rawUrl?: string;
  /** The seed's JSON has this field's string value missing its opening quote (`"Id": 30307135611_31-1"`). */
  missingOpenQuote?: string;
}

/** The one call record a flow must leave in each involved extension's log (null = none/unknown). */
export interface ExpectedRecord {
  /** Call id of the first event seen for the call. */
  id: string;
  direction: Direction;
  result: CallResult;
  number: string;
  queue: string | null;
  did: string | null;
  durationSec: number | null;
  transferType: TransferType | null;
  transferredTo: string | null;
  transferredFrom: string | null;
  answeredBy: string | null;
  /** How many recording URLs the record holds. */
  recordings: number;
}

/** A record seen the way a flow's expectation describes it (to compare with `expected`; a call still open has result null). */
export function asExpected(r: CallRecord): Omit<ExpectedRecord, 'result'> & { result: CallResult | null } {
  return {
    id: r.id,
    direction: r.direction,
    result: r.result,
    number: r.number,
    queue: r.queue,
    did: r.did,
    durationSec: r.durationSec,
    transferType: r.transferType,
    transferredTo: r.transferredTo,
    transferredFrom: r.transferredFrom,
    answeredBy: r.answeredBy,
    recordings: r.recordings.length,
  };
}

export interface SeedFlow {
  /** Slug for the command line, e.g. "incoming-answered", "get-outgoing-answered". */
  name: string;
  /** The seed's section title. */
  title: string;
  scheme: SeedScheme;
  /** The extension the flow is about (first to ring / answer / dial): what `extension` rewrites. */
  agent: string;
  steps: readonly SeedStep[];
  /** Keyed by extension: exactly one record per involved extension. */
  expected: Readonly<Record<string, ExpectedRecord>>;
}

export const SEED_RECORDING_BASE = 'https://pbx.example.com:5001/webapi/recording/';

// ---- POST scheme rows (key order as in the seed) ----

const POST_CALLER = '05551239988';
const recordingUrl = (id: string, n = 1): string => `${SEED_RECORDING_BASE}${id}-${n}.mp3`;

const post = {
  ringing: (label: string, user: string, usertype: string, id: string): SeedStep => ({
    label,
    fields: { Event: 'ringing', Callerid: POST_CALLER, User: user, Usertype: usertype, Did: '', Id: id },
  }),
  dialing: (label: string, user: string, id: string): SeedStep => ({
    label,
    fields: { Event: 'dialing', Callerid: POST_CALLER, User: user, Id: id },
  }),
  started: (label: string, event: string, user: string, trtype: string, id: string, callerid = POST_CALLER): SeedStep => ({
    label,
    fields: { Event: event, Callerid: callerid, User: user, Trtype: trtype, Did: '', Id: id },
  }),
  ended: (label: string, event: string, user: string, finish: string, transfer: string, duration: string, id: string): SeedStep => ({
    label,
    fields: {
      Event: event,
      Callerid: POST_CALLER,
      User: user,
      Finishtype: finish,
      Transfer: transfer,
      Did: '',
      Duration: duration,
      Id: id,
    },
  }),
  recording: (label: string, user: string, id: string): SeedStep => ({
    label,
    fields: { Event: 'recording', FileUrls: [recordingUrl(id)], Callerid: POST_CALLER, User: user, Id: id },
  }),
};

// ---- GET scheme rows ----

const GET_CALLER = '420774852629';
const GET_DID = 'DID-420222000320';

const get = {
  ringing: (label: string, user: string, usertype: string, id: string): SeedStep => ({
    label,
    fields: { event: 'ringing', callerid: GET_CALLER, user, usertype, did: GET_DID, id },
  }),
  dialing: (label: string, user: string, id: string): SeedStep => ({
    label,
    fields: { event: 'dialing', callerid: GET_CALLER, user, id },
  }),
  started: (label: string, event: string, user: string, did: string, id: string): SeedStep => ({
    label,
    fields: { event, callerid: GET_CALLER, user, did, trtype: 'NotDef', id },
  }),
  ended: (label: string, event: string, user: string, finish: string, did: string, title: string, id: string): SeedStep => ({
    label,
    fields: { event, callerid: GET_CALLER, user, finishtype: finish, transfer: 'False', did, title, id },
  }),
};

/** An expected record; everything not given is null / 0. */
function rec(
  id: string,
  direction: Direction,
  result: CallResult,
  more: Partial<Omit<ExpectedRecord, 'id' | 'direction' | 'result'>> = {},
): ExpectedRecord {
  return {
    id,
    direction,
    result,
    number: POST_CALLER,
    queue: null,
    did: null,
    durationSec: null,
    transferType: null,
    transferredTo: null,
    transferredFrom: null,
    answeredBy: null,
    recordings: 0,
    ...more,
  };
}

const IVR = 'The call goes to the IVR';
const QUEUED = 'The call is placed in the queue';
const IN_GROUP = 'The call is placed in the ring group';
const RINGS = 'The phone rings';
const PICKS_UP = 'The operator picks up the phone';

export const seedFlows: readonly SeedFlow[] = [
  {
    name: 'incoming-answered',
    title: 'Incoming successful call',
    scheme: 'post',
    agent: '202',
    steps: [
      post.ringing(IVR, '800', 'other', '230307114903_10-0'),
      post.ringing(QUEUED, '820', 'queue', '230307114903_10-0'),
      post.ringing(RINGS, '202', 'ext', '230307114903_10-0'),
      { ...post.started(PICKS_UP, 'incomingcall_started', '202', 'NotDef', '230307114903_10-1'), missingOpenQuote: 'Callerid' },
      post.ended('End of call', 'incoming', '202', 'Ok', 'False', '00:06', '230307140234_35-1'),
      post.recording('The recording of the conversation is ready', '202', '230307140234_35-1'),
    ],
    expected: {
      '202': rec('230307114903_10', 'incoming', 'answered', { queue: '820', durationSec: 6, recordings: 1 }),
    },
  },
  {
    name: 'incoming-attended-transfer',
    title: 'Incoming successful attended transfer call',
    scheme: 'post',
    agent: '117',
    steps: [
      post.ringing(IVR, '800', 'other', '230307142318_40-0'),
      post.ringing(QUEUED, '820', 'queue', '230307142318_40-0'),
      post.ringing(RINGS, '117', 'ext', '230307142318_40-0'),
      post.started(PICKS_UP, 'incomingcall_started', '117', 'NotDef', '230307142318_40-1'),
      post.started('Attended transfer success', 'incomingcall_started', '204', 'Attended', '230307142318_40-2'),
      post.ringing('The operator calling 2nd extension for attended transfer', '204', 'ext', '230307142318_40-1'),
      post.ended('Joining calls success', 'incoming', '117', 'Ok', 'True', '00:14', '230307142318_40-1'),
      post.ended('End of call', 'incoming', '204', 'Ok', 'False', '00:06', '230307142318_40-2'),
      post.recording('The recording of the conversation is ready for 1st extension', '204', '230307142318_40-2'),
      post.recording('The recording of the conversation is ready for 2nd extension', '117', '230307142318_40-1'),
    ],
    expected: {
      '117': rec('230307142318_40', 'incoming', 'answered', {
        queue: '820',
        durationSec: 14,
        transferType: 'attended',
        transferredTo: '204',
        recordings: 1,
      }),
      '204': rec('230307142318_40', 'incoming', 'answered', {
        queue: '820',
        durationSec: 6,
        transferType: 'attended',
        transferredFrom: '117',
        recordings: 1,
      }),
    },
  },
  {
    name: 'incoming-blind-transfer',
    title: 'Incoming successful blind transfer call',
    scheme: 'post',
    agent: '117',
    steps: [
      post.ringing(IVR, '800', 'other', '230307144544_42-0'),
      post.ringing(QUEUED, '820', 'queue', '230307144544_42-0'),
      post.ringing(RINGS, '117', 'ext', '230307144544_42-0'),
      post.started(PICKS_UP, 'incomingcall_started', '117', 'NotDef', '230307144544_42-1'),
      post.ringing('The operator calls 2nd extension for blind transfer', '204', 'ext', '230307144544_42-1'),
      post.started('2nd operator picks up phone', 'incomingcall_started', '204', 'Blind', '230307144544_42-2'),
      post.ended('End of call', 'incoming', '204', 'Ok', 'False', '00:04', '230307144544_42-2'),
      post.recording('The recording of the conversation is ready for 2nd extension', '204', '230307144544_42-2'),
      post.recording('The recording of the conversation is ready for 1st extension', '117', '230307144544_42-1'),
    ],
    expected: {
      // The transferrer gets no end event in a blind transfer: its record ends at the transfer.
      '117': rec('230307144544_42', 'incoming', 'answered', {
        queue: '820',
        transferType: 'blind',
        transferredTo: '204',
        recordings: 1,
      }),
      '204': rec('230307144544_42', 'incoming', 'answered', {
        queue: '820',
        durationSec: 4,
        transferType: 'blind',
        transferredFrom: '117',
        recordings: 1,
      }),
    },
  },
  {
    name: 'incoming-missed',
    title: 'Incoming missed call',
    scheme: 'post',
    agent: '202',
    steps: [
      post.ringing(IVR, '800', 'other', '230307115339_12-0'),
      post.ringing(QUEUED, '820', 'queue', '230307115339_12-0'),
      post.ringing(RINGS, '202', 'ext', '230307115339_12-0'),
      post.ended('End of call', 'incoming', '820', 'Missed', 'False', '', '230307115339_12-0'),
    ],
    expected: {
      '202': rec('230307115339_12', 'incoming', 'missed', { queue: '820' }),
    },
  },
  {
    name: 'hunt-answered',
    title: 'Incoming successful Ring Group call (Prioritized Hunt)',
    scheme: 'post',
    agent: '117',
    steps: [
      post.ringing(IVR, '800', 'other', '230307150805_46-0'),
      post.ringing(IN_GROUP, '117', 'ext', '230307150805_46-0'),
      post.started('The operator picks up phone', 'incomingcall_started', '117', 'NotDef', '230307150805_46-1'),
      post.ended('End of call', 'incoming', '117', 'Ok', 'False', '00:04', '230307150805_46-1'),
      post.recording('The recording of the conversation is ready', '117', '230307150805_46-1'),
    ],
    expected: {
      '117': rec('230307150805_46', 'incoming', 'answered', { durationSec: 4, recordings: 1 }),
    },
  },
  {
    name: 'hunt-missed',
    title: 'Incoming missed Ring Group call (Prioritized Hunt)',
    scheme: 'post',
    agent: '117',
    steps: [
      post.ringing(IVR, '800', 'other', '230307152031_50-0'),
      post.ringing(IN_GROUP, '117', 'ext', '230307152031_50-0'),
      post.ended('End of call', 'incoming', '117', 'Missed', 'False', '', '230307152031_50-0'),
    ],
    expected: {
      '117': rec('230307152031_50', 'incoming', 'missed'),
    },
  },
  {
    name: 'ringall-answered',
    title: 'Incoming successful Ring Group call (RingAll)',
    scheme: 'post',
    agent: '117',
    steps: [
      post.ringing(IVR, '800', 'other', '230307151412_47-0'),
      post.ringing(IN_GROUP, '117', 'ext', '230307151412_47-0'),
      post.ringing(IN_GROUP, '204', 'ext', '230307151412_47-0'),
      post.started('The operator picks up phone', 'incomingcall_started', '117', 'NotDef', '230307151412_47-1'),
      post.ended('The call ends', 'incoming', '117', 'Ok', 'False', '00:05', '230307151412_47-1'),
      post.recording('The recording of the conversation is ready', '117', '230307151412_47-1'),
    ],
    expected: {
      '117': rec('230307151412_47', 'incoming', 'answered', { durationSec: 5, recordings: 1 }),
      '204': rec('230307151412_47', 'incoming', 'answered-elsewhere', { answeredBy: '117' }),
    },
  },
  {
    name: 'ringall-missed',
    title: 'Incoming missed Ring Group call (RingAll)',
    scheme: 'post',
    agent: '117',
    steps: [
      post.ringing(IVR, '800', 'other', '230307152319_52-0'),
      post.ringing(IN_GROUP, '117', 'ext', '230307152319_52-0'),
      post.ringing(IN_GROUP, '204', 'ext', '230307152319_52-0'),
      post.ended('The call ends', 'incoming', '204', 'Missed', 'False', '', '230307152319_52-0'),
    ],
    expected: {
      '117': rec('230307152319_52', 'incoming', 'missed'),
      '204': rec('230307152319_52', 'incoming', 'missed'),
    },
  },
  {
    name: 'outgoing-answered',
    title: 'Outgoing successful call',
    scheme: 'post',
    agent: '117',
    steps: [
      post.dialing('Dialing a number', '117', '230307135611_31-0'),
      post.started('The subscriber responds', 'outgoingcall_started', '117', 'NotDef', '230307135611_31-1'),
      // The seed's end id lost its first digit (and its opening quote): kept as written.
      { ...post.ended('The call ends', 'outgoing', '117', 'Ok', 'False', '00:05', '30307135611_31-1'), missingOpenQuote: 'Id' },
      post.recording('The recording of the conversation is ready', '117', '230307135611_31-1'),
    ],
    expected: {
      '117': rec('230307135611_31', 'outgoing', 'answered', { durationSec: 5, recordings: 1 }),
    },
  },
  {
    name: 'outgoing-unanswered',
    title: 'Outgoing unsuccessful call',
    scheme: 'post',
    agent: '117',
    steps: [
      post.dialing('Dialing a number', '117', '230307140011_32-0'),
      post.ended('The call ends', 'outgoing', '117', 'Missed', 'False', '', '230307140011_32-0'),
    ],
    expected: {
      '117': rec('230307140011_32', 'outgoing', 'missed'),
    },
  },
  {
    name: 'makecall-answered',
    title: 'MakeCall successful call',
    scheme: 'post',
    agent: '117',
    steps: [
      post.dialing('Dialing a number', '117', '230307154408_63-0'),
      post.started('The subscriber responds', 'outgoingcall_started', '117', 'NotDef', '230307154408_63-1', 'MAKECALL'),
      post.ended('The call ends', 'outgoing', '117', 'Ok', 'False', '00:04', '230307154408_63-1'),
      post.recording('The recording of the conversation is ready', '117', '230307154408_63-1'),
    ],
    expected: {
      '117': rec('230307154408_63', 'outgoing', 'answered', { durationSec: 4, recordings: 1 }),
    },
  },
  {
    // The seed titles this section "MakeCall successful call" too; it is the extension hanging up.
    name: 'makecall-hangup',
    title: 'MakeCall successful call (extension hangs up)',
    scheme: 'post',
    agent: '117',
    steps: [
      post.dialing('Dialing a number', '117', '230307155208_64-0'),
      post.ended('Extension hangs up call', 'outgoing', '117', 'Missed', 'False', '', '230307155409_66-0'),
    ],
    expected: {
      '117': rec('230307155208_64', 'outgoing', 'missed'),
    },
  },
  {
    name: 'get-incoming-answered',
    title: 'Incoming successful call',
    scheme: 'get',
    agent: '102',
    steps: [
      get.ringing(IVR, '800', 'other', '230102104542_15-0'),
      get.ringing(QUEUED, '804', 'queue', '230102104542_15-0'),
      get.ringing(RINGS, '102', 'ext', '230102104542_15-0'),
      get.started(PICKS_UP, 'hangupincoming', '102', GET_DID, '230102104542_15-1'),
      get.ended(
        'End of call',
        'incoming',
        '102',
        'Ok',
        GET_DID,
        'DID-420222000320:Answered call from 420774852629 (0:07)',
        '230102104542_15-1',
      ),
    ],
    expected: {
      '102': rec('230102104542_15', 'incoming', 'answered', {
        number: GET_CALLER,
        queue: '804',
        did: '420222000320',
        durationSec: 7,
      }),
    },
  },
  {
    name: 'get-incoming-missed',
    title: 'Incoming missed call',
    scheme: 'get',
    agent: '102',
    steps: [
      get.ringing(IVR, '800', 'other', '230102104542_15-0'),
      get.ringing(QUEUED, '804', 'queue', '230102104542_15-0'),
      get.ringing(RINGS, '102', 'ext', '230102104542_15-0'),
      get.ended(
        'End of call',
        'incoming',
        '804',
        'Missed',
        GET_DID,
        'DID-420222000320:Missed call by queue 804 from 420774852629',
        '230102154720_16-0',
      ),
    ],
    expected: {
      '102': rec('230102104542_15', 'incoming', 'missed', { number: GET_CALLER, queue: '804', did: '420222000320' }),
    },
  },
  {
    name: 'get-outgoing-answered',
    title: 'Outgoing successful call',
    scheme: 'get',
    agent: '102',
    steps: [
      get.dialing('Dialing a number', '102', '230102184431_17-0'),
      get.started('The subscriber responds', 'hangupoutgoing', '102', '', '230102185935_18-1'),
      get.ended('The call ends', 'outgoing', '102', 'Ok', '', 'Successful call to 420774852629 (0:06)', '230102185935_18-1'),
      { label: 'The recording of the conversation is ready', rawUrl: recordingUrl('230102185935_18-1') },
    ],
    expected: {
      '102': rec('230102184431_17', 'outgoing', 'answered', { number: GET_CALLER, durationSec: 6, recordings: 1 }),
    },
  },
  {
    name: 'get-outgoing-unanswered',
    title: 'Outgoing unsuccessful call',
    scheme: 'get',
    agent: '102',
    steps: [
      get.dialing('Dialing a number', '102', '230102184431_17-0'),
      get.ended('The call ends', 'outgoing', '102', 'Missed', '', 'Unanswered call to 420774852629', '230102184431_17-0'),
    ],
    expected: {
      '102': rec('230102184431_17', 'outgoing', 'missed', { number: GET_CALLER }),
    },
  },
];

export function findSeedFlow(name: string): SeedFlow | undefined {
  return seedFlows.find((f) => f.name === name);
}

// ---- replay ----

export interface FlowOptions {
  /** Play the flow as this extension: the flow's agent is renamed everywhere it is a user. */
  extension?: string;
  /** Replace the 12-digit timestamp prefix of every id and recording file name with this stamp (the seed's truncated 11-digit one with the stamp minus its first digit). */
  freshIds?: {
    stamp: string;
    /**
     * Added to every id's call counter (the "_40" of "230307142318_40"), so two replays stamped in
     * the same second (two `callpop simulate` processes) still get different ids. Default 0.
     */
    serial?: number;
  };
  /** Send well-formed JSON instead of the seed's two malformed POST bodies. */
  validJson?: boolean;
}

const EXTENSION_RE = /^\d{1,10}$/;
const STAMP_RE = /^\d{12}$/;
/** A seed id's timestamp (12 digits; 11 in the seed's truncated "30307135611_31-1") and call counter. */
const STAMP_PREFIX_RE = /^(\d{11,12})_(\d{1,6})(?=-|$)/;
const MAX_SERIAL = 999_999;

/** Renames for the options; throws RangeError on bad options (they come from a command line). */
function rewriter(flow: SeedFlow, opts: FlowOptions) {
  const ext = opts.extension;
  if (ext !== undefined) {
    if (!EXTENSION_RE.test(ext)) throw new RangeError(`extension must be 1 to 10 digits, got "${ext}"`);
    const others = new Set(flow.steps.map((s) => s.fields?.User ?? s.fields?.user).filter((u) => typeof u === 'string'));
    others.delete(flow.agent);
    if (others.has(ext)) throw new RangeError(`extension ${ext} already plays another role in flow ${flow.name}`);
  }
  const stamp = opts.freshIds?.stamp;
  if (stamp !== undefined && !STAMP_RE.test(stamp)) throw new RangeError(`id stamp must be 12 digits, got "${stamp}"`);
  const serial = opts.freshIds?.serial ?? 0;
  if (!Number.isSafeInteger(serial) || serial < 0 || serial > MAX_SERIAL) throw new RangeError(`id serial must be 0 to ${MAX_SERIAL}, got ${serial}`);

  const user = (u: string): string => (ext !== undefined && u === flow.agent ? ext : u);
  // The truncated id lost the first digit of its stamp: restamped the same way (the fresh stamp
  // minus its first digit), so it still names the same call as its siblings and still does not
  // line up with them, keeping the tracker's number fallback exercised, yet differs on every run
  // (a constant id would be a duplicate of the previous run's end and leave the call "talking").
  const id = (raw: string): string =>
    stamp === undefined
      ? raw
      : raw.replace(STAMP_PREFIX_RE, (_m, old: string, counter: string) => `${old.length === 12 ? stamp : stamp.slice(1)}_${serial === 0 ? counter : Number(counter) + serial}`);
  const url = (raw: string): string => {
    if (stamp === undefined) return raw;
    const cut = raw.lastIndexOf('/') + 1;
    return raw.slice(0, cut) + id(raw.slice(cut));
  };
  return { user, id, url };
}

/** The flow's steps with the options applied, fields in seed order. */
export function flowSteps(flow: SeedFlow, opts: FlowOptions = {}): SeedStep[] {
  const rw = rewriter(flow, opts);
  return flow.steps.map((step) => {
    if (step.fields === undefined) return { ...step, ...(step.rawUrl !== undefined ? { rawUrl: rw.url(step.rawUrl) } : {}) };
    const fields: Record<string, string | readonly string[]> = {};
    for (const [key, value] of Object.entries(step.fields)) {
      const k = key.toLowerCase();
      if (Array.isArray(value)) fields[key] = k === 'fileurls' ? value.map(rw.url) : value;
      else if (typeof value === 'string') fields[key] = k === 'user' ? rw.user(value) : k === 'id' ? rw.id(value) : value;
    }
    return { ...step, fields };
  });
}

function postBody(step: SeedStep, validJson: boolean): string {
  let body = JSON.stringify(step.fields ?? {});
  if (!validJson && step.missingOpenQuote !== undefined) {
    // Reproduce the seed's breakage: `"Id":"x"` → `"Id":x"`.
    const key = JSON.stringify(step.missingOpenQuote);
    body = body.replace(`${key}:"`, `${key}:`);
  }
  return body;
}

function getQuery(step: SeedStep): string {
  if (step.rawUrl !== undefined) return step.rawUrl;
  return Object.entries(step.fields ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(String(x))}`))
    .join('&');
}

/** The HTTP requests that replay the flow, in order. */
export function flowRequests(flow: SeedFlow, opts: FlowOptions = {}): RawWebhook[] {
  return flowSteps(flow, opts).map((step) =>
    flow.scheme === 'post'
      ? { method: 'POST', query: '', body: postBody(step, opts.validJson ?? false), contentType: 'application/json' }
      : { method: 'GET', query: getQuery(step), body: '' },
  );
}

/**
 * The flow as the GET scheme sends it: lower-case keys as the query, a recording as the bare URL
 * (no user, no number). A GET flow is sent as it is.
 */
export function flowGetRequests(flow: SeedFlow, opts: FlowOptions = {}): RawWebhook[] {
  if (flow.scheme === 'get') return flowRequests(flow, opts);
  return flowSteps(flow, opts).flatMap((step): RawWebhook[] => {
    const fields = step.fields ?? {};
    const urls = Object.entries(fields).find(([k]) => k.toLowerCase() === 'fileurls')?.[1];
    if (Array.isArray(urls)) return urls.map((u: string) => ({ method: 'GET', query: u, body: '' }));
    const query = Object.entries(fields)
      .map(([k, v]) => `${encodeURIComponent(k.toLowerCase())}=${encodeURIComponent(String(v))}`)
      .join('&');
    return [{ method: 'GET', query, body: '' }];
  });
}

/** `flow.expected` with the same options applied (extension keys and references, ids). */
export function flowExpectations(flow: SeedFlow, opts: FlowOptions = {}): Record<string, ExpectedRecord> {
  const rw = rewriter(flow, opts);
  const ref = (u: string | null): string | null => (u === null ? null : rw.user(u));
  const out: Record<string, ExpectedRecord> = {};
  for (const [ext, r] of Object.entries(flow.expected)) {
    out[rw.user(ext)] = {
      ...r,
      id: rw.id(r.id),
      transferredTo: ref(r.transferredTo),
      transferredFrom: ref(r.transferredFrom),
      answeredBy: ref(r.answeredBy),
    };
  }
  return out;
}
