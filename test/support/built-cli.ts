// The BUILT `callpop` command as an administrator runs it: `node out/cli/callpop.mjs …` in a child
// process (run `npm run build` first; tests skip with that reason when the bundle is missing), with
// its own environment, optionally as another user (uid/gid, when the tests run as root). Two shapes:
//   const r = await callpop(['hub', 'agent', 'list', '--data-dir', dir]);   // runs to its exit
//   const hub = startCallpop(['hub', …]); await hub.waitFor(/Listening on (\S+)/); await hub.stop();
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '../..');
/** CALLPOP_BUILT_CLI runs the tests against another build (e.g. main's, to see them fail before a fix). */
export const builtCli = process.env.CALLPOP_BUILT_CLI ?? join(repoRoot, 'out/cli/callpop.mjs');
export const cliBuilt = existsSync(builtCli);

export interface CliRunOptions {
  env?: Record<string, string | undefined>;
  /** Run as this user (needs root). */
  uid?: number;
  gid?: number;
  cwd?: string;
  stdin?: string;
  /** Extra node flags before the script (e.g. `--import` of a preload). */
  nodeArgs?: string[];
  /** The program to run instead of `node out/cli/callpop.mjs` (e.g. an installed `callpop`). */
  command?: string[];
  /** Killed (SIGKILL) after this long: a bound, not an assertion. Default 30 s. */
  killAfterMs?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** A minimal environment: no HOME unless given, so nothing of the real user's leaks in. */
function environment(o: CliRunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' };
  for (const [k, v] of Object.entries(o.env ?? {})) if (v !== undefined) env[k] = v;
  return env;
}

function spawnCli(args: string[], o: CliRunOptions): ChildProcess {
  const [cmd, ...pre] = o.command ?? [process.execPath, ...(o.nodeArgs ?? []), builtCli];
  return spawn(cmd!, [...pre, ...args], {
    cwd: o.cwd ?? repoRoot,
    env: environment(o),
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(o.uid !== undefined && { uid: o.uid }),
    ...(o.gid !== undefined && { gid: o.gid }),
  });
}

/** Runs the CLI to its exit. */
export function callpop(args: string[], o: CliRunOptions = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const p = spawnCli(args, o);
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.stdin!.end(o.stdin ?? '');
    const timer = setTimeout(() => p.kill('SIGKILL'), o.killAfterMs ?? 30_000);
    p.on('error', fail);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, out, err });
    });
  });
}

export interface RunningCli {
  readonly child: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves with the first match of `re` in stdout (or stderr with `stream: 'err'`); rejects if the process exits first or after `ms`. */
  waitFor(re: RegExp, stream?: 'out' | 'err', ms?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  exited(): Promise<CliResult>;
  /** SIGTERM (SIGKILL after 10 s), then the result. Safe to call twice. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

/** Starts a long-running command (hub, serve); every test that starts one stops it. */
export function startCallpop(args: string[], o: CliRunOptions = {}): RunningCli {
  const p = spawnCli(args, o);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  p.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    poke();
  });
  p.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    poke();
  });
  if (o.stdin !== undefined) p.stdin!.end(o.stdin);
  const exit = new Promise<CliResult>((done) => p.on('close', (code, signal) => done({ code, signal, out, err })));
  void exit.then(poke);
  let done = false;
  void exit.then(() => (done = true));
  return {
    child: p,
    out: () => out,
    err: () => err,
    waitFor(re, stream = 'out', ms = 20_000) {
      return new Promise((resolveMatch, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re} in ${stream}\nstdout:\n${out}\nstderr:\n${err}`));
        }, ms);
        const check = (): void => {
          const m = (stream === 'out' ? out : err).match(re);
          if (m || done) {
            clearTimeout(timer);
            waiters.delete(check);
            if (m) resolveMatch(m);
            else reject(new Error(`exited (${p.exitCode ?? p.signalCode}) before ${re}\nstdout:\n${out}\nstderr:\n${err}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    exited: () => exit,
    async stop(signal = 'SIGTERM') {
      if (!done) {
        p.kill(signal);
        const force = setTimeout(() => p.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(force);
      }
      return exit;
    },
  };
}
