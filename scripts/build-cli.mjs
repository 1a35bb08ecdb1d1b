// Bundles the `callpop` command (main/cli) into out/cli/callpop.mjs: one ESM file for Node with our
// code and its pure-JS dependencies (zod, papaparse, libphonenumber-js) inside, so `npx callpop`
// starts fast and needs no TypeScript at run time. node-notifier stays external: it ships native
// helper binaries (terminal-notifier, SnoreToast) that it finds relative to its own folder.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [join(root, 'main/cli/index.ts')],
  outfile: join(root, 'out/cli/callpop.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['node-notifier', 'electron'],
  // Bundled CommonJS packages may require() Node built-ins; give them a real require.
  banner: { js: "import { createRequire as __callpopCreateRequire } from 'node:module'; const require = __callpopCreateRequire(import.meta.url);" },
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
console.log('built out/cli/callpop.mjs');
