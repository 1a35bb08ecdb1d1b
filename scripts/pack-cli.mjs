// Packs the `callpop` command as the npm package a server installs (`npm install --global
// callpop-cli-VERSION.tgz`): the bundled CLI (out/cli/callpop.mjs, built by scripts/build-cli.mjs) behind
// bin/callpop.mjs, with the systemd unit and the deployment docs, and no dependencies (every
// dependency the hub and the CLI use is inside the bundle; node-notifier, for `serve --notify` on a
// desktop, is not: there --notify says notifications are unavailable). Writes out/npm/callpop-cli-VERSION.tgz
// and prints its path. Used by `npm run pack:cli`, the Dockerfile and test/integration/npm-package.test.ts.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'out/cli/callpop.mjs');
if (!existsSync(bundle)) {
  console.error('pack-cli: out/cli/callpop.mjs is missing; run `node scripts/build-cli.mjs` (or `npm run build`) first.');
  process.exit(1);
}
const app = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const stage = join(root, 'out/npm/package');
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'out/cli'), { recursive: true });
// The same layout as the checkout: bin/callpop.mjs imports ../out/cli/callpop.mjs.
cpSync(join(root, 'bin/callpop.mjs'), join(stage, 'bin/callpop.mjs'));
cpSync(bundle, join(stage, 'out/cli/callpop.mjs'));
cpSync(join(root, 'deploy/callpop-hub.service'), join(stage, 'deploy/callpop-hub.service'));
cpSync(join(root, 'docs/deploy.md'), join(stage, 'docs/deploy.md'));
cpSync(join(root, 'README.md'), join(stage, 'README.md'));
writeFileSync(
  join(stage, 'package.json'),
  `${JSON.stringify(
    {
      name: 'callpop-cli',
      version: app.version,
      description: 'The callpop command: the Callpop hub (3CX WebAPI webhooks to every agent through MQTT) and the headless client.',
      license: app.license,
      type: 'module',
      bin: { callpop: 'bin/callpop.mjs' },
      engines: app.engines,
      files: ['bin/', 'out/cli/callpop.mjs', 'deploy/', 'docs/deploy.md', 'README.md'],
    },
    null,
    2,
  )}\n`,
);
const out = join(root, 'out/npm');
const json = execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const [{ filename }] = JSON.parse(json);
console.log(join(out, filename));
