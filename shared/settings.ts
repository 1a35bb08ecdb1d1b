// The user's settings: one zod schema gives the type, the defaults and the inline validation
// messages shown in Settings. Stored by electron-store in the app and by a JSON file for
// `callpop serve`; both sit behind SettingsStore so the core never sees Electron.
import { isSupportedCountry } from 'libphonenumber-js/min';
import { z } from 'zod';
import { acceleratorProblem } from './accelerator';
import { lineNamePattern } from './line-names';
import { urlTemplateProblem } from './crm-url';
import { pbxUrlProblem } from './pbx-url';

export const popupPositions = ['bottom-right', 'top-right', 'bottom-left', 'top-left'] as const;
export const themes = ['system', 'light', 'dark'] as const;

const extension = z
  .string()
  .trim()
  .regex(/^\d{0,10}$/, 'An extension is 1 to 10 digits, e.g. 117.');

/** A host name, IPv4 or [IPv6] address, optionally with :port; no scheme, no path. */
export const hostPattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** IPv4 / IPv6 address or CIDR range. */
const sourceAddress = z
  .string()
  .trim()
  .regex(/^(?:(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,2})?|[0-9A-Fa-f:]+(?::\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})?(?:\/\d{1,3})?)$/, 'Use an IP address or range, e.g. 192.0.2.10 or 192.0.2.0/24.');

/** An absolute file path (Windows or POSIX): the core may run with any working folder. */
const absoluteFile = z
  .string()
  .trim()
  .max(4096)
  .refine((s) => s === '' || /^(?:\/|[A-Za-z]:[\\/]|\\\\)/.test(s), 'Give the full path of the file, e.g. C:\\certs\\callpop.pem or /etc/callpop/cert.pem.');

/** SHA-256 certificate fingerprint: 64 hex digits, colons optional. */
export const fingerprintPattern = /^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/;

const urlTemplate = z
  .string()
  .trim()
  .max(2048)
  .refine((s) => s === '' || /^(https?:|tel:|callto:|sip:)/i.test(s), 'The template must start with https://, http://, tel:, callto: or sip:.')
  .superRefine((s, ctx) => {
    const problem = urlTemplateProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const isHttpsUrl = (s: string): boolean => {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' && u.hostname !== '' && u.username === '' && u.password === '';
  } catch {
    return false;
  }
};

/** Where the calls come from: this PC's own webhook listener, a Callpop hub (MQTT), or 3CX's Call Control API. */
export const callSources = ['listener', 'hub', 'call-control'] as const;
export type CallSource = (typeof callSources)[number];

/** A hub's broker URL: mqtt(s):// or ws(s)://, a host, no credentials (the password is kept apart). */
export function hubUrlProblem(s: string): string | null {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'Enter the hub address, e.g. mqtts://hub.example.com:8883 or wss://hub.example.com/mqtt.';
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol)) return 'The hub address starts with mqtt://, mqtts://, ws:// or wss://.';
  if (u.hostname === '') return 'The hub address needs a host name.';
  if (u.username !== '' || u.password !== '') return 'Put no user name or password in the address: set them in the fields below.';
  if (u.search !== '' || u.hash !== '') return 'The hub address takes no ?query or #fragment.';
  return null;
}

/** The hub addresses in one setting or flag: the nodes of a broker cluster are separated by commas. */
export function splitHubUrls(url: string | readonly string[]): string[] {
  return (typeof url === 'string' ? [url] : [...url]).flatMap((u) => u.split(',')).map((u) => u.trim()).filter(Boolean);
}

/** hubUrlProblem for each address of a comma list (at most 16 nodes). */
export function hubUrlsProblem(s: string): string | null {
  const urls = splitHubUrls(s);
  if (urls.length > 16) return 'Give at most 16 hub addresses (the nodes of one broker cluster).';
  for (const u of urls) {
    const problem = hubUrlProblem(u);
    if (problem) return urls.length > 1 ? `${u}: ${problem}` : problem;
  }
  return urls.length === 0 ? hubUrlProblem(s) : null;
}

