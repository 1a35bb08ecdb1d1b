// A bench child process (node + tsx running `script args…`, or plain node running a bundle) that
// reports by printing JSON lines on stdout; killed if it outlives its cap. Used by bench/hub.ts for its own children and by
// bench/hub-app-latency.ts for bench/hub.ts's.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface JsonChild {
  p: ChildProcess;
  /** The next JSON line the child prints (rejects if it exits first). */
  next(): Promise<Record<string, unknown>>;
  /** Closes its stdin (the child's cue to finish) and waits for it, killing it after 15 s. */
  stop(): Promise<void>;
}

export function startJsonChild(script: string, args: string[], opts: { capMs?: number; env?: NodeJS.ProcessEnv; bundled?: boolean } = {}): JsonChild {
  const p = spawn(process.execPath, [...(opts.bundled ? [] : ['--import', 'tsx']), script, ...args], { stdio: ['pipe', 'pipe', 'inherit'], ...(opts.env ? { env: opts.env } : {}) });
  const queue: Record<string, unknown>[] = [];
  const waiting: { ok: (v: Record<string, unknown>) => void; fail: (e: Error) => void }[] = [];
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const timer = setTimeout(() => p.kill('SIGKILL'), opts.capMs ?? 300_000);
  p.once('exit', (code) => {
    clearTimeout(timer);
    for (const w of waiting.splice(0)) w.fail(new Error(`bench child ${args[0]} exited ${code}`));
  });
  createInterface({ input: p.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const v = JSON.parse(line) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w.ok(v);
    else queue.push(v);
  });
  return {
    p,
    next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((ok, fail) => waiting.push({ ok, fail }))),
    async stop() {
      p.stdin?.end();
      const force = setTimeout(() => p.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(force);
    },
  };
}
