// `callpop download URL [--to DIR] [--pbx HOST] [--fingerprint SHA256] [--user U --password-env VAR [--allow-http-credentials]]`
// The same downloader and rules as the app. --pbx defaults to the URL's own host: the user typed
// the URL here, so it is not webhook input. Exit 0 only when the file is complete, 1 when the
// download failed or was refused, 2 on bad flags (the error line, then the usage, on stderr), 130
// when interrupted.
import path from 'node:path';
import { fingerprintPattern, hostPattern } from '../../shared/settings';
import { downloadRecording } from '../core/download/downloader';
import type { ByteProgress, DownloadRecordingOptions } from '../core/download/downloader';
import { DownloadError } from '../core/download/errors';
import { sanitizeFileName } from '../../shared/recording-file-name';
import { parseFlags, UsageError } from './args';

export interface DownloadCommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Where --password-env is read; default process.env. */
  env?: Record<string, string | undefined>;
  /** Show live progress on stderr; default: stderr is a TTY. */
  progress?: boolean;
  /** Cancels the download; default: Ctrl-C (SIGINT) does. */
  signal?: AbortSignal;
  /** Downloader tuning for tests. */
  tuning?: Pick<DownloadRecordingOptions, 'maxTries' | 'retryDelayMs' | 'idleTimeoutMs' | 'headTimeoutMs' | 'minBytesPerSec' | 'rateWindowMs'>;
}

export const downloadUsage =
  'Usage: callpop download URL [--to DIR] [--pbx HOST[:PORT]] [--fingerprint SHA256] [--user USER --password-env VAR [--allow-http-credentials]]';

interface Parsed {
  url: URL;
  dir: string;
  pbx: string;
  fingerprint: string;
  credentials: { username: string; password: string } | null;
  allowHttpCredentials: boolean;
}

function parse(argv: string[], env: Record<string, string | undefined>): Parsed {
  const { values, positionals } = parseFlags(
    argv,
    {
      to: { type: 'string' },
      pbx: { type: 'string' },
      fingerprint: { type: 'string' },
      user: { type: 'string' },
      'password-env': { type: 'string' },
      'allow-http-credentials': { type: 'boolean' },
    },
    true,
  );
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'Give the recording URL.' : 'Give exactly one recording URL.');
  let url: URL;
  try {
    url = new URL(positionals[0] as string);
  } catch {
    throw new UsageError(`Not a URL: ${(positionals[0] as string).slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('The URL must start with http:// or https://.');
  const pbx = (values.pbx ?? url.host).trim();
  if (!hostPattern.test(pbx)) throw new UsageError(`--pbx must be a host name with an optional :port, not "${pbx.slice(0, 100)}".`);
  const fingerprint = (values.fingerprint ?? '').trim();
  if (fingerprint !== '' && !fingerprintPattern.test(fingerprint)) throw new UsageError('--fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons optional.');
  if ((values.user === undefined) !== (values['password-env'] === undefined)) throw new UsageError('--user and --password-env go together.');
  if (values['allow-http-credentials'] && values.user === undefined) throw new UsageError('--allow-http-credentials goes with --user.');
  let credentials: Parsed['credentials'] = null;
  if (values.user !== undefined && values['password-env'] !== undefined) {
    const password = env[values['password-env']];
    if (password === undefined) throw new UsageError(`The environment variable ${values['password-env']} (--password-env) is not set.`);
    credentials = { username: values.user, password };
  }
  if (values.to !== undefined && values.to.trim() === '') throw new UsageError('--to needs a folder.');
  return { url, dir: path.resolve(values.to ?? '.'), pbx, fingerprint, credentials, allowHttpCredentials: values['allow-http-credentials'] === true };
}

/** The last path segment of the URL, made safe; the CLI has no call record to name the file after. */
function fileNameFromUrl(url: URL): string {
  const last = url.pathname.split('/').filter(Boolean).pop() ?? '';
  let decoded = last;
  try {
    decoded = decodeURIComponent(last);
  } catch {
    // keep it encoded
  }
  const name = sanitizeFileName(decoded, 'recording.mp3');
  return /\.[A-Za-z0-9]{1,5}$/.test(name) ? name : `${name}.mp3`;
}

const mb = (n: number): string => `${(n / 1024 ** 2).toFixed(1)} MB`;

export async function runDownloadCommand(argv: string[], io: DownloadCommandIo): Promise<number> {
  let args: Parsed;
  try {
    args = parse(argv, io.env ?? process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`callpop download: ${err.message}\n${downloadUsage}\n`);
      return 2;
    }
    throw err;
  }

  const showProgress = io.progress ?? Boolean(process.stderr.isTTY);
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  if (io.signal) io.signal.addEventListener('abort', onSigint, { once: true });
  else process.once('SIGINT', onSigint);
  let progressShown = false;
  try {
    const result = await downloadRecording(args.url.href, {
      ...io.tuning,
      pbxHost: args.pbx,
      fingerprint: args.fingerprint,
      destDir: args.dir,
      fileName: fileNameFromUrl(args.url),
      credentials: args.credentials,
      allowHttpCredentials: args.allowHttpCredentials,
      signal: controller.signal,
      onProgress: showProgress
        ? (p: ByteProgress) => {
            progressShown = true;
            const pct = p.totalBytes ? ` (${Math.floor((100 * p.receivedBytes) / p.totalBytes)}%)` : '';
            io.stderr(`\r${mb(p.receivedBytes)}${p.totalBytes ? ` of ${mb(p.totalBytes)}` : ''}${pct}   `);
          }
        : undefined,
    });
    if (progressShown) io.stderr('\n');
    io.stdout(`${result.path}\n`);
    return 0;
  } catch (err) {
    if (progressShown) io.stderr('\n');
    const canceled = err instanceof DownloadError && err.code === 'canceled';
    io.stderr(`callpop download: ${err instanceof Error ? err.message : String(err)}\n`);
    return canceled ? 130 : 1;
  } finally {
    if (io.signal) io.signal.removeEventListener('abort', onSigint);
    else process.removeListener('SIGINT', onSigint);
  }
}
