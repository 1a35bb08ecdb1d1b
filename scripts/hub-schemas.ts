// JSON Schema files for the hub protocol's payloads (docs/hub-protocol/*.schema.json), generated from
// the zod schemas in shared/hub-protocol.ts with zod 4's z.toJSONSchema, so the public contract and
// the code cannot drift (test/unit/hub-schemas.test.ts compares the committed files with this).
//   npm run hub-schemas        rewrite the files
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  actionRequestSchema,
  actionResponseSchema,
  agentExtensionsMessageSchema,
  callChangeMessageSchema,
  directoryMessageSchema,
  extensionHeadMessageSchema,
  hubStatusMessageSchema,
  openCallsMessageSchema,
  syncRequestSchema,
  syncResponseSchema,
} from '../shared/hub-protocol';
import { boardMessageSchema, callbackChangesMessageSchema, callbackRequestSchema, callbackResponseSchema, callbacksMessageSchema } from '../shared/team-protocol';

export const hubSchemaDir = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'docs', 'hub-protocol');

const payloads = {
  calls: { schema: callChangeMessageSchema, title: 'Call change', topic: 'callpop/v1/{site}/ext/{ext}/calls' },
  open: { schema: openCallsMessageSchema, title: 'Open calls (retained)', topic: 'callpop/v1/{site}/ext/{ext}/open' },
  head: { schema: extensionHeadMessageSchema, title: "The extension's latest change (with the heartbeat)", topic: 'callpop/v1/{site}/ext/{ext}/head' },
  'hub-status': { schema: hubStatusMessageSchema, title: 'Hub status (retained, last will)', topic: 'callpop/v1/{site}/hub/status' },
  directory: { schema: directoryMessageSchema, title: 'Directory (retained)', topic: 'callpop/v1/{site}/directory' },
  'agent-extensions': { schema: agentExtensionsMessageSchema, title: "An agent's own extensions (retained, only that agent reads it)", topic: 'callpop/v1/{site}/agent/{name}/extensions' },
  'sync-request': { schema: syncRequestSchema, title: 'Sync request (published by a client)', topic: 'callpop/v1/{site}/ext/{ext}/sync/req' },
  'sync-response': { schema: syncResponseSchema, title: 'Sync response chunk', topic: 'callpop/v1/{site}/ext/{ext}/sync/res/{clientId}' },
  'action-request': { schema: actionRequestSchema, title: 'Action request (published by a client)', topic: 'callpop/v1/{site}/ext/{ext}/actions/req' },
  'action-response': { schema: actionResponseSchema, title: 'Action response', topic: 'callpop/v1/{site}/ext/{ext}/actions/res/{clientId}' },
  // The team (shared/team-protocol.ts).
  callbacks: { schema: callbacksMessageSchema, title: 'Callbacks (retained)', topic: 'callpop/v1/{site}/ext/{ext}/callbacks and callpop/v1/{site}/callbacks' },
  'callback-changes': { schema: callbackChangesMessageSchema, title: 'Callback changes (not retained)', topic: 'callpop/v1/{site}/ext/{ext}/callbacks/changes' },
  'callback-request': { schema: callbackRequestSchema, title: 'Callback request (published by a client)', topic: 'callpop/v1/{site}/ext/{ext}/callbacks/req' },
  'callback-response': { schema: callbackResponseSchema, title: 'Callback response', topic: 'callpop/v1/{site}/ext/{ext}/callbacks/res/{clientId}' },
  board: { schema: boardMessageSchema, title: 'Board (retained, supervisors)', topic: 'callpop/v1/{site}/board' },
} as const;

/** File name → file text. */
export function hubSchemaFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, p] of Object.entries(payloads)) {
    // "input": what a reader must accept (the wire format), not zod's output after defaults.
    const json = z.toJSONSchema(p.schema as z.ZodType, { io: 'input', target: 'draft-2020-12' });
    const doc = { title: p.title, description: `Payload of ${p.topic} (hub protocol v1, JSON, UTF-8).`, ...json };
    out[`${name}.schema.json`] = `${JSON.stringify(doc, null, 2)}\n`;
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [file, text] of Object.entries(hubSchemaFiles())) {
    writeFileSync(join(hubSchemaDir, file), text);
    console.log(`wrote docs/hub-protocol/${file}`);
  }
}
