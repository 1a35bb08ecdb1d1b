// The parser's fast path (shared/webhook/fast-parse.ts) against the zod schemas it is compiled from:
// on every seed webhook and on thousands of mutants of them (each field missing, empty, too long,
// of the wrong type, with control characters, in odd case…), the fast path either gives exactly
// what the schema's parse gives (same keys, same order, same values) or declines (null), and it
// declines every input the schema refuses. So the parser refuses the same inputs with the same
// wording, whichever path ran.
import { describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import { compileObject } from '../../shared/webhook/fast-parse';
import { webhookSchemas } from '../../shared/webhook/parse';
import { flowSteps, seedFlows } from '../../shared/webhook/seed-flows';

/** The seed's webhooks as the parser's field bags (keys lower-cased), POST and GET spellings. */
function seedFieldBags(): Record<string, unknown>[] {
  const bags: Record<string, unknown>[] = [];
  for (const flow of seedFlows) {
    for (const step of flowSteps(flow)) {
      if (!step.fields) continue;
      const bag: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(step.fields)) bag[k.toLowerCase()] = v;
      bags.push(bag);
    }
  }
  return bags;
}

const oddValues: unknown[] = [
  '',
  ' ',
  '\t',
  'x'.repeat(32),
  'x'.repeat(33),
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(128),
  'x'.repeat(129),
  ' 117 ',
  '1\u0000 17',
  '\u202Eevil',
  '\u2028',
  0,
  1,
  -1,
  1.5,
  Number.NaN,
  true,
  false,
  null,
  {},
  { a: 1 },
  [],
  ['a'],
  'True',
  ' FALSE ',
  'yes',
  'Ok',
  ' ok ',
  'Missed',
  'Attended',
  'BLIND',
  'NotDef',
  'Ext',
  'QUEUE',
  'ivr',
  'DID-420222000320',
  'did-',
  ' DID- 42 ',
  `DID-${'9'.repeat(70)}`,
  '0:07',
  '12:34',
  '1:02:03',
  '1:2',
  '99999:00',
  'abc',
  'Answered call from 420774852629 (0:07)',
  '(1:00) then (0:05)',
  '230307142318_40-2',
  '230307142318_40',
  'a b',
  'a/b',
  '-1',
  'x-1234567890',
  `${'1'.repeat(64)}`,
  `${'1'.repeat(65)}`,
  'ringing',
  'RINGING',
  ' IncomingCall_Started ',
  'outgoing',
  'recording',
  'constructor',
  '__proto__',
  'https://pbx.example.com:5001/webapi/recording/230307142318_40-2-1.mp3',
];

const keys = ['event', 'id', 'user', 'callerid', 'did', 'usertype', 'trtype', 'finishtype', 'transfer', 'duration', 'title', 'fileurls', 'callername', 'other'];

function* mutants(bag: Record<string, unknown>): Generator<Record<string, unknown>> {
  yield bag;
  for (const key of keys) {
    const { [key]: _dropped, ...without } = bag;
    yield without;
    for (const v of oddValues) yield { ...bag, [key]: v };
  }
}

/** Why the fast path and the schema disagree on `bag`, or null when they agree. */
function disagreement(fast: ReturnType<typeof compileObject>, schema: z.ZodObject, bag: Record<string, unknown>): string | null {
  const data = fast(new Map(Object.entries(bag)));
  if (data === null) return null;
  const slow = schema.safeParse(bag);
  if (!slow.success) return `fast path accepted what the schema refuses: ${JSON.stringify(bag)}`;
  // The same data: deep and strict (absent keys stay absent), and in the same key order.
  if (!isDeepStrictEqual(data, slow.data) || JSON.stringify(data) !== JSON.stringify(slow.data)) return `different data for ${JSON.stringify(bag)}: ${JSON.stringify(data)} vs ${JSON.stringify(slow.data)}`;
  return null;
}

describe('the parser fast path', () => {
  const bags = seedFieldBags();
  // One of each distinct webhook for the mutants (the flows repeat many).
  const distinct = [...new Map(bags.map((b) => [JSON.stringify(b), b])).values()];

  it('takes the seed webhooks without asking zod', () => {
    // Otherwise it would be no fast path: every call event of the seed is compiled and accepted.
    let taken = 0;
    for (const bag of bags) {
      const event = String(bag.event).toLowerCase();
      const kind = event === 'ringing' || event === 'dialing' ? event : event === 'incoming' || event === 'outgoing' ? 'ended' : event.includes('_started') || event.startsWith('hangup') || event.startsWith('pickup') ? 'started' : null;
      if (kind === null) continue;
      expect(compileObject(webhookSchemas.head)(new Map(Object.entries(bag)))).not.toBeNull();
      expect(compileObject(webhookSchemas[kind])(new Map(Object.entries(bag))), JSON.stringify(bag)).not.toBeNull();
      taken++;
    }
    expect(taken).toBeGreaterThan(50);
  });

  it('accepts only what the schema accepts, giving the same data, on every mutant of every seed webhook', () => {
    let cases = 0;
    let declined = 0;
    const problems: string[] = [];
    for (const schema of Object.values(webhookSchemas)) {
      const fast = compileObject(schema);
      for (const bag of distinct) {
        for (const m of mutants(bag)) {
          const problem = disagreement(fast, schema, m);
          if (problem) problems.push(problem);
          if (fast(new Map(Object.entries(m))) === null) declined++;
          cases++;
        }
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(cases).toBeGreaterThan(10_000);
    // Both ways were exercised: many mutants are refused (by the schema) and many accepted (fast).
    expect(declined).toBeGreaterThan(1000);
    expect(cases - declined).toBeGreaterThan(1000);
  });

  it('declines a schema it cannot compile (a union field): the schema decides every recording', () => {
    const bag = { fileurls: 'https://pbx.example.com:5001/webapi/recording/230307142318_40-2-1.mp3', id: '230307142318_40-2' };
    expect(webhookSchemas.recording.safeParse(bag).success).toBe(true);
    expect(compileObject(webhookSchemas.recording)(new Map(Object.entries(bag)))).toBeNull();
  });

});
