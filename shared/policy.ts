// The machine-wide policy file IT drops on agent PCs, and how it combines with the user's own
// settings. Precedence, per field: locked policy > user > policy defaults > built-in defaults.
//
//   { "defaults": { … }, "locked": { … }, "extensionByLogin": { "jdoe": "117" }, "lockReason": "…" }
//
// The user store should hold only what the user changed (SettingsOverrides), never a full
// Settings object: otherwise stored built-in defaults would hide the policy's defaults.
import { z } from 'zod';
import { hubAgentPattern, settingsPatchSchema, settingsSchema, zodFieldErrors } from './settings';
import type { FieldErrors, Settings, SettingsPatch } from './settings';

/** What the user changed, sparse: absent keys follow the policy defaults / built-in defaults. */
export type SettingsOverrides = SettingsPatch;

/** The settings a policy may preset or lock (ringTimeoutSec is a tuning knob, not an IT choice). */
export const policySettingsSchema = settingsPatchSchema.omit({ ringTimeoutSec: true });
export type PolicySettings = z.infer<typeof policySettingsSchema>;
export const policyKeys = Object.keys(policySettingsSchema.shape) as (keyof PolicySettings)[];

export const DEFAULT_LOCK_REASON = 'Set by your IT department';

/**
 * Settings only the policy may set: the user's store never holds them (a stored value is dropped
 * and migrated away) and Settings cannot change them. The update feed decides what code the app
 * installs, so it is IT's choice alone.
 */
export const POLICY_ONLY_PATHS = ['updates.url'] as const;
export const POLICY_ONLY_MESSAGE = 'The update server is set by your IT department (machine policy) only.';

/** "CONTOSO\jdoe", "jdoe@contoso.com", " JDoe " → "jdoe". */
export function normalizeLogin(login: string): string {
  let s = login.trim();
  const slash = s.lastIndexOf('\\');
  if (slash >= 0) s = s.slice(slash + 1);
  const at = s.indexOf('@');
  if (at >= 0) s = s.slice(0, at);
  return s.toLowerCase();
}

const policyExtension = z.string().trim().regex(/^\d{1,10}$/, 'An extension is 1 to 10 digits, e.g. 117.');

export const policySchema = z
  .strictObject({
    /** Shown next to locked settings instead of the default reason. */
    lockReason: z.string().trim().min(1).max(200).optional(),
    defaults: policySettingsSchema.optional(),
    locked: policySettingsSchema.optional(),
    extensionByLogin: z.record(z.string().trim().min(1, 'A login name cannot be empty.').max(256), policyExtension).optional(),
    /** The hub agent name of each login (same login forms as extensionByLogin): a preset PC asks only for the password. */
    hubAgentByLogin: z.record(z.string().trim().min(1, 'A login name cannot be empty.').max(256), z.string().trim().regex(hubAgentPattern, 'An agent name is 1 to 64 letters, digits, . _ @ or -.')).optional(),
    /**
     * Only read from the machine-wide file: lets a packaged app honour --config, CALLPOP_CONFIG and
     * CALLPOP_USER_DATA_DIR (main/core/config/local-overrides.ts). Default false.
     */
    allowLocalOverrides: z.boolean().optional(),
  })
  .superRefine((p, ctx) => {
    const seen = new Map<string, { login: string; ext: string }>();
    for (const [login, ext] of Object.entries(p.extensionByLogin ?? {})) {
      const key = normalizeLogin(login);
      if (key === '') ctx.addIssue({ code: 'custom', path: ['extensionByLogin', login], message: 'The login name has no user part.' });
      const prev = seen.get(key);
      if (prev && prev.ext !== ext) {
        ctx.addIssue({ code: 'custom', path: ['extensionByLogin', login], message: `Same user as "${prev.login}" but a different extension (${prev.ext} vs ${ext}).` });
      }
      seen.set(key, { login, ext });
    }
    const agents = new Map<string, { login: string; agent: string }>();
    for (const [login, agent] of Object.entries(p.hubAgentByLogin ?? {})) {
      const key = normalizeLogin(login);
      if (key === '') ctx.addIssue({ code: 'custom', path: ['hubAgentByLogin', login], message: 'The login name has no user part.' });
      const prev = agents.get(key);
      if (prev && prev.agent !== agent) {
        ctx.addIssue({ code: 'custom', path: ['hubAgentByLogin', login], message: `Same user as "${prev.login}" but a different agent (${prev.agent} vs ${agent}).` });
      }
      agents.set(key, { login, agent });
    }
  })
  .transform((p) => ({
    lockReason: p.lockReason ?? DEFAULT_LOCK_REASON,
    defaults: p.defaults ?? {},
    locked: p.locked ?? {},
    /** Keys normalised with normalizeLogin. */
    extensionByLogin: Object.fromEntries(Object.entries(p.extensionByLogin ?? {}).map(([l, e]) => [normalizeLogin(l), e])) as Record<string, string>,
    /** Keys normalised with normalizeLogin. */
    hubAgentByLogin: Object.fromEntries(Object.entries(p.hubAgentByLogin ?? {}).map(([l, a]) => [normalizeLogin(l), a])) as Record<string, string>,
    allowLocalOverrides: p.allowLocalOverrides ?? false,
  }));
