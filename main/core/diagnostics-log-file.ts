// A Logger that writes a rotating file: callpop.log, then callpop.1.log … callpop.4.log (5 MB
// each by default). Lines are "ISO-time LEVEL message". Unless debug logging is on, the sink masks
// phone numbers itself, as a safety net for call sites that forgot redactNumber. Never throws:
// a disk error is reported once on stderr and logging carries on (or silently stops).
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { maskPhoneNumbers } from '../../shared/diagnostics-log';
import type { Logger, LogLevel } from '../../shared/diagnostics-log';
import { PRODUCT_NAME } from '../../shared/app-id';

export interface DirInput {
  platform?: NodeJS.Platform;
  env?: Record<string, string | undefined>;
  homedir?: string;
}

/** The folder Electron's app.getPath('logs') gives, computed without Electron (CLI, service). */
export function defaultLogDir({ platform = process.platform, env = process.env, homedir = os.homedir() }: DirInput = {}): string {
  switch (platform) {
    case 'win32':
      return path.win32.join(env.APPDATA ?? path.win32.join(homedir, 'AppData', 'Roaming'), PRODUCT_NAME, 'logs');
    case 'darwin':
      return path.posix.join(homedir, 'Library', 'Logs', PRODUCT_NAME);
    default:
      return path.posix.join(env.XDG_CONFIG_HOME || path.posix.join(homedir, '.config'), PRODUCT_NAME, 'logs');
  }
}

// The masking lives in shared/log.ts (linear time); re-exported for existing callers.
export { maskPhoneNumbers };

/** No forged lines: control characters are escaped and continuation lines indented. */
function clean(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/\n/g, '\n    ');
}

export interface FileLoggerOptions {
  dir: string;
  /** Default "callpop.log"; give each process its own file (rotation is per process). */
  fileName?: string;
  maxBytes?: number;
  /** Files kept in total, the current one included. */
  maxFiles?: number;
  /** Debug lines are written, and numbers left unmasked, only while this is on. */
  debug?: boolean;
  now?: () => Date;
  /** Where the one disk-error notice goes; default process.stderr. */
  reportError?: (message: string) => void;
}

export interface FileLogger extends Logger {
  readonly file: string;
  setDebug(on: boolean): void;
  close(): void;
}

const LEVEL_TAG: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' };

export function createFileLogger(options: FileLoggerOptions): FileLogger {
  const { dir, fileName = 'callpop.log', maxBytes = 5 * 1024 * 1024, maxFiles = 5, now = () => new Date() } = options;
  const reportError = options.reportError ?? ((m: string) => process.stderr.write(`${m}\n`));
  const file = path.join(dir, fileName);
  const ext = path.extname(fileName);
  const stem = fileName.slice(0, fileName.length - ext.length);
  const rotated = (n: number): string => path.join(dir, `${stem}.${n}${ext}`);
  let debug = options.debug ?? false;
  let fd: number | null = null;
  let size = 0;
  let reported = false;
  let closed = false;

  const fail = (what: string, e: unknown): void => {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        /* already broken */
      }
      fd = null;
    }
    if (!reported) {
      reported = true;
      reportError(`Callpop: cannot ${what} log file ${file}: ${(e as Error).message}`);
    }
  };

  const open = (): boolean => {
    if (fd !== null) return true;
    try {
      mkdirSync(dir, { recursive: true });
      fd = openSync(file, 'a');
      size = fstatSync(fd).size;
      return true;
    } catch (e) {
      fail('open', e);
      return false;
    }
  };

  const rotate = (): void => {
    if (fd !== null) closeSync(fd);
    fd = null;
    rmSync(rotated(maxFiles - 1), { force: true });
    for (let n = maxFiles - 2; n >= 1; n--) {
      try {
        renameSync(rotated(n), rotated(n + 1));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    if (maxFiles > 1) renameSync(file, rotated(1));
    else rmSync(file, { force: true });
  };

  const write = (level: LogLevel, message: string): void => {
    if (closed || (level === 'debug' && !debug)) return;
    try {
      const text = clean(debug ? String(message) : maskPhoneNumbers(String(message)));
      const line = Buffer.from(`${now().toISOString()} ${LEVEL_TAG[level]} ${text}\n`, 'utf8');
      if (!open()) return;
      if (size > 0 && size + line.length > maxBytes) {
        try {
          rotate();
        } catch (e) {
          fail('rotate', e);
        }
        if (!open()) return;
      }
      writeSync(fd!, line);
      size += line.length;
    } catch (e) {
      fail('write', e);
    }
  };

  return {
    file,
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    setDebug(on) {
      debug = on;
    },
    close() {
      closed = true;
      if (fd !== null) {
        try {
          closeSync(fd);
        } catch {
          /* nothing to do */
        }
        fd = null;
      }
    },
  };
}
