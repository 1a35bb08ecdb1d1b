import { describe, expect, it } from 'vitest';
import type { ParseResult, RawWebhook, WebhookEvent } from '../../shared/webhook/event';
import { parseWebhook } from '../../shared/webhook/parse';
import { flowRequests, seedFlows } from '../../shared/webhook/seed-flows';

const post = (body: string, contentType = 'application/json'): RawWebhook => ({ method: 'POST', query: '', body, contentType });
const get = (query: string): RawWebhook => ({ method: 'GET', query, body: '' });
const json = (fields: Record<string, unknown>): RawWebhook => post(JSON.stringify(fields));

function event(r: ParseResult): WebhookEvent {
  if (!r.ok) throw new Error(`expected a parsed event, got error: ${r.error}`);
  return r.event;
}
function error(r: ParseResult): string {
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.event)}`);
  return r.error;
}

/** One line per event, every field in it, so a whole flow reads like the seed table. */
function summary(e: WebhookEvent): string {
  const id = (ref: { raw: string; callId: string; leg: number | null }) => `${ref.callId}/${ref.leg ?? '-'}${ref.raw === `${ref.callId}-${ref.leg}` || (ref.leg === null && ref.raw === ref.callId) ? '' : ` raw=${ref.raw}`}`;
  switch (e.type) {
    case 'ringing':
      return `ringing ${e.user} ${e.userType} ${id(e.ref)} from=${e.callerId} did=${e.did ?? '-'}`;
    case 'dialing':
      return `dialing ${e.user} ${id(e.ref)} to=${e.callerId} did=${e.did ?? '-'}`;
    case 'started':
      return `started/${e.direction} ${e.user} tr=${e.transferType ?? '-'} ${id(e.ref)} other=${e.callerId} did=${e.did ?? '-'}`;
    case 'ended':
      return `ended/${e.direction} ${e.user} ${e.finish} transfer=${e.transfer} dur=${e.durationSec ?? '-'} ${id(e.ref)} other=${e.callerId} did=${e.did ?? '-'}`;
    case 'recording':
      return `recording ${e.user ?? '?'} ${id(e.ref)} other=${e.callerId ?? '?'} ${e.urls.join(' ')}`;
    case 'unknown':
      return `unknown ${e.name}`;
  }
}

const C = '05551239988';
const G = '420774852629';
const REC = 'https://pbx.example.com:5001/webapi/recording/';

/** What each seed row must parse to, written from the seed document. */
const expectedEvents: Record<string, string[]> = {
  'incoming-answered': [
    `ringing 800 other 230307114903_10/0 from=${C} did=-`,
    `ringing 820 queue 230307114903_10/0 from=${C} did=-`,
    `ringing 202 ext 230307114903_10/0 from=${C} did=-`,
    `started/incoming 202 tr=- 230307114903_10/1 other=${C} did=-`,
    `ended/incoming 202 ok transfer=false dur=6 230307140234_35/1 other=${C} did=-`,
    `recording 202 230307140234_35/1 other=${C} ${REC}230307140234_35-1-1.mp3`,
  ],
  'incoming-attended-transfer': [
    `ringing 800 other 230307142318_40/0 from=${C} did=-`,
    `ringing 820 queue 230307142318_40/0 from=${C} did=-`,
    `ringing 117 ext 230307142318_40/0 from=${C} did=-`,
    `started/incoming 117 tr=- 230307142318_40/1 other=${C} did=-`,
    `started/incoming 204 tr=attended 230307142318_40/2 other=${C} did=-`,
    `ringing 204 ext 230307142318_40/1 from=${C} did=-`,
    `ended/incoming 117 ok transfer=true dur=14 230307142318_40/1 other=${C} did=-`,
    `ended/incoming 204 ok transfer=false dur=6 230307142318_40/2 other=${C} did=-`,
    `recording 204 230307142318_40/2 other=${C} ${REC}230307142318_40-2-1.mp3`,
    `recording 117 230307142318_40/1 other=${C} ${REC}230307142318_40-1-1.mp3`,
  ],
  'incoming-blind-transfer': [
    `ringing 800 other 230307144544_42/0 from=${C} did=-`,
    `ringing 820 queue 230307144544_42/0 from=${C} did=-`,
    `ringing 117 ext 230307144544_42/0 from=${C} did=-`,
    `started/incoming 117 tr=- 230307144544_42/1 other=${C} did=-`,
    `ringing 204 ext 230307144544_42/1 from=${C} did=-`,
    `started/incoming 204 tr=blind 230307144544_42/2 other=${C} did=-`,
    `ended/incoming 204 ok transfer=false dur=4 230307144544_42/2 other=${C} did=-`,
    `recording 204 230307144544_42/2 other=${C} ${REC}230307144544_42-2-1.mp3`,
    `recording 117 230307144544_42/1 other=${C} ${REC}230307144544_42-1-1.mp3`,
  ],
  'incoming-missed': [
    `ringing 800 other 230307115339_12/0 from=${C} did=-`,
    `ringing 820 queue 230307115339_12/0 from=${C} did=-`,
    `ringing 202 ext 230307115339_12/0 from=${C} did=-`,
    `ended/incoming 820 missed transfer=false dur=- 230307115339_12/0 other=${C} did=-`,
  ],
  'hunt-answered': [
    `ringing 800 other 230307150805_46/0 from=${C} did=-`,
    `ringing 117 ext 230307150805_46/0 from=${C} did=-`,
    `started/incoming 117 tr=- 230307150805_46/1 other=${C} did=-`,
    `ended/incoming 117 ok transfer=false dur=4 230307150805_46/1 other=${C} did=-`,
    `recording 117 230307150805_46/1 other=${C} ${REC}230307150805_46-1-1.mp3`,
  ],
  'hunt-missed': [
    `ringing 800 other 230307152031_50/0 from=${C} did=-`,
    `ringing 117 ext 230307152031_50/0 from=${C} did=-`,
    `ended/incoming 117 missed transfer=false dur=- 230307152031_50/0 other=${C} did=-`,
  ],
  'ringall-answered': [
    `ringing 800 other 230307151412_47/0 from=${C} did=-`,
    `ringing 117 ext 230307151412_47/0 from=${C} did=-`,
    `ringing 204 ext 230307151412_47/0 from=${C} did=-`,
    `started/incoming 117 tr=- 230307151412_47/1 other=${C} did=-`,
    `ended/incoming 117 ok transfer=false dur=5 230307151412_47/1 other=${C} did=-`,
    `recording 117 230307151412_47/1 other=${C} ${REC}230307151412_47-1-1.mp3`,
  ],
  'ringall-missed': [
    `ringing 800 other 230307152319_52/0 from=${C} did=-`,
    `ringing 117 ext 230307152319_52/0 from=${C} did=-`,
    `ringing 204 ext 230307152319_52/0 from=${C} did=-`,
    `ended/incoming 204 missed transfer=false dur=- 230307152319_52/0 other=${C} did=-`,
  ],
  'outgoing-answered': [
    `dialing 117 230307135611_31/0 to=${C} did=-`,
    `started/outgoing 117 tr=- 230307135611_31/1 other=${C} did=-`,
    `ended/outgoing 117 ok transfer=false dur=5 30307135611_31/1 other=${C} did=-`,
    `recording 117 230307135611_31/1 other=${C} ${REC}230307135611_31-1-1.mp3`,
  ],
  'outgoing-unanswered': [
    `dialing 117 230307140011_32/0 to=${C} did=-`,
    `ended/outgoing 117 missed transfer=false dur=- 230307140011_32/0 other=${C} did=-`,
  ],
  'makecall-answered': [
    `dialing 117 230307154408_63/0 to=${C} did=-`,
    `started/outgoing 117 tr=- 230307154408_63/1 other=MAKECALL did=-`,
    `ended/outgoing 117 ok transfer=false dur=4 230307154408_63/1 other=${C} did=-`,
    `recording 117 230307154408_63/1 other=${C} ${REC}230307154408_63-1-1.mp3`,
  ],
  'makecall-hangup': [
    `dialing 117 230307155208_64/0 to=${C} did=-`,
    `ended/outgoing 117 missed transfer=false dur=- 230307155409_66/0 other=${C} did=-`,
  ],
  'get-incoming-answered': [
    `ringing 800 other 230102104542_15/0 from=${G} did=420222000320`,
    `ringing 804 queue 230102104542_15/0 from=${G} did=420222000320`,
    `ringing 102 ext 230102104542_15/0 from=${G} did=420222000320`,
    `started/incoming 102 tr=- 230102104542_15/1 other=${G} did=420222000320`,
    `ended/incoming 102 ok transfer=false dur=7 230102104542_15/1 other=${G} did=420222000320`,
  ],
  'get-incoming-missed': [
    `ringing 800 other 230102104542_15/0 from=${G} did=420222000320`,
    `ringing 804 queue 230102104542_15/0 from=${G} did=420222000320`,
    `ringing 102 ext 230102104542_15/0 from=${G} did=420222000320`,
    `ended/incoming 804 missed transfer=false dur=- 230102154720_16/0 other=${G} did=420222000320`,
  ],
  'get-outgoing-answered': [
    `dialing 102 230102184431_17/0 to=${G} did=-`,
    `started/outgoing 102 tr=- 230102185935_18/1 other=${G} did=-`,
    `ended/outgoing 102 ok transfer=false dur=6 230102185935_18/1 other=${G} did=-`,
    `recording ? 230102185935_18/1 other=? ${REC}230102185935_18-1-1.mp3`,
  ],
  'get-outgoing-unanswered': [
    `dialing 102 230102184431_17/0 to=${G} did=-`,
    `ended/outgoing 102 missed transfer=false dur=- 230102184431_17/0 other=${G} did=-`,
  ],
};

describe('parseWebhook: every seed flow', () => {
  it('covers every flow of the seed', () => {
    expect(Object.keys(expectedEvents).sort()).toEqual(seedFlows.map((f) => f.name).sort());
  });

  for (const flow of seedFlows) {
    it(`${flow.name} (${flow.scheme.toUpperCase()}) parses to the seed's events`, () => {
      const events = flowRequests(flow).map((r) => summary(event(parseWebhook(r))));
      expect(events).toEqual(expectedEvents[flow.name]);
    });

    if (flow.scheme === 'post') {
      it(`${flow.name}: the seed's malformed bodies parse like well-formed ones`, () => {
        const asWritten = flowRequests(flow).map(parseWebhook);
        const clean = flowRequests(flow, { validJson: true }).map(parseWebhook);
        expect(asWritten).toEqual(clean);
      });
    }
  }

  it('gives full typed events (spot check of every event type)', () => {
    const [, , ringing, started, ended, recording] = flowRequests(seedFlows[0]!).map((r) => event(parseWebhook(r)));
    expect(ringing).toEqual({
      type: 'ringing',
      ref: { raw: '230307114903_10-0', callId: '230307114903_10', leg: 0 },
      user: '202',
      callerId: C,
      did: null,
      userType: 'ext',
    });
    expect(started).toEqual({
      type: 'started',
      direction: 'incoming',
      ref: { raw: '230307114903_10-1', callId: '230307114903_10', leg: 1 },
      user: '202',
      callerId: C,
      did: null,
      transferType: null,
    });
    expect(ended).toEqual({
      type: 'ended',
      direction: 'incoming',
      ref: { raw: '230307140234_35-1', callId: '230307140234_35', leg: 1 },
      user: '202',
      callerId: C,
      did: null,
      finish: 'ok',
      transfer: false,
      durationSec: 6,
    });
    expect(recording).toEqual({
      type: 'recording',
      ref: { raw: '230307140234_35-1', callId: '230307140234_35', leg: 1 },
      user: '202',
      callerId: C,
      urls: [`${REC}230307140234_35-1-1.mp3`],
    });
    const dialing = event(parseWebhook(flowRequests(seedFlows.find((f) => f.name === 'outgoing-answered')!)[0]!));
    expect(dialing).toEqual({
      type: 'dialing',
      ref: { raw: '230307135611_31-0', callId: '230307135611_31', leg: 0 },
      user: '117',
      callerId: C,
      did: null,
    });
  });
});

