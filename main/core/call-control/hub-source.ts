// Call Control as the hub's source of calls: the client's translated transitions enter the hub
// through `hub.ingest`, the very path the WebAPI's webhooks take (parse → PbxTracker → durable log →
// each agent's topic), so both sources give agents the same records. The webhook listener stays up
// (a site may keep both during a move); agents' extensions are re-read for the "not monitored" warning.
import type { Logger } from '../../../shared/diagnostics-log';
import { readAgents } from '../hub/accounts/agents';
import type { Hub } from '../hub/hub';
import { startCallControlClient, type CallControlClient, type CallControlClientOptions } from './client';
import { toRawWebhook } from './to-webhook';
import { openTrafficRecorder } from './traffic-recorder';

export interface HubCallControlOptions extends Omit<CallControlClientOptions, 'onWebhooks' | 'agentExtensions' | 'logger'> {
  dataDir: string;
  logger: Logger;
  /** Append what the PBX sends to this file (--record-traffic). */
  recordTraffic?: string | undefined;
}

export async function attachCallControl(hub: Hub, o: HubCallControlOptions): Promise<CallControlClient> {
  let extensions: string[] = [];
  const refresh = async () => {
    try {
      extensions = [...new Set((await readAgents(o.dataDir)).flatMap((a) => a.extensions))];
    } catch (e) {
      o.logger.warn(`Call Control: cannot read the agents for the monitoring check: ${(e as Error).message}`);
    }
  };
  await refresh();
  const timer = setInterval(() => void refresh(), 30_000);
  timer.unref();
  const recorder = o.recordTraffic ? openTrafficRecorder(o.recordTraffic, o.logger) : null;
  const client = startCallControlClient({
    ...o,
    ...(recorder ? { onTraffic: recorder.record } : {}),
    agentExtensions: () => extensions,
    // Calls the hub's log holds open from before a restart: the first reconcile settles them.
    openCalls: hub.openCalls(),
    onWebhooks: (list) => {
      for (const fields of list) {
        hub.ingest(toRawWebhook(fields)).then(
          (outcome) => {
            if (outcome.status === 'invalid') o.logger.error(`Call Control: a translated event was refused (${outcome.reason})`);
          },
          // Not lost: the hub's log keeps what it could not write and retries it.
          (e: unknown) => o.logger.error(`Call Control: saving a change failed: ${(e as Error).message}`),
        );
      }
    },
  });
  const close = client.close.bind(client);
  return Object.assign(client, {
    async close() {
      clearInterval(timer);
      await close();
      await recorder?.close();
    },
  });
}
