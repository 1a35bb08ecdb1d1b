// `npm run preview:browser`: the real UI in the system browser against the real core, without Electron.
// It is the e2e bridge (test/e2e/bridge): the core backend (listener, tracker, call log, downloads) in
// this process, the built renderer served over HTTP with window.callpop speaking the same IPC contract.
// For designers, reviewers and anyone without the Electron binary. Data lives in a temp folder that is
// removed on exit.
//   npm run preview:browser -- [--extension 117] [--port 5180] [--no-open]
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startBridge } from '../test/e2e/bridge/bridge';
import { ensureRendererBuilt } from '../test/e2e/support/build-renderer';

const usage = 'Usage: npm run preview:browser -- [--extension EXT] [--port PORT] [--no-open]';

/** Why no browser can be opened here (a headless Linux: no X11 or Wayland display), or null. */
export function noDisplay(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string | null {
  if (platform === 'darwin' || platform === 'win32') return null;
  return env.DISPLAY || env.WAYLAND_DISPLAY ? null : 'no display here (DISPLAY and WAYLAND_DISPLAY are unset)';
}

function openInBrowser(url: string): void {
  const headless = noDisplay(process.platform, process.env);
  if (headless) {
    console.log(`(${headless}: open ${url} in a browser yourself, e.g. through ssh -L PORT:127.0.0.1:PORT)`);
    return;
  }
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  const failed = (why: string): void => console.log(`(could not open a browser: ${why}; open ${url} yourself)`);
  child.on('error', (e) => failed(e.message));
  // xdg-open says whether it found something to open only through its exit code.
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) failed(`${cmd} exited with ${code}`);
  });
  child.unref();
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { extension: { type: 'string', default: '117' }, port: { type: 'string', default: '0' }, 'no-open': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) return void console.log(usage);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be 0 to 65535\n${usage}`);
    process.exit(2);
  }
  await ensureRendererBuilt();
  const bridge = await startBridge({ injectClient: true, port, settings: { extension: values.extension ?? '117' } });
  const url = bridge.url('index.html');
  console.log(`Callpop UI:     ${url}`);
  console.log(`Popup page:     ${bridge.url('popup.html')}`);
  console.log(`Webhook URL:    ${bridge.webhookUrl}`);
  console.log(`Try a call:     npx callpop simulate incoming-answered --to ${bridge.webhookUrl} --extension ${values.extension}`);
  console.log('Ctrl+C stops (the temp data folder is removed).');
  if (!values['no-open'] && !process.env.CI) openInBrowser(url);
  const stop = () => {
    void bridge.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`preview:browser failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