describe('parseWebhook: bodies copied from the seed text', () => {
  it('repairs the missing opening quote of "Callerid"', () => {
    const body =
      '{ "Event": "incomingcall_started", "Callerid": 05551239988", "User": "202", "Trtype": "NotDef", "Did": "", "Id": "230307114903_10-1" }';
    expect(summary(event(parseWebhook(post(body))))).toBe(`started/incoming 202 tr=- 230307114903_10/1 other=${C} did=-`);
  });

  it('repairs the missing opening quote of "Id" and keeps the truncated id as written', () => {
    const body =
      '{ "Event": "outgoing", "Callerid": "05551239988", "User": "117", "Finishtype": "Ok", "Transfer": "False", "Did": "", "Duration": "00:05", "Id": 30307135611_31-1"}';
    const e = event(parseWebhook(post(body)));
    expect(e).toMatchObject({ type: 'ended', ref: { raw: '30307135611_31-1', callId: '30307135611_31', leg: 1 }, durationSec: 5 });
  });

  it('parses a multi-line row (the seed table shows line breaks as <br>)', () => {
    const row =
      '{  <br>"Event": "recording",  <br>"FileUrls": [  <br>"https://pbx.example.com:5001/webapi/recording/230307142318_40-2-1.mp3"  <br>],  <br>"Callerid": "05551239988",  <br>"User": "204",  <br>"Id": "230307142318_40-2"  <br>}';
    const e = event(parseWebhook(post(row.replaceAll('<br>', '\n'))));
    expect(summary(e)).toBe(`recording 204 230307142318_40/2 other=${C} ${REC}230307142318_40-2-1.mp3`);
  });

  it('parses the GET rows even with the literal spaces and colon of the title', () => {
    const q =
      'event=incoming&callerid=420774852629&user=102&finishtype=Ok&transfer=False&did=DID-420222000320&title=DID-420222000320:Answered call from 420774852629 (0:07)&id=230102104542_15-1';
    expect(summary(event(parseWebhook(get(q))))).toBe(
      `ended/incoming 102 ok transfer=false dur=7 230102104542_15/1 other=${G} did=420222000320`,
    );
    const started = 'event=hangupincoming&callerid=420774852629&user=102&did=DID-420222000320&trtype=NotDef&id=230102104542_15-1';
    expect(summary(event(parseWebhook(get(started))))).toBe(`started/incoming 102 tr=- 230102104542_15/1 other=${G} did=420222000320`);
  });

  it('parses the GET recording row: a bare URL in curly quotes, raw or percent-encoded', () => {
    const row = '‘https://3CXDQDN:5001/webapi/recording/230102185935_18-1-1.mp3’';
    const expected = {
      type: 'recording',
      ref: { raw: '230102185935_18-1', callId: '230102185935_18', leg: 1 },
      user: null,
      callerId: null,
      urls: ['https://3cxdqdn:5001/webapi/recording/230102185935_18-1-1.mp3'],
    };
    expect(event(parseWebhook(get(row)))).toEqual(expected);
    expect(event(parseWebhook(get(encodeURIComponent(row))))).toEqual(expected);
    expect(event(parseWebhook(get('https://pbx:5001/webapi/recording/230102185935_18-1-1.mp3')))).toMatchObject({
      ref: expected.ref,
      urls: ['https://pbx:5001/webapi/recording/230102185935_18-1-1.mp3'],
    });
  });
});

