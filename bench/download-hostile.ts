// How responsive the process stays while a download runs against a hostile or a fast PBX (the
// server is a separate process, so it does not share our event loop). A loopback HTTP server in
// this process stands for the webhook listener; it is asked every 20 ms and the slowest answer
// is reported.
//   download-probe-latency-max-idle        no download running: the baseline
//   download-probe-latency-max-1xx-flood   a PBX sending "100 Continue" as fast as it can, until the download gives up
//   download-1xx-flood-time-to-fail        how long that download took to fail (3 tries, 10 ms backoff)
//   download-probe-latency-max-fast        a 200 MB recording at loopback speed
// Run: node --import tsx bench/download-hostile.ts
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { downloadRecording } from '../main/core/download/downloader';

const serverScript = `
const net = require('node:net');
const flood = Buffer.from('HTTP/1.1 100 Continue\\r\\n\\r\\n'.repeat(2600));
const body = Buffer.alloc(1024 * 1024, 7);
const total = 200;
net.createServer((sock) => {
  sock.on('error', () => {});
  let head = '';
  sock.on('data', (d) => {
    if (head.includes('\\r\\n\\r\\n')) return;
    head += d.toString('latin1');
    if (!head.includes('\\r\\n\\r\\n')) return;
    if (head.startsWith('GET /flood')) {
      const pump = () => { while (!sock.destroyed && sock.write(flood)); };
      sock.on('drain', pump);
      pump();
    } else {
      sock.write('HTTP/1.1 200 OK\\r\\nContent-Type: audio/mpeg\\r\\nContent-Length: ' + total * body.length + '\\r\\n\\r\\n');
      let sent = 0;
      const pump = () => { while (!sock.destroyed && sent < total) { sent++; if (!sock.write(body)) return; } if (sent >= total) sock.end(); };
      sock.on('drain', pump);
      pump();
    }
  });
}).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });
`;

async function probeWhile(work: () => Promise<unknown>): Promise<number> {
  const probe = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/`;
  await fetch(url).then((r) => r.text()); // warm-up: the first fetch sets up the HTTP client
  let done = false;
  let worst = 0;
  const prober = (async () => {
    while (!done) {
      const t = performance.now();
      await fetch(url).then((r) => r.text());
      worst = Math.max(worst, performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    await work();
  } finally {
    done = true;
    await prober;
    await new Promise((r) => probe.close(r));
  }
  return worst;
}

const child = spawn(process.execPath, ['-e', serverScript], { stdio: ['ignore', 'pipe', 'inherit'] });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callpop-bench-hostile-'));
try {
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const pbxHost = `127.0.0.1:${port}`;
  const opts = { pbxHost, destDir: dir, fileName: 'a.mp3', retryDelayMs: 10 };

  console.log(`download-probe-latency-max-idle: ${(await probeWhile(() => new Promise((r) => setTimeout(r, 1000)))).toFixed(1)} ms`);

  let failMs = 0;
  const floodWorst = await probeWhile(async () => {
    const t = performance.now();
    await downloadRecording(`http://${pbxHost}/flood.mp3`, opts).then(
      () => {
        throw new Error('the flood download succeeded');
      },
      () => undefined,
    );
    failMs = performance.now() - t;
  });
  console.log(`download-probe-latency-max-1xx-flood: ${floodWorst.toFixed(1)} ms`);
  console.log(`download-1xx-flood-time-to-fail: ${failMs.toFixed(0)} ms`);

  const fastWorst = await probeWhile(async () => {
    const r = await downloadRecording(`http://${pbxHost}/rec.mp3`, opts);
    fs.rmSync(r.path);
  });
  console.log(`download-probe-latency-max-fast: ${fastWorst.toFixed(1)} ms`);
} finally {
  child.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
