// Bundles the `callpop` command (main/cli) into out/cli/callpop.mjs: one ESM file for Node with our
// code and its pure-JS dependencies (zod, papaparse, libphonenumber-js) inside, so `npx callpop`
// starts fast and needs no TypeScript at run time (options: ./cli-bundle-options.mjs).
import { build } from 'esbuild';
import { nodeBundleOptions } from './cli-bundle-options.mjs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  ...nodeBundleOptions,
  entryPoints: [join(root, 'main/cli/index.ts')],
  outfile: join(root, 'out/cli/callpop.mjs'),
  sourcemap: true,
});
console.log('built out/cli/callpop.mjs');
