#!/usr/bin/env node
// `callpop` / `npx callpop`: runs the bundled command (npm run build makes it).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundle = fileURLToPath(new URL('../out/cli/callpop.mjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write('callpop: the command is not built yet. Run `npm run build` in the Callpop folder first.\n');
  process.exit(1);
}
const { run } = await import(pathToFileURL(bundle).href);
await run();
