// The `callpop` command: serve | log | simulate | download. No Electron anywhere below here.
import { pathToFileURL } from 'node:url';
import { downloadUsage, runDownloadCommand } from './download-command';
import { CliError, UsageError, type CliIo } from './args';
import { hubUsage, runHub } from './hub';
import { logUsage, runLog } from './log';
import { runServe, serveUsage } from './serve';
import { runSimulate, simulateUsage } from './simulate';

export const usage = `Usage: callpop <command> [options]

Commands:
  serve      receive 3CX WebAPI webhooks and track your extension's calls
  log        list your calls (table, --json or --csv)
  simulate   replay a documented 3CX call flow against a webhook URL
  download   download a call recording from the PBX
  hub        one webhook URL for the whole PBX: every agent's calls through an MQTT broker

Run callpop <command> --help for the options of a command.`;

/** Printed after a usage error of that command (download prints its own). */
const commandUsages = new Map<string, string>([
  ['serve', serveUsage],
  ['log', logUsage],
  ['simulate', simulateUsage],
  ['hub', hubUsage],
]);

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await runServe(rest, io);
      case 'log':
        return await runLog(rest, io);
      case 'simulate':
        return await runSimulate(rest, io);
      case 'hub':
        return await runHub(rest, io);
      case 'download':
        if (rest.includes('--help') || rest.includes('-h')) {
          io.stdout(`${downloadUsage}\n\nDownloads a recording with the same rules as the app: only from the PBX host (--pbx, default the URL's host),\nTLS verified (or pinned with --fingerprint), never overwriting, never leaving a partial file.\nCredentials (--user) go only to the URL's own address and port, and only over https unless --allow-http-credentials.\n`);
          return 0;
        }
        return await runDownloadCommand(rest, { stdout: io.stdout, stderr: io.stderr, env: io.env, signal: io.signal });
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout(`${usage}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`Unknown command "${command}". Commands: serve, log, simulate, download, hub.`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      // The one-line error first, then the command's usage on its own lines.
      const own = command !== undefined ? commandUsages.get(command) : undefined;
      io.stderr(`callpop${own ? ` ${command}` : ''}: ${e.message}\n${own ?? usage}\n`);
      return 2;
    }
    if (e instanceof CliError) {
      io.stderr(`callpop${command ? ` ${command}` : ''}: ${e.message}\n`);
      return 1;
    }
    io.stderr(`callpop: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}

/** Run as a program: real stdio, Ctrl+C / SIGTERM stop gracefully. */
export async function run(): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  // `callpop log | head`: the reader went away; stop quietly instead of crashing on EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    controller.abort();
    process.exit(process.exitCode ?? 0);
  });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const code = await main(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    signal: controller.signal,
    env: process.env,
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  process.exitCode = code;
}

// Run when executed directly (`node --import tsx main/cli/index.ts`, `node out/cli/callpop.mjs`);
// bin/callpop.mjs imports the bundle and calls run() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void run();
