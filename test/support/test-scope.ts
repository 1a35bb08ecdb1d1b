// One test file's temporary folders and cleanups: what a test starts it pushes on `cleanups` (run
// after each test, newest first); `tempDir()` folders and `later` go after the file's last test. The
// hub's integration tests each wrote these ten lines before.
import { afterAll, afterEach } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Cleanup = () => Promise<void>;

export function testScope(prefix: string): { cleanups: Cleanup[]; later: Cleanup[]; tempDir(): Promise<string> } {
  const cleanups: Cleanup[] = [];
  const later: Cleanup[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });
  afterAll(async () => {
    for (const c of later.splice(0).reverse()) await c().catch(() => {});
  });
  return {
    cleanups,
    later,
    async tempDir() {
      const d = await mkdtemp(join(tmpdir(), prefix));
      later.push(() => rm(d, { recursive: true, force: true }));
      return d;
    },
  };
}
