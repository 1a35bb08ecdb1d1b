// Password checks (scrypt) for the embedded broker's logins, on a worker thread of their own.
//
// Why not crypto.scrypt: it runs on libuv's shared thread pool (4 threads), the same pool that runs
// the hub log's fdatasync, and a webhook is acknowledged only after its fsync. A flood of wrong
// passwords (~60 ms of scrypt each) filled the pool and held webhook acknowledgements for 7-14 s
// (measured: p99 13.7 s at 100 wrong CONNECTs/s). Here scryptSync runs on one dedicated thread, so the
// disk path never queues behind a password check; the queue in front of it is bounded (the caller
// refuses logins beyond it with "server unavailable").
//
// The worker's code is a string (eval), so it works the same from the sources (tsx, tests) and from
// the bundled CLI, with no second file to ship.
import { Worker } from 'node:worker_threads';

const workerSource = `
const { parentPort } = require('node:worker_threads');
const { scryptSync, timingSafeEqual } = require('node:crypto');
parentPort.on('message', (m) => {
  let ok = false;
  try {
    const expected = Buffer.from(m.expected, 'base64');
    const got = scryptSync(m.password, Buffer.from(m.salt, 'base64'), expected.length, { N: m.N, r: m.r, p: m.p, maxmem: 256 * m.N * m.r + 1024 * 1024 });
    ok = got.length === expected.length && timingSafeEqual(got, expected);
  } catch {
    ok = false;
  }
  parentPort.postMessage({ id: m.id, ok });
});
`;

const scryptHashPattern = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

export class PasswordChecker {
  private worker: Worker | null = null;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (ok: boolean) => void; reject: (e: Error) => void }>();
  private closed = false;

  /** Checks waiting or running. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Whether `password` matches the stored scrypt hash (false for a malformed or absurdly costly one). */
  verify(password: string | Buffer, stored: string): Promise<boolean> {
    const m = scryptHashPattern.exec(stored);
    if (!m) return Promise.resolve(false);
    const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    // Bounded: a hand-edited file must not make each connect allocate gigabytes.
    if (N > 1 << 20 || r > 32 || p > 16) return Promise.resolve(false);
    if (this.closed) return Promise.reject(new Error('password checker closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.start().postMessage({ id, password: Buffer.from(password).toString('utf8'), salt: m[4], expected: m[5], N, r, p });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.failAll(new Error('password checker closed'));
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(workerSource, { eval: true });
    // Never keeps the hub's process alive by itself.
    w.unref();
    w.on('message', (m: { id: number; ok: boolean }) => {
      const entry = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      entry?.resolve(m.ok);
    });
    const lost = (e: Error): void => {
      if (this.worker !== w) return;
      this.worker = null;
      // Started again by the next check.
      this.failAll(e);
    };
    w.on('error', lost);
    w.on('exit', (code) => lost(new Error(`password worker exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const entry of all) entry.reject(e);
  }
}