describe('parseWebhook: decoding', () => {
  const ringing = { Event: 'ringing', Callerid: C, User: '202', Usertype: 'ext', Did: '', Id: '230307114903_10-0' };
  const ringingSummary = `ringing 202 ext 230307114903_10/0 from=${C} did=-`;

  it('sniffs JSON whatever the Content-Type says', () => {
    for (const ct of ['application/json', 'text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const r = parseWebhook({ method: 'POST', query: '', body: JSON.stringify(ringing), contentType: ct });
      expect(summary(event(r))).toBe(ringingSummary);
    }
  });

  it('accepts a form-encoded POST body', () => {
    const body = new URLSearchParams(ringing).toString();
    expect(summary(event(parseWebhook(post(body, 'application/x-www-form-urlencoded'))))).toBe(ringingSummary);
    expect(summary(event(parseWebhook(post(body, 'application/json'))))).toBe(ringingSummary);
  });

  it('accepts a bare recording URL as POST body, quoted or not', () => {
    for (const body of [
      'https://pbx/r/230102185935_18-1-1.mp3',
      '  "https://pbx/r/230102185935_18-1-1.mp3"\n',
      "'https://pbx/r/230102185935_18-1-1.mp3'",
      '‘https://pbx/r/230102185935_18-1-1.mp3’',
      '“https://pbx/r/230102185935_18-1-1.mp3”',
    ]) {
      expect(event(parseWebhook(post(body, 'text/plain')))).toMatchObject({
        type: 'recording',
        ref: { callId: '230102185935_18', leg: 1 },
        urls: ['https://pbx/r/230102185935_18-1-1.mp3'],
      });
    }
  });

  it('takes a POST with an empty body from its query string', () => {
    const r = parseWebhook({ method: 'POST', query: new URLSearchParams(ringing).toString(), body: '  ' });
    expect(summary(event(r))).toBe(ringingSummary);
  });

  it('keeps "+" in a GET query (caller ids), treats it as a space in a form body', () => {
    expect(event(parseWebhook(get('event=ringing&callerid=+420774852629&user=102&id=a-0')))).toMatchObject({ callerId: '+420774852629' });
    expect(event(parseWebhook(get('event=ringing&callerid=%2B420774852629&user=102&id=a-0')))).toMatchObject({ callerId: '+420774852629' });
    const title = 'event=incoming&user=102&title=Answered+call+from+420774852629+(0:07)&id=a-1';
    expect(event(parseWebhook(get(title)))).toMatchObject({ durationSec: 7 });
    const form = 'event=ringing&callerid=John+Smith&user=102&id=a-0';
    expect(event(parseWebhook(post(form, 'application/x-www-form-urlencoded')))).toMatchObject({ callerId: 'John Smith' });
  });

  it('ignores a leading "?" on the query', () => {
    expect(summary(event(parseWebhook(get(`?${new URLSearchParams(ringing)}`))))).toBe(ringingSummary);
  });

  it('collects repeated fileurls of a form body into one list', () => {
    const q = 'event=recording&id=230307142318_40-1&fileurls=https%3A%2F%2Fpbx%2Fa-1-1.mp3&FileUrls=https%3A%2F%2Fpbx%2Fa-1-2.mp3';
    expect(event(parseWebhook(get(q)))).toMatchObject({ urls: ['https://pbx/a-1-1.mp3', 'https://pbx/a-1-2.mp3'] });
  });

  it('repairs only the one documented JSON breakage', () => {
    expect(error(parseWebhook(post('{"Event": "ringing", "User": 202", "Id": "a-1",}')))).toBe('body is not valid JSON');
    expect(error(parseWebhook(post('{"Event": "ringing", "User": "202, "Id": "a-1"}')))).toBe('body is not valid JSON');
    expect(error(parseWebhook(post("{'Event': 'ringing'}")))).toBe('body is not valid JSON');
    expect(error(parseWebhook(post('{"Event": ringing, "User": "202", "Id": "a-1"}')))).toBe('body is not valid JSON');
    expect(error(parseWebhook(post('{"Event": "ringing", "User": 0202, "Id": "a-1"}')))).toBe('body is not valid JSON');
    expect(error(parseWebhook(post('{"Event": "ringing" "User": "202"}')))).toBe('body is not valid JSON');
    // both broken values of one body are fixed in the one attempt
    expect(event(parseWebhook(post('{"Event": "ringing", "User": 202", "Id": a-1"}')))).toMatchObject({ user: '202', ref: { raw: 'a-1' } });
  });
});

describe('parseWebhook: field rules', () => {
  const base = { Event: 'ringing', Callerid: C, User: '202', Usertype: 'ext', Did: '', Id: '230307114903_10-0' };
  const ended = { Event: 'incoming', Callerid: C, User: '202', Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: '00:06', Id: '1_1-1' };
  const parse = (fields: Record<string, unknown>) => event(parseWebhook(json(fields)));
  const fail = (fields: Record<string, unknown>) => error(parseWebhook(json(fields)));

  it('reads keys case-insensitively, in both schemes', () => {
    expect(parse({ EVENT: 'ringing', callerID: C, user: '202', USERTYPE: 'queue', did: 'DID-1', iD: 'x-1' })).toEqual({
      type: 'ringing',
      ref: { raw: 'x-1', callId: 'x', leg: 1 },
      user: '202',
      callerId: C,
      did: '1',
      userType: 'queue',
    });
    expect(event(parseWebhook(get('Event=Dialing&CallerId=5&User=7&ID=q')))).toMatchObject({ type: 'dialing', user: '7', ref: { raw: 'q' } });
  });

  it('rejects the same field sent twice under different case', () => {
    expect(fail({ ...base, event: 'dialing' })).toBe('field "event" appears more than once');
    expect(error(parseWebhook(get('event=ringing&user=1&id=a&user=2')))).toBe('field "user" appears more than once');
  });

  it('coerces JSON numbers and booleans to text', () => {
    expect(parse({ ...base, User: 202, Callerid: 5551239988, Id: 17 })).toMatchObject({ user: '202', callerId: '5551239988', ref: { raw: '17', leg: null } });
    expect(parse({ ...ended, Transfer: true })).toMatchObject({ transfer: true });
    expect(parse({ ...ended, Transfer: 'TRUE' })).toMatchObject({ transfer: true });
    expect(parse({ ...ended, Transfer: false })).toMatchObject({ transfer: false });
  });

  it('maps event names case-insensitively, with the aliases', () => {
    const started = { Callerid: C, User: '202', Trtype: 'NotDef', Did: '', Id: 'a-1' };
    for (const [name, type, direction] of [
      ['RINGING', 'ringing', undefined],
      ['Dialing', 'dialing', undefined],
      ['IncomingCall_Started', 'started', 'incoming'],
      ['hangupincoming', 'started', 'incoming'],
      ['PickupIncoming', 'started', 'incoming'],
      ['outgoingcall_started', 'started', 'outgoing'],
      ['HangupOutgoing', 'started', 'outgoing'],
      ['pickupoutgoing', 'started', 'outgoing'],
      ['Incoming', 'ended', 'incoming'],
      ['OUTGOING', 'ended', 'outgoing'],
    ] as const) {
      const e = parse({ ...started, Event: name });
      expect(e.type).toBe(type);
      if (direction) expect(e).toMatchObject({ direction });
    }
  });

  it('accepts and ignores unknown events, whatever else is in them', () => {
    expect(parse({ Event: 'conference_started', junk: { a: [1] } })).toEqual({ type: 'unknown', name: 'conference_started' });
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(parse({ Event: name })).toEqual({ type: 'unknown', name });
    }
  });

  it('requires Event', () => {
    const { Event: _e, ...rest } = base;
    expect(fail(rest)).toBe('missing field "Event"');
    expect(fail({ ...base, Event: '  ' })).toBe('field "Event" is empty');
    expect(fail({ ...base, Event: ['ringing'] })).toBe('field "Event" must be text');
    expect(fail({ ...base, Event: null })).toBe('field "Event" must be text');
    expect(fail({ ...base, Event: 'x'.repeat(65) })).toBe('field "Event" is too long');
  });

  it('requires Id and User on call events, defaults the optional fields', () => {
    const { Id: _i, ...noId } = base;
    const { User: _u, ...noUser } = base;
    expect(fail(noId)).toBe('missing field "Id"');
    expect(fail(noUser)).toBe('missing field "User"');
    expect(parse({ Event: 'ringing', User: '202', Id: 'a-1' })).toEqual({
      type: 'ringing',
      ref: { raw: 'a-1', callId: 'a', leg: 1 },
      user: '202',
      callerId: '',
      did: null,
      userType: 'other',
    });
    expect(parse({ Event: 'incoming', User: '202', Id: 'a-1' })).toMatchObject({ finish: 'missed', transfer: false, durationSec: null });
    expect(parse({ Event: 'incomingcall_started', User: '202', Id: 'a-1' })).toMatchObject({ transferType: null });
  });

  it('splits Id into call id and leg', () => {
    expect(parse({ ...base, Id: '230307142318_40-2' })).toMatchObject({ ref: { raw: '230307142318_40-2', callId: '230307142318_40', leg: 2 } });
    expect(parse({ ...base, Id: '230307142318_40' })).toMatchObject({ ref: { raw: '230307142318_40', callId: '230307142318_40', leg: null } });
    expect(parse({ ...base, Id: 'a-b-12' })).toMatchObject({ ref: { callId: 'a-b', leg: 12 } });
    expect(parse({ ...base, Id: '-3' })).toMatchObject({ ref: { callId: '-3', leg: null } });
    expect(parse({ ...base, Id: 'a-1234567890' })).toMatchObject({ ref: { callId: 'a-1234567890', leg: null } });
    expect(parse({ ...base, Id: ' a.b_c-1 ' })).toMatchObject({ ref: { raw: 'a.b_c-1' } });
  });

  it('validates Id', () => {
    const msg = 'field "Id" is not a valid call id (1-64 of A-Z a-z 0-9 _ . -)';
    for (const id of ['', 'a b', '../etc/passwd', 'x'.repeat(65), 'a\u0000b', 'ä-1', 'a/1', '<script>']) expect(fail({ ...base, Id: id })).toBe(msg);
    expect(parse({ ...base, Id: 'x'.repeat(64) })).toMatchObject({ ref: { raw: 'x'.repeat(64) } });
    expect(fail({ ...base, Id: { a: 1 } })).toBe('field "Id" must be text');
  });

  it('reads Duration as mm:ss or h:mm:ss', () => {
    for (const [d, s] of [
      ['00:06', 6],
      ['0:07', 7],
      ['12:34', 754],
      ['75:00', 4500],
      ['1:02:03', 3723],
      ['10:00:00', 36000],
      ['', null],
      ['  ', null],
    ] as const) {
      expect(parse({ ...ended, Duration: d })).toMatchObject({ durationSec: s });
    }
    for (const d of ['6', '00:6', '00:60', '1:60:00', 'ab:cd', '-1:00', '1:2:3', '00:06 ']) {
      if (d === '00:06 ') expect(parse({ ...ended, Duration: d })).toMatchObject({ durationSec: 6 });
      else expect(fail({ ...ended, Duration: d })).toBe('field "Duration" is not mm:ss or h:mm:ss');
    }
  });

  it('takes the duration from the GET title, preferring an explicit Duration', () => {
    const { Duration: _d, ...noDuration } = ended;
    const title = (t: string) => parse({ ...noDuration, Title: t });
    expect(title('DID-420222000320:Answered call from 420774852629 (0:07)')).toMatchObject({ durationSec: 7 });
    expect(title('Successful call to 420774852629 (0:06)')).toMatchObject({ durationSec: 6 });
    expect(title('Successful call to 420774852629 (1:02:03)')).toMatchObject({ durationSec: 3723 });
    expect(title('Unanswered call to 420774852629')).toMatchObject({ durationSec: null });
    expect(title('Call (Sales) to (0:61)')).toMatchObject({ durationSec: null });
    expect(title('x'.repeat(20_000) + ' (0:09)')).toMatchObject({ durationSec: 9 });
    expect(parse({ ...ended, Duration: '00:10', Title: 'Answered (0:07)' })).toMatchObject({ durationSec: 10 });
    expect(parse({ ...ended, Duration: '', Title: 'Answered (0:07)' })).toMatchObject({ durationSec: 7 });
  });

  it('strips the DID- prefix; empty or absent is null', () => {
    expect(parse({ ...base, Did: 'DID-420222000320' })).toMatchObject({ did: '420222000320' });
    expect(parse({ ...base, Did: 'did-420222000320' })).toMatchObject({ did: '420222000320' });
    expect(parse({ ...base, Did: '420222000320' })).toMatchObject({ did: '420222000320' });
    expect(parse({ ...base, Did: 'DID-' })).toMatchObject({ did: null });
    expect(parse({ ...base, Did: '' })).toMatchObject({ did: null });
    const { Did: _d, ...noDid } = base;
    expect(parse(noDid)).toMatchObject({ did: null });
    expect(fail({ ...base, Did: '1'.repeat(65) })).toBe('field "Did" is too long');
  });

  it('maps Transfer, Usertype, Trtype and Finishtype', () => {
    expect(parse({ ...ended, Transfer: 'True' })).toMatchObject({ transfer: true });
    expect(parse({ ...ended, Transfer: 'false' })).toMatchObject({ transfer: false });
    expect(fail({ ...ended, Transfer: 'yes' })).toBe('field "Transfer" is neither True nor False');
    for (const [t, u] of [
      ['ext', 'ext'],
      ['EXT', 'ext'],
      ['queue', 'queue'],
      ['other', 'other'],
      ['ivr', 'other'],
      ['', 'other'],
    ]) {
      expect(parse({ ...base, Usertype: t })).toMatchObject({ userType: u });
    }
    const started = { Event: 'incomingcall_started', Callerid: C, User: '204', Did: '', Id: 'a-2' };
    for (const [t, r] of [
      ['NotDef', null],
      ['Attended', 'attended'],
      ['attended', 'attended'],
      ['BLIND', 'blind'],
      ['Consult', null],
    ]) {
      expect(parse({ ...started, Trtype: t })).toMatchObject({ transferType: r });
    }
    for (const [f, r] of [
      ['Ok', 'ok'],
      ['OK', 'ok'],
      ['Missed', 'missed'],
      ['Busy', 'missed'],
      ['', 'missed'],
    ]) {
      expect(parse({ ...ended, Finishtype: f })).toMatchObject({ finish: r });
    }
  });

  it('cleans and bounds caller id and user', () => {
    expect(parse({ ...base, Callerid: ' \u202E0555\u0000123 99\u2066 ', User: '\t20\u202D2\n' })).toMatchObject({
      callerId: '0555123 99',
      user: '202',
    });
    expect(parse({ ...base, Callerid: 'A\u2028B\u2029C\u0085D\u007F' })).toMatchObject({ callerId: 'ABCD' });
    expect(parse({ ...base, Callerid: 'x'.repeat(128) })).toMatchObject({ callerId: 'x'.repeat(128) });
    expect(fail({ ...base, Callerid: 'x'.repeat(129) })).toBe('field "Callerid" is too long');
    expect(parse({ ...base, Callerid: '\u202E'.repeat(500) + '5' })).toMatchObject({ callerId: '5' });
    expect(parse({ ...base, User: 'u'.repeat(32) })).toMatchObject({ user: 'u'.repeat(32) });
    expect(fail({ ...base, User: 'u'.repeat(33) })).toBe('field "User" is too long');
    expect(fail({ ...base, User: '\u202E\u0000 ' })).toBe('field "User" is empty');
    expect(parse({ ...base, Callerid: '' })).toMatchObject({ callerId: '' });
  });
});

