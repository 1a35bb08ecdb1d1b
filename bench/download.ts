// Recording download benchmarks, on loopback, against one file server in a separate process:
//   download-throughput-ratio  our downloader vs curl, same 200 MB file, same run (target >= 0.8),
//                              like for like: both until the file is on disk (curl, then fsync of
//                              its file; ours fsyncs before the rename so a crash never leaves a
//                              partial recording, in 16 MiB steps during the download).
//   download-throughput-ratio-vs-curl-cache  ours vs plain curl, whose file may still be only in the
//                              page cache when it exits
//   download-throughput        our downloader, MB/s (best of 5)
//   download-throughput-ratio-node-http  a bare Node http.get that discards the body, vs curl:
//                              a baseline (our client reads into reused buffers instead)
//   download-rss-growth        a 500 MB download in a child process: max RSS during - RSS before (target <= 30 MB)
//   download-rss-growth-node-http  the same for a bare http.get that discards the body: a baseline
//                              (a fresh 64 KiB Buffer per socket read, freed only by the GC)
// Run: node --import tsx bench/download.ts
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { downloadRecording } from '../main/core/download/downloader';

const MB = 1024 * 1024;
const runs = 5;

/** A plain file server (own process, so client and server do not share an event loop). */
const serverScript = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const root = process.argv[1];
const server = http.createServer((req, res) => {
  const file = path.join(root, path.basename(req.url));
  fs.stat(file, (err, st) => {
    if (err) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': 'audio/mpeg', 'Content-Length': st.size, 'Accept-Ranges': 'bytes' });
    fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

async function startFileServer(root: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', serverScript, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(Number(buf.trim()));
    });
    child.once('exit', (code) => reject(new Error(`file server exited (${code})`)));
  });
  return { port, child };
}

/** `mb` MiB of incompressible data, written in 8 MiB random blocks (repeated, so creation is quick). */
function makeFile(file: string, mb: number): void {
  const block = randomBytes(8 * MB);
  const fd = fs.openSync(file, 'w');
  try {
    for (let written = 0; written < mb * MB; written += block.length) {
      fs.writeSync(fd, block, 0, Math.min(block.length, mb * MB - written));
    }
  } finally {
    fs.closeSync(fd);
  }
}

function hasCurl(): boolean {
  return spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** curl's time to exit, and to exit plus an fsync of its file (the durability our downloader gives). */
async function timeCurl(url: string, dest: string): Promise<{ exit: number; durable: number }> {
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const c = spawn('curl', ['--silent', '--fail', '--noproxy', '*', '--output', dest, url], { stdio: 'ignore' });
    c.once('exit', resolve);
  });
  const exit = performance.now() - t0;
  if (code !== 0) throw new Error(`curl failed (${code})`);
  const fd = fs.openSync(dest, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const durable = performance.now() - t0;
  fs.rmSync(dest, { force: true });
  return { exit, durable };
}

async function timeOurs(url: string, host: string, destDir: string): Promise<number> {
  const t0 = performance.now();
  const r = await downloadRecording(url, { pbxHost: host, destDir, fileName: 'ours.mp3' });
  const ms = performance.now() - t0;
  fs.rmSync(r.path, { force: true });
  return ms;
}

async function timeBareHttp(url: string): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    http.get(url, { agent: new http.Agent() }, (res) => {
      res.on('data', () => undefined);
      res.on('end', resolve);
      res.on('error', reject);
    }).on('error', reject);
  });
  return performance.now() - t0;
}

