// The command-line flags that choose 3CX's Call Control API as the source of calls (`callpop hub` and
// `callpop serve`): --source webapi|call-control, --pbx URL, --client-id ID, --client-secret-file FILE,
// --pbx-ca FILE, --record-traffic FILE. Parsed here once for both commands; the secret is read from a
// file (never a flag: flags show in `ps`) and is never printed.
import { readFile } from 'node:fs/promises';
import { parseDialAllow } from '../core/call-control/hub-actions';
import { PbxUrlError, parsePbxUrl } from '../core/call-control/pbx-http';
import { UsageError } from './args';

export const callControlOptions = {
  source: { type: 'string' },
  pbx: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'pbx-ca': { type: 'string' },
  'record-traffic': { type: 'string' },
} as const;

/** Actions on agents' calls (hub only). */
export const actionOptions = {
  'dial-allow': { type: 'string' },
  'webapi-url': { type: 'string' },
  'webapi-key-file': { type: 'string' },
} as const;

export const actionUsage = `Actions on agents' own calls (Call back, Hang up, Transfer, Answer; hub only):
  --dial-allow PATTERN    only destinations matching this regular expression (whole number) may be dialled
  --webapi-url URL        with --source webapi: the WebAPI add-on (https://pbx.example.com:5001), for Call back
  --webapi-key-file FILE  a file holding the add-on's access key (MakeCall is the only action it offers)`;

export interface ActionFlags {
  'dial-allow'?: string | undefined;
  'webapi-url'?: string | undefined;
  'webapi-key-file'?: string | undefined;
}

export interface ActionConfig {
  dialAllow: RegExp | null;
  webApi: { url: URL; key: string } | null;
}

export async function parseActionFlags(v: ActionFlags, callControl: boolean): Promise<ActionConfig> {
  let dialAllow: RegExp | null = null;
  if (v['dial-allow'] !== undefined) {
    try {
      dialAllow = parseDialAllow(v['dial-allow']);
    } catch (e) {
      throw new UsageError(`--dial-allow: ${(e as Error).message}`);
    }
  }
  if ((v['webapi-url'] === undefined) !== (v['webapi-key-file'] === undefined)) throw new UsageError('--webapi-url and --webapi-key-file go together.');
  if (v['webapi-url'] === undefined) return { dialAllow, webApi: null };
  if (callControl) throw new UsageError('--webapi-url is for --source webapi (Call Control places calls itself).');
  let url: URL;
  try {
    url = parsePbxUrl(v['webapi-url']);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^--pbx/, '--webapi-url'));
  }
  const key = (await readFlagFile('webapi-key-file', v['webapi-key-file']!)).toString('utf8').replace(/\r?\n$/, '');
  if (!/^[A-Za-z0-9_.~-]{1,256}$/.test(key)) throw new UsageError('--webapi-key-file must hold the access key on one line (letters, digits, _ . ~ -).');
  return { dialAllow, webApi: { url, key } };
}

export const callControlUsage = `Without the WebAPI add-on (3CX v20 Call Control API, Enterprise licence):
  --source call-control   take calls from 3CX's Call Control API instead of webhooks (default: webapi)
  --pbx URL               the PBX, https://pbx.example.com (http:// only for a loopback address)
  --client-id ID          the API client's ID (Admin Console → Integrations → API)
  --client-secret-file F  a file holding its API key on one line
  --pbx-ca FILE           PEM CA to trust for the PBX (a self-signed or private certificate)
  --record-traffic FILE   append what the PBX sends (JSON lines, no token or secret) to check a site's shapes
  One API client serves ONE Callpop process: 3CX keeps one valid token per client.`;

export interface CallControlFlags {
  source?: string | undefined;
  pbx?: string | undefined;
  'client-id'?: string | undefined;
  'client-secret-file'?: string | undefined;
  'pbx-ca'?: string | undefined;
  'record-traffic'?: string | undefined;
}

export interface CallControlConfig {
  pbx: URL;
  clientId: string;
  clientSecret: string;
  ca?: Buffer;
  recordTraffic?: string;
}

const CLIENT_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** null when the source is the WebAPI (the default); a UsageError for anything inconsistent. */
export async function parseCallControlFlags(v: CallControlFlags): Promise<CallControlConfig | null> {
  const source = v.source ?? 'webapi';
  if (source !== 'webapi' && source !== 'call-control') throw new UsageError(`--source must be webapi or call-control, got "${source}".`);
  if (source === 'webapi') {
    const stray = (['pbx', 'client-id', 'client-secret-file', 'pbx-ca', 'record-traffic'] as const).find((k) => v[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --source call-control.`);
    return null;
  }
  if (!v.pbx) throw new UsageError('--source call-control needs --pbx URL (e.g. https://pbx.example.com).');
  let pbx: URL;
  try {
    pbx = parsePbxUrl(v.pbx);
  } catch (e) {
    if (e instanceof PbxUrlError) throw new UsageError(e.message);
    throw e;
  }
  const clientId = v['client-id']?.trim() ?? '';
  if (!CLIENT_ID_RE.test(clientId)) throw new UsageError('--source call-control needs --client-id ID (1 to 64 letters, digits, _ . -).');
  if (!v['client-secret-file']) throw new UsageError('--source call-control needs --client-secret-file FILE (a file holding the API key).');
  const clientSecret = (await readFlagFile('client-secret-file', v['client-secret-file'])).toString('utf8').replace(/\r?\n$/, '');
  if (clientSecret === '' || /[\r\n]/.test(clientSecret)) throw new UsageError('--client-secret-file must hold the API key on one line.');
  const ca = v['pbx-ca'] !== undefined ? await readFlagFile('pbx-ca', v['pbx-ca']) : undefined;
  return { pbx, clientId, clientSecret, ...(ca ? { ca } : {}), ...(v['record-traffic'] ? { recordTraffic: v['record-traffic'] } : {}) };
}

async function readFlagFile(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new UsageError(`--${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