export type Policy = z.output<typeof policySchema>;

/** Closest allowed key for a typo ("listenPrt" → "listenPort"), or null. */
function suggest(key: string, allowed: readonly string[]): string | null {
  const dist = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
        prev = cur;
      }
    }
    return row[b.length]!;
  };
  let best: string | null = null;
  let bestD = 3;
  for (const k of allowed) {
    const d = dist(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(policySchema.in.shape);
  const [section, sub] = path;
  if ((section === 'defaults' || section === 'locked') && path.length === 1) return policyKeys;
  if ((section === 'defaults' || section === 'locked') && path.length === 2) {
    const field = policySettingsSchema.shape[sub as keyof PolicySettings];
    const inner = field instanceof z.ZodOptional ? field.unwrap() : field;
    if (inner instanceof z.ZodObject) return Object.keys(inner.shape);
  }
  return [];
}

/** One line: "locked.listenPort: Ports go up to 65535.; defaults.listenPrt: not a policy key (did you mean listenPort?)". */
export function formatPolicyIssues(error: z.ZodError, max = 3): string {
  const parts: string[] = [];
  for (const issue of error.issues) {
    const where = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(issue.path);
      for (const key of issue.keys) {
        const hint = suggest(key, allowed);
        parts.push(`${where ? `${where}.` : ''}${key}: not a policy key${hint ? ` (did you mean ${hint}?)` : ''}`);
      }
    } else {
      parts.push(`${where || '(top level)'}: ${issue.message}`);
    }
  }
  const more = parts.length > max ? ` (and ${parts.length - max} more)` : '';
  return parts.slice(0, max).join('; ') + more;
}

export type PolicyParseResult = { ok: true; policy: Policy } | { ok: false; error: string };

/** Validate parsed JSON as a policy. The whole file is accepted or rejected: never half-applied. */
export function parsePolicy(json: unknown): PolicyParseResult {
  const r = policySchema.safeParse(json);
  return r.success ? { ok: true, policy: r.data } : { ok: false, error: formatPolicyIssues(r.error) };
}

const nestedKeys = ['popup', 'notifications', 'updates'] as const;
type Loose = Record<string, unknown>;
const isPlainObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Overlay b on a, merging the nested settings objects one level deep. */
function overlay(a: Loose, b: Loose): Loose {
  const out: Loose = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? { ...(out[k] as Loose), ...v } : v;
  }
  return out;
}

/** Leaf paths of a settings-shaped object: "listenPort", "popup.enabled". */
function leafPaths(o: Loose): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if ((nestedKeys as readonly string[]).includes(k) && isPlainObject(v)) out.push(...Object.keys(v).filter((s) => v[s] !== undefined).map((s) => `${k}.${s}`));
    else out.push(k);
  }
  return out;
}

function getPath(o: Loose, path: string): unknown {
  const [a, b] = path.split('.') as [string, string | undefined];
  const v = o[a];
  return b === undefined ? v : isPlainObject(v) ? v[b] : undefined;
}

const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Keep the valid fields of whatever the store held; drop (and name) the rest, so one corrupt
 * field falls back to its default instead of discarding every setting.
 */
export function sanitizeOverrides(user: unknown): { overrides: SettingsOverrides; invalid: string[] } {
  const invalid: string[] = [];
  const pick = (shape: Record<string, z.ZodType>, input: unknown, prefix: string): Loose => {
    const out: Loose = {};
    if (!isPlainObject(input)) return out;
    for (const [k, v] of Object.entries(input)) {
      const field = shape[k];
      if (!field) {
        invalid.push(prefix + k);
        continue;
      }
      const inner = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
      if (inner instanceof z.ZodObject && isPlainObject(v)) {
        out[k] = pick(inner.shape as Record<string, z.ZodType>, v, `${prefix}${k}.`);
        continue;
      }
      const r = inner.safeParse(v);
      if (r.success) out[k] = r.data;
      else invalid.push(prefix + k);
    }
    return out;
  };
  const overrides = pick(settingsPatchSchema.shape, user, '');
  dropPolicyOnly(overrides);
  return { overrides: overrides as SettingsOverrides, invalid };
}

