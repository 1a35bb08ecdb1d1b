// The downloads of one core session: start / cancel / retry / list, progress pushed to the UI.
// The renderer names a call and one of its announced recording URLs; anything else is refused,
// so the UI cannot make the core fetch arbitrary addresses.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { CallRecord } from '../../../shared/call-record';
import type { DownloadProgress } from '../../../shared/download-progress';
import { silentLogger } from '../../../shared/diagnostics-log';
import type { Logger } from '../../../shared/diagnostics-log';
import { recordingFileName } from '../../../shared/recording-file-name';
import { downloadRecording, planDownload } from './downloader';
import type { Credentials, DownloadRecordingOptions } from './downloader';
import { DownloadError } from './errors';

export interface DownloadManagerOptions {
  settings(): { pbxHost: string; recordingFingerprint: string; downloadDir: string; recordingAllowHttpCredentials?: boolean };
  /** Used when settings().downloadDir is "". */
  defaultDownloadDir: string;
  credentials?(): Credentials | null;
  onProgress(p: DownloadProgress): void;
  logger?: Logger;
  /** Downloader tuning (tests use short retry delays). */
  tuning?: Pick<
    DownloadRecordingOptions,
    'maxTries' | 'retryDelayMs' | 'idleTimeoutMs' | 'headTimeoutMs' | 'minBytesPerSec' | 'rateWindowMs' | 'maxBytes' | 'progressIntervalMs'
  >;
}

export interface DownloadManager {
  /** Validation errors (wrong host, URL not announced for the call…) come back at once; nothing is fetched
   * (a refused recording of the call is also listed and pushed as failed). */
  start(req: { call: CallRecord; url: string }): { downloadId: string } | { error: string };
  cancel(downloadId: string): void;
  retry(downloadId: string): { downloadId: string } | { error: string };
  list(): DownloadProgress[];
  /** Cancels running downloads and waits until their temp files are removed. */
  close(): Promise<void>;
}

interface Entry {
  progress: DownloadProgress;
  call: CallRecord;
  controller: AbortController | null;
  task: Promise<void> | null;
}

export function createDownloadManager(o: DownloadManagerOptions): DownloadManager {
  const log = o.logger ?? silentLogger;
  const entries = new Map<string, Entry>();
  let closed = false;

  const emit = (e: Entry): void => {
    try {
      o.onProgress({ ...e.progress });
    } catch (err) {
      log.warn(`download: progress listener failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const findSame = (callId: string, url: string): Entry | undefined =>
    [...entries.values()].find((e) => e.progress.callId === callId && e.progress.url === url);

  /** Checks everything that needs no I/O; returns an error message or null. */
  const validate = (call: CallRecord, url: string): string | null => {
    if (closed) return 'Downloads are shut down';
    if (!call.recordings.includes(url)) return 'Refused: this address is not a recording announced for this call';
    const s = o.settings();
    try {
      planDownload(url, s.pbxHost, s.recordingFingerprint);
    } catch (err) {
      return err instanceof DownloadError ? err.message : String(err);
    }
    return null;
  };

  const refused = (call: CallRecord, url: string, error: string): void => {
    const same = findSame(call.id, url);
    if (same?.progress.state === 'running') return;
    const e: Entry = same ?? { progress: { downloadId: randomUUID(), callId: call.id, url, state: 'failed', receivedBytes: 0, totalBytes: null, path: null, error }, call, controller: null, task: null };
    e.progress = { ...e.progress, state: 'failed', receivedBytes: 0, totalBytes: null, path: null, error };
    entries.set(e.progress.downloadId, e);
    emit(e);
  };

  const run = (e: Entry): void => {
    const s = o.settings();
    const controller = new AbortController();
    const index = Math.max(0, e.call.recordings.indexOf(e.progress.url));
    e.controller = controller;
    e.progress = { ...e.progress, state: 'running', receivedBytes: 0, totalBytes: null, path: null, error: null };
    emit(e);
    log.info(`download ${e.progress.downloadId}: started for call ${e.progress.callId}`);
    e.task = downloadRecording(e.progress.url, {
      ...o.tuning,
      pbxHost: s.pbxHost,
      fingerprint: s.recordingFingerprint,
      destDir: s.downloadDir.trim() !== '' ? s.downloadDir : o.defaultDownloadDir,
      fileName: recordingFileName(e.call, index),
      credentials: o.credentials?.() ?? null,
      allowHttpCredentials: s.recordingAllowHttpCredentials ?? false,
      signal: controller.signal,
      logger: log,
      onProgress: (p) => {
        if (e.controller !== controller) return;
        e.progress = { ...e.progress, receivedBytes: p.receivedBytes, totalBytes: p.totalBytes };
        emit(e);
      },
    }).then(
      (r) => {
        if (e.controller !== controller) return;
        e.progress = { ...e.progress, state: 'done', receivedBytes: r.bytes, totalBytes: r.bytes, path: r.path, error: null };
        log.info(`download ${e.progress.downloadId}: done (${r.bytes} bytes)`);
      },
      (err: unknown) => {
        if (e.controller !== controller) return;
        const canceled = err instanceof DownloadError && err.code === 'canceled';
        const message = err instanceof Error ? err.message : String(err);
        e.progress = { ...e.progress, state: canceled ? 'canceled' : 'failed', error: canceled ? null : message };
        log[canceled ? 'info' : 'warn'](`download ${e.progress.downloadId}: ${canceled ? 'canceled' : `failed: ${message}`}`);
      },
    ).finally(() => {
      if (e.controller !== controller) return;
      e.controller = null;
      emit(e);
    });
  };

  return {
    start({ call, url }) {
      const error = validate(call, url);
      if (error !== null) {
        // A refused recording of the call is a failed download for every window (the log row's Rec
        // badge, the details), not only for the button that was clicked. Nothing is fetched.
        if (!closed && call.recordings.includes(url)) refused(call, url, error);
        return { error };
      }
      const same = findSame(call.id, url);
      if (same) {
        const { state, path } = same.progress;
        // Already running, or already saved and still there: report it instead of fetching again.
        if (state === 'running' || (state === 'done' && path !== null && existsSync(path))) {
          emit(same);
          return { downloadId: same.progress.downloadId };
        }
        same.call = call;
        run(same);
        return { downloadId: same.progress.downloadId };
      }
      const downloadId = randomUUID();
      const e: Entry = {
        progress: { downloadId, callId: call.id, url, state: 'running', receivedBytes: 0, totalBytes: null, path: null, error: null },
        call,
        controller: null,
        task: null,
      };
      entries.set(downloadId, e);
      run(e);
      return { downloadId };
    },

    cancel(downloadId) {
      entries.get(downloadId)?.controller?.abort();
    },

    retry(downloadId) {
      const e = entries.get(downloadId);
      if (!e) return { error: 'There is no such download' };
      if (e.progress.state === 'running') return { downloadId };
      if (e.progress.state === 'done' && e.progress.path !== null && existsSync(e.progress.path)) return { downloadId };
      const error = validate(e.call, e.progress.url);
      if (error !== null) return { error };
      run(e);
      return { downloadId };
    },

    list() {
      return [...entries.values()].map((e) => ({ ...e.progress }));
    },

    async close() {
      closed = true;
      const tasks: Promise<void>[] = [];
      for (const e of entries.values()) {
        if (e.controller) {
          e.controller.abort();
          if (e.task) tasks.push(e.task);
        }
      }
      await Promise.allSettled(tasks);
    },
  };
}
