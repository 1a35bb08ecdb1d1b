// Call log figures at 100k records (issue 2 §5): open, search by number/date/result, append latency.
// Run: node --import tsx bench/call-log.ts
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CallRecord, CallResult } from '../shared/call-record';
import { openCallLogStore } from '../main/core/call-log/store';

const recordCount = 100_000;
const distinctNumbers = 30_000;
const results: CallResult[] = ['answered', 'missed', 'answered-elsewhere'];

function record(i: number, base: number): CallRecord {
  const started = new Date(base - i * 5 * 60_000);
  const n = (i * 7919) % distinctNumbers;
  const local = `555${String(1_000_000 + n).slice(1)}`.padEnd(10, '0');
  const forms = [`0${local}`, `+90 ${local.slice(0, 3)} ${local.slice(3, 6)} ${local.slice(6)}`, `0090${local}`, String(200 + (n % 100))];
  const result = results[i % 3]!;
  const answered = result === 'answered' ? new Date(started.getTime() + 5_000).toISOString() : null;
  return {
    id: `${started.toISOString().replace(/\D/g, '').slice(2, 14)}_${i}`,
    direction: i % 4 === 0 ? 'outgoing' : 'incoming',
    status: 'ended',
    result,
    number: forms[i % forms.length]!,
    extension: '202',
    queue: i % 5 === 0 ? '820' : null,
    did: null,
    startedAt: started.toISOString(),
    answeredAt: answered,
    endedAt: new Date(started.getTime() + 60_000).toISOString(),
    durationSec: answered ? 55 : null,
    transferType: null,
    transferredTo: null,
    transferredFrom: null,
    answeredBy: null,
    recordings: answered ? [`https://pbx.example.com/recordings/202/${i}.mp3`] : [],
    seen: i % 7 !== 0,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const ms = (x: number): string => x.toFixed(1);

function time(fn: () => unknown, runs = 7): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

export async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-log-'));
  try {
    const base = Date.parse('2026-11-24T12:00:00Z');
    const writer = await openCallLogStore(dir, { defaultCountry: 'TR' });
    for (let i = 0; i < recordCount; i += 1000) {
      const batch: CallRecord[] = [];
      for (let j = i; j < i + 1000; j++) batch.push(record(j, base));
      await writer.put(batch);
    }
    await writer.close();
    const bytes = (await stat(join(dir, 'calls.jsonl'))).size;

    // Wall time, and CPU time of this process (a fairer figure when other work shares the machine).
    const opens: number[] = [];
    const openCpu: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const cpu = process.cpuUsage();
      const s = await openCallLogStore(dir, { defaultCountry: 'TR' });
      opens.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      openCpu.push((used.user + used.system) / 1000);
      await s.close();
    }

    // RSS of a fresh process holding the open 100k log (as the app's utility process does all day).
    const rssLine = execFileSync(process.execPath, ['--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), '--rss', dir], { encoding: 'utf8' });

    const store = await openCallLogStore(dir, { defaultCountry: 'TR' });
    const page = { offset: 0, limit: 100 };
    let found = 0;
    // The number index is built in the background just after open (a search before that builds it).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const first = time(() => store.query({ text: '0555 999 88' }, page), 1);
    const number = time(() => (found = store.query({ text: '0555 012 34' }, page).total));
    if (found === 0) throw new Error('number search found nothing');
    const date = time(() => (found = store.query({ from: '2026-10-01', to: '2026-10-31' }, page).total));
    if (found === 0) throw new Error('date search found nothing');
    const result = time(() => (found = store.query({ result: 'missed' }, page).total));
    if (found === 0) throw new Error('result search found nothing');
    // The log view's first page of the whole log, as it asks since issue #20 (missed calls from one number
    // on one day are one row) and without that: the grouping's cost.
    const whole = time(() => (found = store.query({}, page).total));
    const grouped = time(() => (found = store.query({}, page, { groupMissed: true }).total));
    if (found === 0) throw new Error('grouped page found nothing');

    const appends: number[] = [];
    for (let i = 0; i < 500; i++) {
      const r = record(recordCount + i, base + 86_400_000 * 2);
      const t = performance.now();
      await store.put([r]);
      appends.push(performance.now() - t);
    }
    await store.close();

    // The floor under append latency: a bare append + fdatasync of one line on the same disk, same run.
    const raw: number[] = [];
    const fh = await open(join(dir, 'raw.bin'), 'a');
    const line = Buffer.alloc(300, 0x61);
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      await fh.write(line);
      await fh.datasync();
      raw.push(performance.now() - t);
    }
    await fh.close();

    console.log(`call-log-file-100k: ${(bytes / 1e6).toFixed(1)} MB`);
    process.stdout.write(rssLine);
    console.log(`call-log-open-100k: ${ms(median(opens))} ms`);
    console.log(`call-log-open-100k-cpu: ${ms(median(openCpu))} ms`);
    console.log(`call-log-search-number-100k: ${ms(number)} ms`);
    console.log(`call-log-search-number-first-100k: ${ms(first)} ms`);
    console.log(`call-log-search-date-100k: ${ms(date)} ms`);
    console.log(`call-log-search-result-100k: ${ms(result)} ms`);
    console.log(`call-log-page-100k: ${ms(whole)} ms`);
    console.log(`call-log-page-grouped-100k: ${ms(grouped)} ms`);
    console.log(`call-log-append-p99: ${ms(percentile(appends, 99))} ms`);
    console.log(`call-log-append-p50: ${ms(percentile(appends, 50))} ms`);
    console.log(`call-log-raw-fdatasync-p99: ${ms(percentile(raw, 99))} ms`);
    console.log(`call-log-raw-fdatasync-p50: ${ms(percentile(raw, 50))} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Child mode: open the log in `dir`, let the number index build, and print the resident memory. */
async function rss(dir: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  gc();
  const before = process.memoryUsage();
  const store = await openCallLogStore(dir, { defaultCountry: 'TR' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  store.query({ text: '0555 012 34' }, { offset: 0, limit: 100 });
  gc();
  const after = process.memoryUsage();
  console.log(`call-log-rss-100k: ${(after.rss / 1e6).toFixed(0)} MB`);
  // What the open log itself keeps alive (the RSS above also holds Node, tsx and V8's spare heap).
  console.log(`call-log-heap-100k: ${((after.heapUsed - before.heapUsed) / 1e6).toFixed(0)} MB`);
  await store.close();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--rss') await rss(process.argv[3] ?? '');
  else await main();
}
