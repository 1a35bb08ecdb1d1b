// The webhook parser's fast path: a z.object of text fields (fields.ts), compiled once into a plain
// loop that runs the very same shape functions as the schema, without zod's per-field machinery. Zod
// stays the definition: the compiled function only ever ACCEPTS, giving exactly what the schema's
// parse would; for anything else (a missing or malformed field) it returns null and the schema decides,
// so every refusal and its wording stay zod's. Every webhook of the PBX goes through the parser, most
// of them other extensions' calls, and zod's machinery was about a third of the listener's CPU time on
// them. A schema with any other kind of field (a union, a refinement) compiles to "always ask zod".
// test/unit/webhook-fast-parse.test.ts checks both agree on the seed flows and thousands of mutants.
import type { z } from 'zod';
import { asText, shapeOf, type Shape } from './fields';

interface Step {
  key: string;
  shape: Shape<unknown>;
  /** When the key is absent: refuse (ask zod), leave it out (optional), or the default (read each time, as zod does). */
  absent: 'refuse' | 'omit' | { readonly defaultValue: unknown };
}

/**
 * Accepts like `schema.safeParse(object)` and returns its data, or returns null: then ask the schema.
 * It reads the decoded field map itself (the object zod is given holds the same values for the same
 * keys): on the fast path no object is built at all.
 */
export type FastObject<T> = (fields: ReadonlyMap<string, unknown>) => T | null;

const never = (): null => null;

export function compileObject<S extends z.ZodObject>(schema: S): FastObject<z.output<S>> {
  const steps: Step[] = [];
  for (const [key, field] of Object.entries(schema.shape) as [string, z.ZodType][]) {
    const def = field._zod.def as { type: string; innerType?: z.ZodType };
    let inner = field;
    let absent: Step['absent'] = 'refuse';
    if (def.type === 'default' && def.innerType) {
      inner = def.innerType;
      absent = def as unknown as { readonly defaultValue: unknown };
    } else if (def.type === 'optional' && def.innerType) {
      inner = def.innerType;
      absent = 'omit';
    }
    const shape = shapeOf(inner);
    if (!shape) return never;
    steps.push({ key, shape, absent });
  }
  return (fields) => {
    // Keys in the schema's order, as zod builds its output.
    const out: Record<string, unknown> = {};
    for (const step of steps) {
      const v = fields.get(step.key);
      if (v === undefined) {
        if (step.absent === 'refuse') return null;
        if (step.absent !== 'omit') out[step.key] = step.absent.defaultValue;
        continue;
      }
      const text = asText(v);
      if (text === null) return null;
      const r = step.shape(text);
      if (typeof r === 'string') return null;
      out[step.key] = r.value;
    }
    return out as z.output<S>;
  };
}
