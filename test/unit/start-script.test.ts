// `npm start` (scripts/start.mjs): the Node check and the Electron-binary check, and the one clear
// paragraph instead of electron-vite's "Electron uninstall" where the app cannot start.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { electronBinaryPresent, nodeMeets } from '../../scripts/start.mjs';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('npm start', () => {
  it('knows which Node versions can run the desktop tooling', () => {
    expect(nodeMeets('v20.20.2')).toBe(false);
    expect(nodeMeets('v22.11.0')).toBe(false);
    expect(nodeMeets('v22.12.0')).toBe(true);
    expect(nodeMeets('v24.1.0')).toBe(true);
  });

  it('sees the Electron binary only when path.txt names a file that exists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-electron-'));
    dirs.push(dir);
    expect(electronBinaryPresent(dir)).toBe(false);
    await writeFile(join(dir, 'path.txt'), 'electron');
    expect(electronBinaryPresent(dir)).toBe(false);
    await mkdir(join(dir, 'dist'));
    await writeFile(join(dir, 'dist', 'electron'), '');
    expect(electronBinaryPresent(dir)).toBe(true);
  });

  it.runIf(!nodeMeets(process.version))('on an older Node it explains what to do instead, exit 1, without starting anything', () => {
    const r = spawnSync(process.execPath, ['scripts/start.mjs'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`this is Node.js ${process.version}`);
    expect(r.stderr).toContain('npm test');
    expect(r.stderr).toContain('npm run preview:browser');
    expect(r.stderr).toContain('npx callpop serve');
    expect(r.stderr).not.toMatch(/Electron uninstall|at .*\.js:\d+/);
  });
});
