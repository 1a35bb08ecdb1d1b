// `--record-traffic FILE`: appends what the PBX's Call Control API sent (WebSocket events and the
// answers to our GETs) as JSON lines, so a site can check its own PBX's shapes against ours (issue 18:
// what could not be confirmed without a real PBX). The token endpoint's answers and our requests'
// headers are never written: the file holds no token and no secret. Capped in size: past the cap it
// stops writing and says so once.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from '../../../shared/diagnostics-log';

export interface TrafficRecorder {
  record(kind: 'ws' | 'get', path: string, body: unknown): void;
  close(): Promise<void>;
}

export const MAX_TRAFFIC_BYTES = 64 * 1024 * 1024;

export function openTrafficRecorder(path: string, logger: Logger, now: () => number = Date.now, maxBytes = MAX_TRAFFIC_BYTES): TrafficRecorder {
  const out: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  let written = 0;
  let full = false;
  out.on('error', (e) => logger.error(`--record-traffic: cannot write ${path}: ${e.message}`));
  return {
    record(kind, p, body) {
      if (full) return;
      const line = `${JSON.stringify({ at: new Date(now()).toISOString(), kind, path: p, body })}\n`;
      if (written + line.length > maxBytes) {
        full = true;
        logger.warn(`--record-traffic: ${path} reached ${maxBytes} bytes; no longer recording`);
        return;
      }
      written += line.length;
      out.write(line);
    },
    close: () => new Promise<void>((resolve) => out.end(() => resolve())),
  };
}
