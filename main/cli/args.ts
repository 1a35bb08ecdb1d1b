// Shared command-line plumbing: node:util parseArgs with one-line errors, and the I/O seam tests use.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { buildAllowList } from '../core/listener/listener';

/** Bad flags or values: printed as one line on stderr, exit code 2. */
export class UsageError extends Error {}

/** A problem outside the command line (a file this user cannot read, a certificate): one line, exit 1, no usage. */
export class CliError extends Error {}

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Aborted on SIGINT/SIGTERM (serve stops, download cancels). */
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<O extends Options>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]?.replace(/\. To specify a positional argument.*$/, '.') ?? 'Bad arguments.');
  }
}

export function parsePort(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new UsageError(`--port must be a number from 0 to 65535, got "${value}".`);
  return Number(value);
}

export function parseExtension(value: string): string {
  if (!/^\d{1,10}$/.test(value)) throw new UsageError(`--extension must be 1 to 10 digits, e.g. 117; got "${value}".`);
  return value;
}

/** --allow a,b,c: the PBX addresses the webhook listener accepts (checked as the listener will read them). */
export function parseAllowFlag(value: string | undefined): string[] | undefined {
  const allow = value !== undefined ? value.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  if (allow) {
    try {
      buildAllowList(allow);
    } catch (e) {
      throw new UsageError(`--allow: ${(e as Error).message}`);
    }
  }
  return allow;
}

/** Untrusted text (numbers, names from webhooks) made safe for a terminal: no escape sequences. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
}
