// esbuild options for Node bundles of our code: the `callpop` command (scripts/build-cli.mjs) and
// benchmarks that measure the hub as it ships (bench/support/node-bundle.ts). node-notifier stays
// external: it ships native helper binaries (terminal-notifier, SnoreToast) that it finds relative to
// its own folder.
export const nodeBundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['node-notifier', 'electron'],
  // Bundled CommonJS packages may require() Node built-ins; give them a real require.
  banner: { js: "import { createRequire as __callpopCreateRequire } from 'node:module'; const require = __callpopCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
};
