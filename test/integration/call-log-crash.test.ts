// kill -9 a process that is writing the call log, several times: every acknowledged write survives,
// nothing earlier is damaged, and the log reopens cleanly each time.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRecordSchema } from '../../shared/call-record';
import type { Logger } from '../../shared/diagnostics-log';
import { openCallLogStore } from '../../main/core/call-log/store';

const writer = join(import.meta.dirname, 'fixtures', 'call-log-writer.ts');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-log-crash-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the writer until `runMs` after it is ready, kills it with SIGKILL, returns id → highest acknowledged version. */
async function writeAndKill(round: number, runMs: number): Promise<{ acked: Map<string, number>; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(round)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked = new Map<string, number>();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let killTimer: NodeJS.Timeout | undefined;
  const startupTimer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'ready') {
      clearTimeout(startupTimer);
      killTimer = setTimeout(() => child.kill('SIGKILL'), runMs);
      continue;
    }
    const [, id, version] = line.split(' ');
    acked.set(id!, Math.max(acked.get(id!) ?? -1, Number(version)));
  }
  clearTimeout(startupTimer);
  clearTimeout(killTimer);
  expect(await exited, `writer should be killed, not exit by itself: ${stderr}`).toBe('SIGKILL');
  return { acked, stderr };
}

describe('call log under kill -9', () => {
  it('keeps every acknowledged write and reopens cleanly', async () => {
    const everAcked = new Map<string, number>();
    for (let round = 1; round <= 3; round++) {
      const { acked, stderr } = await writeAndKill(round, 400 + round * 300);
      // (The writer's stderr says whether a compaction ran mid-stream: with this load it usually does by round 2.)
      expect(acked.size, `round ${round} wrote something; writer said: ${stderr}`).toBeGreaterThan(10);
      for (const [id, v] of acked) everAcked.set(id, Math.max(everAcked.get(id) ?? -1, v));

      const warnings: string[] = [];
      const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
      // Opening as the writer also takes over the dead writer's lock and cuts off a torn tail.
      const store = await openCallLogStore(dir, { defaultCountry: 'TR', logger });
      try {
        expect(warnings.filter((w) => !/incomplete last line|compacted/.test(w))).toEqual([]);
        for (const [id, version] of everAcked) {
          const r = store.get(id);
          expect(r, `acknowledged ${id} missing after round ${round}`).toBeDefined();
          expect(callRecordSchema.parse(r).durationSec!).toBeGreaterThanOrEqual(version);
          if (version > 0) expect(r!.recordings[0]).toBe(`https://pbx.example.com/recordings/${id}-${r!.durationSec}.mp3`);
        }
      } finally {
        await store.close();
      }
    }
  }, 60_000);
});

describe('call log when the disk refuses a write', () => {
  // `ulimit -f` makes writes past the limit fail (EFBIG), like a full disk, without needing one.
  it.skipIf(process.platform === 'win32')('rejects the put, leaves no partial line, and keeps everything acknowledged', async () => {
    const fillDir = await mkdtemp(join(tmpdir(), 'callpop-log-full-'));
    try {
      const cmd = `ulimit -f 64 && exec "${process.execPath}" --import tsx "${writer}" "${fillDir}" 1 fill`;
      const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const acked: string[] = [];
      const errors: string[] = [];
      for await (const line of createInterface({ input: child.stdout })) {
        if (line.startsWith('ack ')) acked.push(line.split(' ')[1]!);
        else if (line.startsWith('error')) errors.push(line.slice(line.indexOf(' ') + 1));
      }
      clearTimeout(timer);
      expect(errors, stderr).toEqual([
        `Cannot write the call log in ${fillDir}: file too large (file size limit reached)`,
        `Cannot write the call log in ${fillDir}: file too large (file size limit reached)`,
      ]);
      expect(acked.length).toBeGreaterThan(10);

      const warnings: string[] = [];
      const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
      const store = await openCallLogStore(fillDir, { defaultCountry: 'TR', logger });
      try {
        expect(warnings).toEqual([]);
        expect(store.size).toBe(acked.length);
        for (const id of acked) expect(store.get(id)?.id).toBe(id);
      } finally {
        await store.close();
      }
    } finally {
      await rm(fillDir, { recursive: true, force: true });
    }
  }, 60_000);
});