describe('parseWebhook: recordings', () => {
  const rec = { Event: 'recording', FileUrls: ['https://pbx.example.com:5001/webapi/recording/230307142318_40-1-1.mp3'], Callerid: C, User: '117', Id: '230307142318_40-1' };
  const parse = (fields: Record<string, unknown>) => event(parseWebhook(json(fields)));
  const fail = (fields: Record<string, unknown>) => error(parseWebhook(json(fields)));

  it('takes FileUrls as a list or a single string', () => {
    expect(parse({ ...rec, FileUrls: rec.FileUrls[0] })).toMatchObject({ urls: rec.FileUrls });
    const two = [rec.FileUrls[0], 'http://pbx/rec/230307142318_40-1-2.wav'];
    expect(parse({ ...rec, FileUrls: two })).toMatchObject({ urls: two });
  });

  it('keeps only well-formed absolute http(s) URLs', () => {
    const good = 'https://pbx/r/a-1-1.mp3';
    const junk = ['ftp://pbx/a.mp3', 'javascript:alert(1)', '/webapi/recording/a.mp3', 'https://', 'https://pbx/a b.mp3', 'https://pbx/\na.mp3', 42, null, { u: good }, [good], `https://pbx/${'a'.repeat(2048)}.mp3`, 'file:///etc/passwd', 'data:text/html,x'];
    expect(parse({ ...rec, FileUrls: [...junk, good] })).toMatchObject({ urls: [good] });
    expect(fail({ ...rec, FileUrls: junk })).toBe('field "FileUrls" holds no valid http(s) URL');
    expect(fail({ ...rec, FileUrls: [] })).toBe('field "FileUrls" holds no valid http(s) URL');
    expect(fail({ ...rec, FileUrls: 'not a url' })).toBe('field "FileUrls" holds no valid http(s) URL');
    expect(fail({ ...rec, FileUrls: { 0: good } })).toBe('field "FileUrls" must be a URL or a list of URLs');
    const { FileUrls: _f, ...none } = rec;
    expect(fail(none)).toBe('missing field "FileUrls"');
  });

  it('keeps at most 16 URLs and refuses absurd lists', () => {
    const many = Array.from({ length: 40 }, (_, i) => `https://pbx/r/a-1-${i}.mp3`);
    expect((parse({ ...rec, FileUrls: many }) as { urls: string[] }).urls).toEqual(many.slice(0, 16));
    expect(fail({ ...rec, FileUrls: Array.from({ length: 257 }, () => 'https://pbx/a.mp3') })).toBe('field "FileUrls" has too many entries');
  });

  it('takes the ref from Id when present, else from the first URL file name', () => {
    expect(parse({ ...rec, Id: 'other_1-3' })).toMatchObject({ ref: { raw: 'other_1-3', callId: 'other_1', leg: 3 } });
    const { Id: _i, ...noId } = rec;
    expect(parse(noId)).toMatchObject({ ref: { raw: '230307142318_40-1', callId: '230307142318_40', leg: 1 } });
    expect(parse({ ...noId, FileUrls: ['https://pbx/r/230102185935_18-1-2.wav?x=1#y'] })).toMatchObject({ ref: { raw: '230102185935_18-1', leg: 1 } });
    // no recording index: the one suffix stays the leg
    expect(parse({ ...noId, FileUrls: ['https://pbx/r/230102185935_18-1.mp3'] })).toMatchObject({ ref: { callId: '230102185935_18', leg: 1 } });
    expect(parse({ ...noId, FileUrls: ['https://pbx/r/230102185935_18.mp3'] })).toMatchObject({ ref: { callId: '230102185935_18', leg: null } });
    expect(error(parseWebhook(json({ ...noId, FileUrls: ['https://pbx/r/'] })))).toBe('missing field "Id" and the recording file name is not a call id');
    expect(error(parseWebhook(json({ ...noId, FileUrls: ['https://pbx/r/%E2%80%AEevil.mp3'] })))).toBe('missing field "Id" and the recording file name is not a call id');
    expect(fail({ ...rec, Id: 'bad id' })).toBe('field "Id" is not a valid call id (1-64 of A-Z a-z 0-9 _ . -)');
  });

  it('leaves user and caller id null when absent', () => {
    expect(parse({ Event: 'recording', FileUrls: rec.FileUrls })).toMatchObject({ user: null, callerId: null });
    expect(parse({ Event: 'recording', FileUrls: rec.FileUrls, User: '', Callerid: '' })).toMatchObject({ user: null, callerId: '' });
    expect(fail({ ...rec, User: 'u'.repeat(33) })).toBe('field "User" is too long');
  });

  it('refuses a bare URL that is not a recording', () => {
    expect(error(parseWebhook(get('https://pbx/')))).toBe('recording URL file name is not a call id');
    expect(error(parseWebhook(post(`https://pbx/${'a'.repeat(3000)}.mp3`)))).toBe('recording URL is not a well-formed http(s) URL');
    expect(error(parseWebhook(get('https%3A%2F%2F')))).toBe('query string is neither parameters nor a recording URL');
  });
});

