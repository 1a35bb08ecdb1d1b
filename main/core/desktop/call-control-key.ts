// The desktop core's side of the Call Control API key: what the feed gets at each start (the key read
// from IT's file or the agent's saved one, or why there is none, shown in Settings in place), and the two
// core channels Settings uses to save or clear the agent's key. The key goes from the renderer to the
// core once, is written to a 0600 file (../config/call-control-secret.ts) and is never sent back: the
// view says only whether one is saved and which file IT named.
import type { Logger } from '../../../shared/diagnostics-log';
import type { Settings } from '../../../shared/settings';
import type { CallControlExtra } from '../call-control/call-control-feed';
import { clearCallControlSecret, hasSavedCallControlSecret, readCallControlSecret, saveCallControlSecret, secretProblem } from '../config/call-control-secret';
import type { FeedContext } from '../feed/call-feed';
import type { CallSource } from './call-source';
import type { HandlersOf } from './handlers/context';

/** Tuning for tests (short reconnect delays); never the key. */
export type CallControlTuning = Pick<CallControlExtra, 'backoff' | 'ringEndGraceMs'>;

/** The call-control kind's start options for these settings: the key, read now, or why there is none. */
export function callControlStartOptions(dataDir: string, tuning?: CallControlTuning): (settings: Settings) => FeedContext['extra'] {
  return (settings) => {
    if (settings.source !== 'call-control') return {};
    const read = readCallControlSecret(settings, dataDir);
    const extra: CallControlExtra = { ...tuning, ...(read.secret !== null ? { clientSecret: read.secret } : { secretProblem: read.problem }) };
    return { 'call-control': extra };
  };
}

/** The two core channels (the `settings:` entries of the core's handler table, beside ./handlers/). */
export function callControlKeyHandlers(dataDir: string, source: CallSource, logger: Logger): HandlersOf<'settings'> {
  return {
    'settings:getCallControlSecret': () => ({ saved: hasSavedCallControlSecret(dataDir), file: source.settings.callControlSecretFile || null }),
    'settings:setCallControlSecret': async (args) => {
      const file = source.settings.callControlSecretFile;
      if (file) return { ok: false, error: `The API key is read from ${file} (set in the settings or by your administrator): change that file instead.` };
      try {
        if ('clear' in args) clearCallControlSecret(dataDir);
        else {
          const secret = args.secret.trim();
          const problem = secretProblem(secret);
          if (problem) return { ok: false, error: problem };
          saveCallControlSecret(dataDir, secret);
        }
      } catch (e) {
        // The message names the file and the OS error, never the key.
        logger.error(`Cannot save the Call Control API key: ${(e as Error).message}`);
        return { ok: false, error: `Cannot save the API key: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
      }
      logger.info('clear' in args ? 'Call Control API key cleared.' : 'Call Control API key saved.');
      // The feed reads the key at start: start it anew when it runs on it.
      if (source.settings.source === 'call-control') await source.restart();
      return { ok: true };
    },
  };
}