/** An agent name as the hub knows it (`callpop hub agent add NAME`). */
export const hubAgentPattern = /^[A-Za-z0-9._@-]{1,64}$/;

export const settingsSchema = z.object({
  /** This user's 3CX extension; "" until set up. */
  extension: extension.default(''),
  source: z.enum(callSources).default('listener'),
  /** The Callpop hub's broker (source "hub"). */
  hubUrl: z
    .string()
    .trim()
    .max(2048)
    .superRefine((s, ctx) => {
      const problem = s === '' ? null : hubUrlsProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(''),
  /** The agent name this PC signs in to the hub with. */
  hubAgent: z.string().trim().regex(hubAgentPattern, 'An agent name is 1 to 64 letters, digits, . _ @ or -.').or(z.literal('')).default(''),
  /** Trust exactly this self-signed hub certificate (mqtts:// or wss://). */
  hubFingerprint: z.string().trim().regex(fingerprintPattern, 'A SHA-256 fingerprint is 64 hex digits (colons optional).').or(z.literal('')).default(''),
  /** 3CX's Call Control API (source "call-control"): the PBX (https://, http:// only to loopback), the API client, a CA file; the secret is kept apart. */
  callControlPbx: z
    .string()
    .trim()
    .max(2048)
    .superRefine((s, ctx) => {
      const problem = s === '' ? null : pbxUrlProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(''),
  callControlClientId: z.string().trim().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'A client ID is 1 to 64 letters, digits, _ . or -.').or(z.literal('')).default(''),
  callControlCaFile: absoluteFile.default(''),
  /**
   * A file holding the API key (e.g. deployed by IT and named in the machine policy). Empty: the key the
   * agent entered in Settings, kept by the core in its own file (main/core/config/call-control-secret.ts).
   * The key itself is never a setting: settings are shown to the renderer and stored in clear JSON.
   */
  callControlSecretFile: absoluteFile.default(''),
  listenHost: z.string().trim().min(1).max(255).default('0.0.0.0'),
  listenPort: z.number().int('The port is a whole number.').min(0).max(65535, 'Ports go up to 65535.').default(8765),
  /** Random secret in the webhook URL path (>= 128 bits, base64url). Generated on first run. */
  webhookSecret: z
    .string()
    .regex(/^[A-Za-z0-9_-]{22,128}$/, 'The secret is 22 to 128 characters of A-Z, a-z, 0-9, _ and -.')
    .or(z.literal(''))
    .default(''),
  /** Only these sources may post webhooks; empty = anyone who knows the URL. */
  allowedSources: z.array(sourceAddress).max(64).default([]),
  /** PEM certificate (chain) and private key files: the listener serves HTTPS. Both or neither (see tlsPairErrors). */
  tlsCertFile: absoluteFile.default(''),
  tlsKeyFile: absoluteFile.default(''),
  /** The PBX host (FQDN[:port]); recordings are only fetched from it. */
  pbxHost: z.string().trim().regex(hostPattern, 'Enter the PBX host name, e.g. pbx.example.com or pbx.example.com:5001.').or(z.literal('')).default(''),
  /** Trust exactly this self-signed PBX certificate (SHA-256 fingerprint). */
  recordingFingerprint: z.string().trim().regex(fingerprintPattern, 'A SHA-256 fingerprint is 64 hex digits (colons optional).').or(z.literal('')).default(''),
  /** Send the recording credentials over plain http too (an admin's choice; default: https only). */
  recordingAllowHttpCredentials: z.boolean().default(false),
  /** Where recordings are saved; "" = the OS download folder. */
  downloadDir: z.string().max(4096).default(''),
  autoDownloadRecordings: z.boolean().default(false),
  popup: z
    .object({
      enabled: z.boolean().default(true),
      /** Pop only for callers from outside (not other extensions). */
      externalOnly: z.boolean().default(false),
      /** Seconds a finished call's card stays; 0 = until dismissed. */
      autoCloseSec: z.number().int().min(0).max(3600).default(8),
      /** Missed calls' cards close after autoCloseSec too; by default they stay until dismissed. */
      autoCloseMissed: z.boolean().default(false),
      position: z.enum(popupPositions).default('bottom-right'),
      /** The monitor: "primary", "pointer" (the one with the mouse pointer when the call pops) or a display's name. */
      display: z.string().trim().min(1).max(200).default('primary'),
      /** Global shortcut that focuses the newest card (Electron accelerator); "" = none. */
      shortcut: z
        .string()
        .trim()
        .max(100)
        .superRefine((s, ctx) => {
          const problem = acceleratorProblem(s);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .default('CommandOrControl+Alt+P'),
    })
    .prefault({}),
  notifications: z
    .object({
      ringing: z.boolean().default(false),
      missed: z.boolean().default(true),
    })
    .prefault({}),
  /** Open in CRM: {number}, {e164}, {extension}, {callId} are URL-encoded into it. */
  crmUrlTemplate: urlTemplate.default(''),
  /** Call back: "" = tel:{number}, else e.g. the WebAPI's makecall URL. */
  clickToCallTemplate: urlTemplate.default(''),
  /** Names of queues, ring groups and DIDs: one "820 = Sales" per line. */
  lineNames: z.array(z.string().regex(lineNamePattern, 'Write one "number = name" per line, e.g. 820 = Sales.')).max(500).default([]),
  /** ISO 3166 country used to read and format national numbers. */
  defaultCountry: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, 'Use a two-letter country code, e.g. US, GB, TR.')
    // A code libphonenumber knows: "UK" looks like one but is not (the United Kingdom is GB).
    .refine((c) => isSupportedCountry(c), 'Choose a country from the list ("UK" is GB).')
    .default('US'),
  startAtLogin: z.boolean().default(false),
  theme: z.enum(themes).default('system'),
  /** A ringing call with no news for this long is closed as missed (3CX sends no "stopped ringing"). */
  ringTimeoutSec: z.number().int().min(10).max(3600).default(180),
  /** Delete log entries older than this many days; 0 = keep forever. */
  retentionDays: z.number().int().min(0).max(36500).default(0),
  updates: z
    .object({
      enabled: z.boolean().default(true),
      /**
       * Generic-provider URL (IT hosts updates internally); "" = no update checks. https only (the
       * feed names the code the app installs), and set by the machine policy only (shared/policy.ts).
       */
      url: z.string().trim().max(2048).refine((s) => s === '' || isHttpsUrl(s), 'Use an https:// URL: updates are never fetched over plain http.').default(''),
    })
    .prefault({}),
  debugLogging: z.boolean().default(false),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SettingsKey = keyof Settings;
export const defaultSettings = (): Settings => settingsSchema.parse({});

const S = settingsSchema.shape;
const popupS = S.popup.unwrap().shape;
const notificationsS = S.notifications.unwrap().shape;
const updatesS = S.updates.unwrap().shape;

// Every field with its validator but WITHOUT its default: a partial schema over the defaulted
// fields would fill absent keys with built-in defaults and so overwrite the user's real values.
const patchFields = {
  extension: S.extension.unwrap(),
  source: S.source.unwrap(),
  hubUrl: S.hubUrl.unwrap(),
  hubAgent: S.hubAgent.unwrap(),
  hubFingerprint: S.hubFingerprint.unwrap(),
  callControlPbx: S.callControlPbx.unwrap(),
  callControlClientId: S.callControlClientId.unwrap(),
  callControlCaFile: S.callControlCaFile.unwrap(),
  callControlSecretFile: S.callControlSecretFile.unwrap(),
  listenHost: S.listenHost.unwrap(),
  listenPort: S.listenPort.unwrap(),
  webhookSecret: S.webhookSecret.unwrap(),
  allowedSources: S.allowedSources.unwrap(),
  tlsCertFile: S.tlsCertFile.unwrap(),
  tlsKeyFile: S.tlsKeyFile.unwrap(),
  pbxHost: S.pbxHost.unwrap(),
  recordingFingerprint: S.recordingFingerprint.unwrap(),
  recordingAllowHttpCredentials: S.recordingAllowHttpCredentials.unwrap(),
  downloadDir: S.downloadDir.unwrap(),
  autoDownloadRecordings: S.autoDownloadRecordings.unwrap(),
  popup: z
    .strictObject({
      enabled: popupS.enabled.unwrap(),
      externalOnly: popupS.externalOnly.unwrap(),
      autoCloseSec: popupS.autoCloseSec.unwrap(),
      autoCloseMissed: popupS.autoCloseMissed.unwrap(),
      position: popupS.position.unwrap(),
      display: popupS.display.unwrap(),
      shortcut: popupS.shortcut.unwrap(),
    })
    .partial(),
  notifications: z.strictObject({ ringing: notificationsS.ringing.unwrap(), missed: notificationsS.missed.unwrap() }).partial(),
  crmUrlTemplate: S.crmUrlTemplate.unwrap(),
  clickToCallTemplate: S.clickToCallTemplate.unwrap(),
  lineNames: S.lineNames.unwrap(),
  defaultCountry: S.defaultCountry.unwrap(),
  startAtLogin: S.startAtLogin.unwrap(),
  theme: S.theme.unwrap(),
  ringTimeoutSec: S.ringTimeoutSec.unwrap(),
  retentionDays: S.retentionDays.unwrap(),
  updates: z.strictObject({ enabled: updatesS.enabled.unwrap(), url: updatesS.url.unwrap() }).partial(),
  debugLogging: S.debugLogging.unwrap(),
} satisfies Record<keyof Settings, z.ZodType>;

/** A sparse change as sent by Settings (nested objects may be partial too); absent keys stay as they are. */
export const settingsPatchSchema = z.strictObject(patchFields).partial();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

/** field path ("popup.autoCloseSec") → message, for inline errors. */
export type FieldErrors = Record<string, string>;

export function zodFieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.join('.') || '_';
    out[key] ??= issue.message;
  }
  return out;
}

/** Apply a patch to settings; the whole result is validated, so nothing is half-applied. */
export function applySettingsPatch(current: Settings, patch: unknown): { ok: true; settings: Settings } | { ok: false; errors: FieldErrors } {
  const p = settingsPatchSchema.safeParse(patch);
  if (!p.success) return { ok: false, errors: zodFieldErrors(p.error) };
  const merged = {
    ...current,
    ...p.data,
    popup: { ...current.popup, ...p.data.popup },
    notifications: { ...current.notifications, ...p.data.notifications },
    updates: { ...current.updates, ...p.data.updates },
  };
  const r = settingsSchema.safeParse(merged);
  return r.success ? { ok: true, settings: r.data } : { ok: false, errors: zodFieldErrors(r.error) };
}

/**
 * HTTPS needs the certificate and its key. Not a schema rule: Settings saves one field at a time,
 * and a stored or policy half-pair must not make every other setting unreadable. The service
 * reports a half-pair as its error state (not listening); `serve` refuses it as a usage error.
 */
export function tlsPairErrors(s: Pick<Settings, 'tlsCertFile' | 'tlsKeyFile'>): FieldErrors | null {
  if (s.tlsCertFile && !s.tlsKeyFile) return { tlsKeyFile: 'HTTPS needs the private key file too (set both files, or neither).' };
  if (s.tlsKeyFile && !s.tlsCertFile) return { tlsCertFile: 'HTTPS needs the certificate file too (set both files, or neither).' };
  return null;
}

/** Persistence behind an interface: electron-store in the app, a JSON file for the CLI. */
export interface SettingsStore {
  get(): Settings;
  set(settings: Settings): void;
}

/** The webhook URL to paste into WebhooksApi.ini. `host` is how the PBX reaches this PC. */
export function webhookUrl(host: string, port: number, secret: string, scheme: 'http' | 'https' = 'http'): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}/webhook/${secret}`;
}
