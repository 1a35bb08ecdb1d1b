// The logging interface every layer writes to. The app writes a rotating file (main/core/log-file.ts);
// tests and the CLI may use the console. Phone numbers go through `redactNumber` unless debug is on.
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