/** Removes POLICY_ONLY_PATHS from a settings-shaped object; returns the paths that were there. */
function dropPolicyOnly(o: Loose): string[] {
  const found: string[] = [];
  for (const path of POLICY_ONLY_PATHS) {
    const [a, b] = path.split('.') as [string, string];
    const section = o[a];
    if (isPlainObject(section) && b in section) {
      delete section[b];
      found.push(path);
    }
  }
  return found;
}

/** The user's stored overrides without policy-only keys, or null when there were none (nothing to migrate). */
export function withoutPolicyOnly(user: unknown): { user: Loose; removed: string[] } | null {
  if (!isPlainObject(user)) return null;
  const copy = structuredClone(user);
  const removed = dropPolicyOnly(copy);
  return removed.length > 0 ? { user: copy, removed } : null;
}

export interface ResolveInput {
  /** The user's stored overrides (untrusted shape: invalid fields are dropped). */
  user: unknown;
  policy: Policy | null;
  /** The OS login name (os.userInfo().username); any DOMAIN\user or user@domain form. */
  loginName: string;
}

export interface Resolved {
  settings: Settings;
  /** "listenPort" / "popup.enabled" → reason shown next to the read-only field. */
  locked: Record<string, string>;
  /** User fields that were invalid and ignored (for the log). */
  invalidUserKeys: string[];
}

/** Combine built-in defaults, policy defaults, the user's overrides and the policy's locks. */
export function resolveSettings({ user, policy, loginName }: ResolveInput): Resolved {
  const { overrides, invalid } = sanitizeOverrides(user);
  const builtIn = settingsSchema.parse({}) as Loose;
  const forced: Loose = { ...(policy?.locked ?? {}) };
  const locked: Record<string, string> = {};
  if (policy) {
    for (const path of leafPaths(policy.locked)) locked[path] = policy.lockReason;
    const mapped = policy.extensionByLogin[normalizeLogin(loginName)];
    if (mapped !== undefined) {
      forced.extension = mapped;
      locked.extension = `${policy.lockReason} (extension assigned to ${normalizeLogin(loginName)})`;
    }
    const agent = policy.hubAgentByLogin[normalizeLogin(loginName)];
    if (agent !== undefined) {
      forced.hubAgent = agent;
      locked.hubAgent = `${policy.lockReason} (hub agent of ${normalizeLogin(loginName)})`;
    }
  }
  const merged = overlay(overlay(overlay(builtIn, policy?.defaults ?? {}), overrides), forced);
  // Every layer was validated field by field, so this only fails on a bug; fall back safely.
  const r = settingsSchema.safeParse(merged);
  return { settings: r.success ? r.data : settingsSchema.parse(overlay(builtIn, forced)), locked, invalidUserKeys: invalid };
}

export type UserPatchResult =
  | ({ ok: true; /** The new overrides to store. */ user: SettingsOverrides } & Resolved)
  | { ok: false; errors: FieldErrors };

/**
 * Apply a change from Settings to the user's overrides. Changing a locked field is refused with a
 * per-field error; sending a locked field's current value (a whole form) is accepted and ignored.
 */
export function applyUserPatch(input: ResolveInput & { patch: unknown }): UserPatchResult {
  const p = settingsPatchSchema.safeParse(input.patch);
  if (!p.success) return { ok: false, errors: zodFieldErrors(p.error) };
  const current = resolveSettings(input);
  const patch = structuredClone(p.data) as Loose;
  const errors: FieldErrors = {};
  for (const path of leafPaths(patch)) {
    if ((POLICY_ONLY_PATHS as readonly string[]).includes(path)) {
      // A whole form may send the current value back: accepted and ignored, like a locked field.
      if (!sameValue(getPath(patch, path), getPath(current.settings as unknown as Loose, path))) errors[path] = POLICY_ONLY_MESSAGE;
      const [a, b] = path.split('.') as [string, string];
      delete (patch[a] as Loose)[b];
      continue;
    }
    const reason = current.locked[path];
    if (reason === undefined) continue;
    if (!sameValue(getPath(patch, path), getPath(current.settings as unknown as Loose, path))) {
      errors[path] = `${reason}: this setting cannot be changed here.`;
    }
    const [a, b] = path.split('.') as [string, string | undefined];
    if (b === undefined) delete patch[a];
    else delete (patch[a] as Loose)[b];
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const { overrides } = sanitizeOverrides(input.user);
  const user = overlay(overrides, patch) as SettingsOverrides;
  const next = resolveSettings({ ...input, user });
  return { ok: true, user, ...next };
}