/** Child-process side of download-rss-growth: prints {"before":bytes,"max":bytes}. */
async function rssChild(mode: string, url: string, host: string, destDir: string): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const before = process.memoryUsage.rss();
  let max = before;
  const timer = setInterval(() => {
    max = Math.max(max, process.memoryUsage.rss());
  }, 10);
  if (mode === 'baseline') {
    await new Promise<void>((resolve, reject) => {
      http.get(url, { agent: new http.Agent() }, (res) => {
        res.on('data', () => undefined);
        res.on('end', resolve);
        res.on('error', reject);
      }).on('error', reject);
    });
  } else {
    const r = await downloadRecording(url, { pbxHost: host, destDir, fileName: 'rss.mp3' });
    fs.rmSync(r.path, { force: true });
  }
  clearInterval(timer);
  max = Math.max(max, process.memoryUsage.rss());
  process.stdout.write(`${JSON.stringify({ before, max })}\n`);
}

async function measureRss(mode: 'ours' | 'baseline', url: string, host: string, destDir: string): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const out = await new Promise<string>((resolve, reject) => {
    const c = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--rss-child', mode, url, host, destDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: path.resolve(path.dirname(self), '..'),
    });
    let buf = '';
    c.stdout?.on('data', (d: Buffer) => (buf += d.toString()));
    c.once('exit', (code) => (code === 0 ? resolve(buf) : reject(new Error(`rss child exited (${code})`))));
  });
  const { before, max } = JSON.parse(out.trim().split('\n').pop() as string) as { before: number; max: number };
  return (max - before) / MB;
}

export async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'callpop-bench-dl-'));
  const dest = path.join(root, 'out');
  fs.mkdirSync(dest);
  let server: ChildProcess | null = null;
  try {
    makeFile(path.join(root, 'rec200.mp3'), 200);
    const srv = await startFileServer(root);
    server = srv.child;
    const host = `127.0.0.1:${srv.port}`;
    const url200 = `http://${host}/rec200.mp3`;

    const ours: number[] = [];
    const curl: number[] = [];
    const curlDurable: number[] = [];
    const bare: number[] = [];
    const curlPresent = hasCurl();
    await timeOurs(url200, host, dest); // warm-up: page cache, JIT
    for (let i = 0; i < runs; i++) {
      if (curlPresent) {
        const c = await timeCurl(url200, path.join(dest, 'curl.mp3'));
        curl.push(c.exit);
        curlDurable.push(c.durable);
      }
      ours.push(await timeOurs(url200, host, dest));
      bare.push(await timeBareHttp(url200));
    }
    const oursMBs = 200 / (Math.min(...ours) / 1000);
    if (curlPresent) {
      const curlMBs = 200 / (Math.min(...curl) / 1000);
      const curlDurableMBs = 200 / (Math.min(...curlDurable) / 1000);
      console.log(`download-throughput-ratio: ${(oursMBs / curlDurableMBs).toFixed(2)} ratio`);
      console.log(`download-throughput-ratio-vs-curl-cache: ${(oursMBs / curlMBs).toFixed(2)} ratio`);
      console.log(`download-throughput-ratio-node-http: ${(Math.min(...curl) / Math.min(...bare)).toFixed(2)} ratio`);
    } else {
      console.log('download-throughput-ratio: skipped (curl missing)');
      console.log('download-throughput-ratio-vs-curl-cache: skipped (curl missing)');
      console.log('download-throughput-ratio-node-http: skipped (curl missing)');
    }
    console.log(`download-throughput: ${Math.round(oursMBs)} MB/s`);

    fs.rmSync(path.join(root, 'rec200.mp3'));
    makeFile(path.join(root, 'rec500.mp3'), 500);
    const growth = await measureRss('ours', `http://${host}/rec500.mp3`, host, dest);
    console.log(`download-rss-growth: ${growth.toFixed(1)} MB`);
    const floor = await measureRss('baseline', `http://${host}/rec500.mp3`, host, dest);
    console.log(`download-rss-growth-node-http: ${floor.toFixed(1)} MB`);
  } finally {
    server?.kill();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const i = process.argv.indexOf('--rss-child');
  if (i >= 0) {
    const [mode, url, host, destDir] = process.argv.slice(i + 1);
    await rssChild(mode as string, url as string, host as string, destDir as string);
  } else {
    await main();
  }
}
