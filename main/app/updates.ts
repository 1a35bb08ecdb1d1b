// Updates from the URL IT sets (electron-updater, generic provider). Only in a packaged app, only
// when enabled with a non-empty URL; every failure is logged and otherwise ignored.
import electronUpdater from 'electron-updater';
import type { Logger } from '../../shared/log';
import type { Settings } from '../../shared/settings';

const SIX_HOURS = 6 * 60 * 60 * 1000;

export function startUpdateChecks(opts: { settings: () => Settings; isPackaged: boolean; logger: Logger }): () => void {
  const { autoUpdater } = electronUpdater;
  let configuredUrl = '';
  const check = () => {
    const { enabled, url } = opts.settings().updates;
    if (!opts.isPackaged || !enabled || url === '') return;
    try {
      if (url !== configuredUrl) {
        autoUpdater.setFeedURL({ provider: 'generic', url });
        configuredUrl = url;
      }
      autoUpdater.logger = { info: (m: unknown) => opts.logger.info(`updates: ${String(m)}`), warn: (m: unknown) => opts.logger.warn(`updates: ${String(m)}`), error: (m: unknown) => opts.logger.error(`updates: ${String(m)}`), debug: (m: unknown) => opts.logger.debug(`updates: ${String(m)}`) };
      autoUpdater.checkForUpdatesAndNotify().catch((e: unknown) => opts.logger.warn(`updates: check failed: ${e instanceof Error ? e.message : String(e)}`));
    } catch (e) {
      opts.logger.warn(`updates: cannot check: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const first = setTimeout(check, 30_000);
  const timer = setInterval(check, SIX_HOURS);
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
