// `npm run bench`: runs every other bench/*.ts as its own process, one after another (so they do
// not compete for the CPU), forwarding their `name: value unit` lines. Each has a time cap.
//   npm run bench                  all
//   npm run bench -- webhooks      only bench/webhooks.ts (names may be given several times)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const capSec = Number(process.env.BENCH_TIMEOUT_SEC ?? 600);
const only = process.argv.slice(2).map((a) => a.replace(/\.ts$/, ''));

const benches = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== basename(fileURLToPath(import.meta.url)) && !f.endsWith('.d.ts'))
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.ts$/, '')))
  .sort();

function runOne(file: string): Promise<number | string> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(here, file)], { stdio: ['ignore', 'inherit', 'inherit'], cwd: join(here, '..') });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      resolve(`timed out after ${capSec} s`);
    }, capSec * 1000);
    p.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? `killed by ${signal}`);
    });
  });
}

let failed = 0;
if (benches.length === 0) console.error(`bench: nothing to run${only.length ? ` (no bench named ${only.join(', ')})` : ''}`);
for (const file of benches) {
  console.error(`# bench/${file}`);
  const result = await runOne(file);
  if (result !== 0) {
    failed++;
    console.error(`# bench/${file} failed: ${typeof result === 'number' ? `exit code ${result}` : result}`);
  }
}
process.exitCode = failed > 0 || benches.length === 0 ? 1 : 0;
