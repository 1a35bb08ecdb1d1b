// `callpop serve --source call-control`: a single PC (a one-PC office) taking its calls from 3CX's
// Call Control API instead of webhooks: no listener, nothing to open in the firewall. The feed comes
// from the table (kind "call-control", core/call-control/call-control-feed.ts); serve.ts runs it.
import { resolve } from 'node:path';
import type { Logger } from '../../shared/diagnostics-log';
import { settingsSchema } from '../../shared/settings';
import { defaultDataDir } from '../core/config/paths';
import { openSettingsFile } from '../core/config/settings-file';
import type { CallControlExtra } from '../core/call-control/call-control-feed';
import { parseExtension, UsageError, type CliIo } from './args';
import type { CallControlConfig } from './call-control-flags';
import type { ServePlan } from './serve';

export interface ServeCallControlFlags {
  extension?: string | undefined;
  'data-dir'?: string | undefined;
  'pbx-ca'?: string | undefined;
}

export function serveFromCallControlPlan(cfg: CallControlConfig, flags: ServeCallControlFlags, io: CliIo, logger: Logger): ServePlan {
  const dataDir = flags['data-dir'] ?? defaultDataDir(io.env ?? process.env);
  const saved = flags.extension !== undefined ? settingsSchema.parse({}) : openSettingsFile(dataDir, { logger }).get();
  const extension = flags.extension !== undefined ? parseExtension(flags.extension) : saved.extension;
  if (!extension) throw new UsageError('Give your extension with --extension EXT (e.g. --extension 117).');
  const extra: CallControlExtra = { clientSecret: cfg.clientSecret, ...(cfg.recordTraffic ? { recordTraffic: cfg.recordTraffic } : {}) };
  return {
    dataDir,
    settings: {
      ...saved,
      source: 'call-control',
      extension,
      callControlPbx: cfg.pbx.origin,
      callControlClientId: cfg.clientId,
      callControlCaFile: flags['pbx-ca'] ? resolve(flags['pbx-ca']) : '',
    },
    password: null,
    extra: { 'call-control': extra },
    started() {
      io.stdout(`Tracking extension ${extension} through 3CX Call Control at ${cfg.pbx.origin}. Press Ctrl+C to stop.\n`);
      return null;
    },
    // The client logs its own state lines (Connected to 3CX Call Control …, warnings) on stderr.
    status: () => null,
  };
}
