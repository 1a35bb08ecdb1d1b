// utilityProcess entry for the core service: speaks shared/service-protocol.ts over
// process.parentPort with Electron main and runs the core backend (listener, tracker, log,
// downloads) here, so a webhook flood or slow disk never blocks the UI process.
// No Electron import: parentPort is a property Electron adds to `process` in a utility process.
import type { FromService, RecordingCredentials, ToService } from '../../../shared/service-protocol';
import type { Logger } from '../../../shared/diagnostics-log';
import { createCoreBackend } from './create-core-backend';
import type { CoreBackend } from './core-backend';

interface ParentPortLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

export interface ServiceHostOptions {
  port: ParentPortLike;
  /** Injected for tests; defaults to the real core. */
  create?: typeof createCoreBackend;
  exit?: (code: number) => void;
}

/** Wire one parent port to one core backend. Returns when wired; messages drive the rest. */
export function runServiceHost({ port, create = createCoreBackend, exit = (c) => process.exit(c) }: ServiceHostOptions): void {
  const send = (m: FromService) => port.postMessage(m);
  const logger: Logger = {
    debug: (message) => send({ type: 'log', level: 'debug', message }),
    info: (message) => send({ type: 'log', level: 'info', message }),
    warn: (message) => send({ type: 'log', level: 'warn', message }),
    error: (message) => send({ type: 'log', level: 'error', message }),
  };
  let credentials: RecordingCredentials | null = null;
  // Serialises settings changes (each may switch the source) so they apply in the order main sent them.
  let applying: Promise<void> = Promise.resolve();
  let backend: Promise<CoreBackend> | null = null;
  let closing = false;
  // Main merges the service state into its AppStatus; only `service` is read from this push.
  const pushStatus = (b: CoreBackend) =>
    send({ type: 'push', channel: 'push:status', payload: { service: b.status(), popupsPaused: false, missedUnseen: 0, policyError: null } });

  const onMessage = async (msg: ToService): Promise<void> => {
    switch (msg.type) {
      case 'init': {
        if (backend) return;
        credentials = msg.recordingCredentials ?? null;
        const starting = create({
          dataDir: msg.dataDir,
          defaultDownloadDir: msg.downloadDir,
          settings: msg.settings,
          push: (channel, payload) => send({ type: 'push', channel, payload } as FromService),
          logger,
          recordingCredentials: () => credentials,
          hubPassword: msg.hubPassword ?? null,
        });
        backend = starting;
        try {
          const b = await starting;
          send({ type: 'ready' });
          pushStatus(b);
        } catch (e) {
          send({ type: 'fatal', message: `The core service could not start: ${errorText(e)}` });
          exit(1);
        }
        return;
      }
      case 'settings': {
        if (msg.recordingCredentials !== undefined) credentials = msg.recordingCredentials;
        if (!backend) return;
        const b = await backend;
        const run = applying.then(() => b.updateSettings(msg.settings, msg.hubPassword));
        applying = run.catch(() => undefined);
        try {
          await run;
        } finally {
          pushStatus(b);
        }
        return;
      }
      case 'reconnect': {
        if (backend) (await backend).reconnectNow(msg.reason);
        return;
      }
      case 'invoke': {
        try {
          if (!backend) throw new Error('The core service is not initialised yet.');
          const value = await (await backend).handle(msg.channel, msg.args as never);
          send({ type: 'result', id: msg.id, ok: true, value });
        } catch (e) {
          send({ type: 'result', id: msg.id, ok: false, error: errorText(e) });
        }
        return;
      }
      case 'shutdown': {
        if (closing) return;
        closing = true;
        try {
          if (backend) await (await backend).close();
        } finally {
          exit(0);
        }
        return;
      }
    }
  };

  port.on('message', (e) => {
    const msg = e.data as ToService;
    onMessage(msg).catch((err) => logger.error(`core: ${msg?.type ?? 'message'} failed: ${errorText(err)}`));
  });
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'unknown error';
}

const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
if (parentPort) runServiceHost({ port: parentPort });
