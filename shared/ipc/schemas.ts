// Argument schemas for every request channel: main validates what a renderer sends before
// anything acts on it (a compromised renderer is untrusted input too).
import { z } from 'zod';
import { directions } from '../call-record';
import { resultFilters } from '../call-outcome';
import { noteMaxLength } from '../call-log';
import { settingsPatchSchema } from '../settings';
import { callbackActions } from '../team-protocol';
import { POPUP_MAX_HEIGHT, POPUP_MIN_HEIGHT } from './contract';
import type { InvokeArgs, InvokeChannel } from './contract';

const id = z.string().min(1).max(64);
/** A short note per call (a domain constant: shared/call-log.ts). */
export { noteMaxLength };
const empty = z.object({}).strict();
const isoDate = z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), 'Not a date.');

export const logFilterSchema = z
  .object({
    direction: z.enum(directions).optional(),
    result: z.enum(resultFilters).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    text: z.string().max(100).optional(),
    unseenOnly: z.boolean().optional(),
  })
  .strict();

/** Basic auth (RFC 7617): the user name cannot hold a colon; neither part control characters. */
// eslint-disable-next-line no-control-regex
const noControl = (s: string) => !/[\u0000-\u001f\u007f]/.test(s);
export const setRecordingCredentialsSchema = z.union([
  z
    .object({
      username: z.string().max(256).refine((s) => !s.includes(':'), 'A user name cannot contain ":".').refine(noControl, 'No control characters.'),
      password: z.string().max(1024).refine(noControl, 'No control characters.').optional(),
    })
    .strict(),
  z.object({ clear: z.literal(true) }).strict(),
]);

export const invokeArgSchemas = {
  'app:rendererReady': z.object({ view: z.enum(['main', 'popup']) }).strict(),
  'app:getStatus': empty,
  'app:openLogsFolder': empty,
  'window:openMain': z.object({ view: z.enum(['calls', 'log', 'settings']), callId: id.optional(), search: z.string().max(100).optional() }).strict(),
  'settings:get': empty,
  'settings:update': settingsPatchSchema,
  'settings:regenerateSecret': empty,
  'settings:getRecordingCredentials': empty,
  'settings:setRecordingCredentials': setRecordingCredentialsSchema,
  'settings:getHubPassword': empty,
  'settings:setHubPassword': z.union([z.object({ password: z.string().min(1, 'Enter the password.').max(1024).refine(noControl, 'No control characters.') }).strict(), z.object({ clear: z.literal(true) }).strict()]),
  'popup:dismiss': z.object({ callId: id }).strict(),
  'popup:resize': z.object({ height: z.number().int().min(POPUP_MIN_HEIGHT).max(POPUP_MAX_HEIGHT) }).strict(),
  'popups:setPaused': z.object({ paused: z.boolean() }).strict(),
  'popup:returnFocus': empty,
  'popup:displays': empty,
  'call:openCrm': z.object({ callId: id }).strict(),
  'call:callBack': z.object({ number: z.string().min(1).max(64) }).strict(),
  'clipboard:writeText': z.object({ text: z.string().max(4096) }).strict(),
  'recording:showInFolder': z.object({ path: z.string().min(1).max(4096) }).strict(),
  'recording:mediaUrl': z.object({ downloadId: id }).strict(),
  'log:export': z.object({ format: z.enum(['csv', 'json']), filter: logFilterSchema }).strict(),
  'contacts:import': empty,
  'calls:active': empty,
  'calls:get': z.object({ callId: id }).strict(),
  'calls:clear': z.object({ callId: id }).strict(),
  'calls:actions': empty,
  'calls:colleagues': empty,
  'calls:act': z
    .object({ action: z.enum(['call', 'hangup', 'transfer', 'answer']), callId: id.optional(), destination: z.string().regex(/^\+?[0-9*#]{1,32}$/).optional() })
    .strict(),
  'calls:history': z.object({ number: z.string().max(64), excludeCallId: id.optional() }).strict(),
  'log:query': logFilterSchema.extend({ offset: z.number().int().min(0), limit: z.number().int().min(1).max(1000), groupMissed: z.boolean().optional() }).strict(),
  'log:markSeen': z.object({ ids: z.array(id).max(100_000).optional(), number: z.string().max(256).optional() }).strict(),
  'log:delete': z.object({ ids: z.array(id).min(1).max(100_000) }).strict(),
  'log:setNote': z.object({ callId: id, text: z.string().max(noteMaxLength) }).strict(),
  'recording:download': z.object({ callId: id, url: z.string().min(1).max(2048) }).strict(),
  'recording:cancel': z.object({ downloadId: id }).strict(),
  'recording:list': empty,
  'contacts:importText': z.object({ text: z.string().max(20_000_000), fileName: z.string().max(260) }).strict(),
  'contacts:clear': empty,
  'contacts:summary': empty,
  'contacts:add': z.object({ name: z.string().max(200), number: z.string().min(1).max(64), company: z.string().max(200).optional() }).strict(),
  'test:sendTestCall': empty,
  'callbacks:list': empty,
  'callbacks:act': z.object({ id: z.string().min(1).max(64), action: z.enum(callbackActions), note: z.string().max(500).optional() }).strict(),
  'settings:getCallControlSecret': empty,
  // The core checks the key's form too (config/call-control-secret.ts): one line, no spaces.
  'settings:setCallControlSecret': z.union([z.object({ secret: z.string().trim().min(1, 'Enter the API key.').max(1024).refine(noControl, 'No control characters.') }).strict(), z.object({ clear: z.literal(true) }).strict()]),
} satisfies { [C in InvokeChannel]: z.ZodType<InvokeArgs<C>> };

export type ArgCheck<C extends InvokeChannel> = { ok: true; args: InvokeArgs<C> } | { ok: false; error: string };

/** Validate a request's arguments; the error is one line naming the channel and the field. */
export function checkInvokeArgs<C extends InvokeChannel>(channel: C, args: unknown): ArgCheck<C> {
  const schema = invokeArgSchemas[channel] as z.ZodType<InvokeArgs<C>> | undefined;
  if (!schema) return { ok: false, error: `Unknown channel ${String(channel)}` };
  const r = schema.safeParse(args ?? {});
  if (r.success) return { ok: true, args: r.data };
  const first = r.error.issues[0];
  return { ok: false, error: `${channel}: ${first ? `${first.path.join('.') || 'arguments'}: ${first.message}` : 'invalid arguments'}` };
}
