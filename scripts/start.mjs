// `npm start`: build and start the desktop app with electron-vite. Electron >= 42 ships no binary in
// its npm package and writes node_modules/electron/path.txt only once the binary is fetched, so a
// fresh clone has none and electron-vite stops with "Electron uninstall". Fetch it here first with
// Electron's own installer (install-electron); where that cannot work, say in one paragraph what to
// do instead rather than show a stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** What the desktop app needs; the CLI and the tests need less (package.json "engines"). */
export const appNodeRange = '>=22.12';

export function nodeMeets(version, min = [22, 12]) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

const insteadParagraph = (reason) =>
  [
    `Callpop cannot start the desktop app here: ${reason}`,
    '',
    'What you can do instead:',
    '  npm test                   everything: typecheck, lint, build, unit/integration tests, the UI in Chromium',
    '  npm run preview:browser    the real UI in your browser against the real core (no Electron needed)',
    '  npx callpop serve --extension 117    the same core without a window (npx callpop --help for more)',
    '',
    `The desktop app needs Node.js ${appNodeRange} (Electron ${electronVersion()}'s tooling) and, the first time,`,
    'internet access to fetch the Electron binary (npx install-electron). Behind a proxy, set HTTPS_PROXY;',
    'with a local mirror, set ELECTRON_MIRROR. The CLI and the tests need Node.js >= 20.19.',
  ].join('\n');

function electronVersion() {
  try {
    return JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
  } catch {
    return '(not installed)';
  }
}

/** The binary electron-vite will start, when it is there. */
export function electronBinaryPresent(dir = dirname(require.resolve('electron/package.json'))) {
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return false;
  return existsSync(join(dir, 'dist', readFileSync(pathFile, 'utf8')));
}

function main() {
  if (!nodeMeets(process.version)) {
    console.error(insteadParagraph(`this is Node.js ${process.version}, and the desktop app's tooling needs ${appNodeRange}.`));
    return 1;
  }
  let electronDir;
  try {
    electronDir = dirname(require.resolve('electron/package.json'));
  } catch {
    console.error(insteadParagraph('the electron package is not installed (run npm ci first).'));
    return 1;
  }
  if (!electronBinaryPresent(electronDir)) {
    console.log(`Fetching the Electron ${electronVersion()} binary (first start only)…`);
    const r = spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: 'inherit' });
    if (r.status !== 0 || !electronBinaryPresent(electronDir)) {
      console.error('');
      console.error(insteadParagraph('the Electron binary could not be fetched (no network access to its download host?).'));
      return 1;
    }
  }
  const vite = join(dirname(require.resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
  const child = spawn(process.execPath, [vite, 'preview', ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return null;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const code = main();
  if (code !== null) process.exitCode = code;
}
