// The logging interface every layer writes to. The app writes a rotating file (main/core/log-file.ts);
// tests and the CLI may use the console. Phone numbers go through `redactNumber` unless debug is on,
// and the file sink masks what call sites forgot with `maskPhoneNumbers`.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** "05551239988" → "055…88": enough to tell calls apart in a support log, not enough to dial. */
export function redactNumber(number: string, debug = false): string {
  if (debug || number.length <= 4) return number;
  return `${number.slice(0, 3)}…${number.slice(-2)}`;
}

// 3CX call ids (230307114903_10-0), UUIDs and ISO dates/times are kept; other runs of 6+ digits,
// with an optional + and single spaces or dashes between groups, are phone numbers. A run glued to
// letters or dots (hex ids, IP addresses, versions) is not a phone number.
// Linear time: every alternative that scans an unbounded digit run may only start where a run
// starts ((?<!\d), (?<![\w.+])), so a failed attempt is never retried from inside the same run
// (without it a 70 KB digit run followed by a letter took seconds: one full scan per position).
const SENSITIVE =
  /((?<!\d)\d{6,}_\d+(?:-\d+)*|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)|(?<![\w.+])(\+?\d(?:[ -]?\d){5,})(?![\w.])/gi;

/** Every phone number in free text through `redactNumber`; ids, UUIDs and dates stay readable. */
export function maskPhoneNumbers(text: string): string {
  return text.replace(SENSITIVE, (whole, keep?: string, phone?: string) => (phone ? redactNumber(phone) : (keep ?? whole)));
}
