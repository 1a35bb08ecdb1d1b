// Bundles a bench script the way `npm run build` bundles the `callpop` command, for children that
// must measure what ships (plain Node running one ESM file), not the TypeScript loader's own memory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
// @ts-expect-error: a plain .mjs module without types (the esbuild options object)
import { nodeBundleOptions } from '../../scripts/cli-bundle-options.mjs';

export interface NodeBundle {
  file: string;
  dispose(): Promise<void>;
}

export async function bundleForNode(entry: string): Promise<NodeBundle> {
  const dir = await mkdtemp(join(tmpdir(), 'callpop-bench-bundle-'));
  const file = join(dir, 'bundle.mjs');
  await build({ ...(nodeBundleOptions as object), entryPoints: [entry], outfile: file });
  return { file, dispose: () => rm(dir, { recursive: true, force: true }) };
}
