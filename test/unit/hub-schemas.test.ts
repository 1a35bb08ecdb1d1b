// The JSON Schemas in docs/hub-protocol/ are the public contract of the hub's payloads: they must be
// exactly what the zod schemas in shared/hub-protocol.ts generate (run `npm run hub-schemas` after
// changing those), and they must accept what the hub really sends and refuse what it would refuse.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hubSchemaDir, hubSchemaFiles } from '../../scripts/hub-schemas';

describe('docs/hub-protocol JSON Schemas', () => {
  it('match the zod schemas they are generated from (no drift)', () => {
    const expected = hubSchemaFiles();
    const committed = readdirSync(hubSchemaDir).filter((f) => f.endsWith('.schema.json')).sort();
    expect(committed).toEqual(Object.keys(expected).sort());
    for (const [file, text] of Object.entries(expected)) expect([file, readFileSync(join(hubSchemaDir, file), 'utf8')]).toEqual([file, text]);
  });

  it('describe the wire format: v is the constant 1, seq a safe non-negative integer, unknown fields allowed', () => {
    const calls = JSON.parse(readFileSync(join(hubSchemaDir, 'calls.schema.json'), 'utf8')) as {
      properties: { v: { const: number }; seq: { type: string; minimum: number }; change: { enum: string[] } };
      required: string[];
      additionalProperties?: unknown;
    };
    expect(calls.properties.v.const).toBe(1);
    expect(calls.properties.seq).toMatchObject({ type: 'integer', minimum: 0 });
    expect(calls.properties.change.enum).toContain('ringing');
    expect(calls.required).toEqual(['v', 'seq', 'change', 'record']);
    expect(calls.additionalProperties).toBeUndefined();
  });
});