describe('parseWebhook: hostile and broken input', () => {
  it('says what is wrong in one line', () => {
    const cases: [RawWebhook, string][] = [
      [post(''), 'empty request body'],
      [get(''), 'empty query string'],
      [post('hello'), 'body is neither JSON, a query string nor a recording URL'],
      [get('hello'), 'query string is neither parameters nor a recording URL'],
      [post('[1,2]'), 'JSON body is not an object'],
      [post('[{"Event":"ringing"}]'), 'JSON body is not an object'],
      [post('{"Event": "ringing", '), 'body is not valid JSON'],
      [post('{'.repeat(100_000)), 'body is not valid JSON'],
      [post('x'.repeat(300_000)), 'request is too large'],
      [get('event=ringing&user=1'), 'missing field "Id"'],
    ];
    for (const [raw, msg] of cases) {
      const e = error(parseWebhook(raw));
      expect(e).toBe(msg);
      expect(e).not.toMatch(/\n/);
    }
  });

  it('never lets "__proto__" or "constructor" keys reach an object', () => {
    const body = '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}, "Event": "ringing", "User": "1", "Id": "a-1"}';
    const r = parseWebhook(post(body));
    expect(event(r)).toMatchObject({ type: 'ringing', user: '1' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(error(parseWebhook(post('{"Event": {"__proto__": {"x": 1}}}')))).toBe('field "Event" must be text');
    expect(event(parseWebhook(get('__proto__[x]=1&event=dialing&user=1&id=a')))).toMatchObject({ type: 'dialing' });
  });

  it('rejects nested objects where text is expected', () => {
    const deep = `${'{"a":'.repeat(5000)}"x"${'}'.repeat(5000)}`;
    expect(error(parseWebhook(post(`{"Event": "ringing", "User": ${deep}, "Id": "a"}`)))).toBe('field "User" must be text');
    expect(error(parseWebhook(post(`{"Event": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`)))).toBe('field "Event" must be text');
  });

  it('never throws, whatever it is given', () => {
    // Deterministic pseudo-random garbage plus mutations of real seed requests.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = '{}[]":,=&%?\\ \n\t0123456789abcdefEeIiUu_-.+/\u202E\u0000‘’"\'hTtp:/';
    const seeds = seedFlows.flatMap((f) => flowRequests(f));
    const inputs: RawWebhook[] = [];
    for (let i = 0; i < 1500; i++) {
      const len = rand(200);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[rand(alphabet.length)];
      inputs.push(i % 2 ? post(s) : get(s));
      const base = seeds[rand(seeds.length)]!;
      const text = base.method === 'POST' ? base.body : base.query;
      const at = rand(text.length + 1);
      const mutated = text.slice(0, at) + s.slice(0, rand(5)) + text.slice(at + rand(4));
      inputs.push(base.method === 'POST' ? post(mutated) : get(mutated));
    }
    // And shapes that are not even the declared type.
    inputs.push({ method: 'POST', query: undefined, body: undefined } as unknown as RawWebhook);
    inputs.push({ method: 'DELETE', query: 'event=x', body: '' } as unknown as RawWebhook);
    let parsed = 0;
    for (const raw of inputs) {
      const r = parseWebhook(raw);
      expect(typeof r.ok).toBe('boolean');
      if (r.ok) parsed++;
      else expect(r.error).toMatch(/^[^\n]{1,200}$/);
    }
    expect(parsed).toBeGreaterThan(0);
  });
});
