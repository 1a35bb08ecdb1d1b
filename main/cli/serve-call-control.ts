// `callpop serve --source call-control`: a single PC (a one-PC office) taking its calls from 3CX's
// Call Control API instead of webhooks: no listener, nothing to open in the firewall. The translated
// transitions go through the same service (tracker, call log, change lines) as webhooks do.
import type { CallUpdate } from '../../shared/call-record';
import type { Logger } from '../../shared/log';
import { CallLogInUseError } from '../core/call-log/lock';
import { startCallControlClient } from '../core/call-control/client';
import { toRawWebhook } from '../core/call-control/to-webhook';
import { openTrafficRecorder } from '../core/call-control/traffic-recorder';
import { defaultDataDir } from '../core/config/paths';
import { openSettingsFile } from '../core/config/settings-file';
import { withWebhookSecret } from '../core/listener/secret';
import { CallpopService } from '../core/service/call-service';
import { parseExtension, printable, UsageError, type CliIo } from './args';
import type { CallControlConfig } from './call-control-flags';
import { clock, updateLine } from './format';

export interface ServeCallControlFlags {
  extension?: string | undefined;
  'data-dir'?: string | undefined;
}

export async function runServeCallControl(cfg: CallControlConfig, flags: ServeCallControlFlags, io: CliIo, logger: Logger, onUpdate: (u: CallUpdate) => void = () => {}): Promise<number> {
  const dataDir = flags['data-dir'] ?? defaultDataDir(io.env ?? process.env);
  const file = openSettingsFile(dataDir, { logger });
  const saved = withWebhookSecret(file.get());
  const extension = flags.extension !== undefined ? parseExtension(flags.extension) : saved.settings.extension;
  if (!extension) throw new UsageError('Give your extension with --extension EXT (e.g. --extension 117).');
  let service: CallpopService;
  try {
    service = await CallpopService.start({ dataDir, settings: { ...saved.settings, extension }, logger, listen: false });
  } catch (e) {
    const advice = e instanceof CallLogInUseError ? ` (the Callpop desktop app or another callpop serve is running on this data folder). Quit it first, or give another --data-dir.` : '';
    io.stderr(`callpop serve: ${printable((e as Error).message)}${advice}\n`);
    return 1;
  }
  service.onUpdates((updates) => {
    for (const u of updates) {
      io.stdout(`${updateLine(u, new Date())}\n`);
      onUpdate(u);
    }
  });
  const recorder = cfg.recordTraffic ? openTrafficRecorder(cfg.recordTraffic, logger) : null;
  const client = startCallControlClient({
    pbx: cfg.pbx,
    clientId: cfg.clientId,
    clientSecret: cfg.clientSecret,
    ca: cfg.ca,
    logger,
    agentExtensions: () => [extension],
    ...(recorder ? { onTraffic: recorder.record } : {}),
    onWebhooks: (list) => {
      for (const f of list) {
        service.ingest(toRawWebhook(f)).catch((e: unknown) => logger.error(`Call Control: saving a change failed: ${(e as Error).message}`));
      }
    },
  });
  io.stdout(`Tracking extension ${extension} through 3CX Call Control at ${cfg.pbx.origin}. Press Ctrl+C to stop.\n`);
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) return resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await client.close();
  await recorder?.close();
  await service.close();
  io.stderr(`${clock(new Date())} stopped\n`);
  return 0;
}
