// A renewed TLS certificate without a restart: `callpop hub --tls-cert/--tls-key` reads the two files
// again on SIGHUP (`systemctl reload callpop-hub`) and when either file changes (certbot, an internal
// CA's renewal job), and hands them to the running hub: connections from then on get the new
// certificate, open ones keep theirs. A pair that does not load (the key written after the
// certificate, a broken file) keeps the old one and is said; the next change tries again.
import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import type { Logger } from '../../shared/diagnostics-log';
import type { Hub } from '../core/hub/hub';

/** How often the files' modification times are polled (fs.watchFile: works across renames and on every file system). */
const pollMs = 2000;
/** A renewal writes two files: wait for the second before loading. */
const settleMs = 300;

export function watchTlsFiles(hub: Hub, certFile: string, keyFile: string, logger: Logger): () => void {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const reload = (why: string): void => {
    running = running.then(async () => {
      try {
        const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
        hub.reloadTls({ cert, key });
        const x = new X509Certificate(cert);
        logger.info(`TLS certificate reloaded (${why}): ${x.subject.replace(/\n/g, ', ')}, valid until ${new Date(x.validTo).toISOString().slice(0, 10)}`);
      } catch (e) {
        logger.error(`TLS certificate not reloaded (${why}); the old one stays in use: ${(e as Error).message}`);
      }
    });
  };
  const changed = (curr: { mtimeMs: number }, prev: { mtimeMs: number }): void => {
    if (curr.mtimeMs === prev.mtimeMs) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      reload('the files changed');
    }, settleMs);
  };
  const onHup = (): void => reload('SIGHUP');
  for (const f of [certFile, keyFile]) watchFile(f, { interval: pollMs, persistent: false }, changed);
  process.on('SIGHUP', onHup);
  return () => {
    if (timer) clearTimeout(timer);
    for (const f of [certFile, keyFile]) unwatchFile(f, changed);
    process.off('SIGHUP', onHup);
  };
}
