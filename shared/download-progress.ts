// A recording download's progress as the download manager (main/core/download/manager.ts) reports it
// and the app shows it (the call card, the log). A domain type, so the downloads never depend on the
// UI's IPC contract (shared/ipc/contract.ts re-exports it for the UI).
export type DownloadState = 'running' | 'done' | 'failed' | 'canceled';

export interface DownloadProgress {
  downloadId: string;
  callId: string;
  url: string;
  state: DownloadState;
  receivedBytes: number;
  totalBytes: number | null;
  /** Final file path once done. */
  path: string | null;
  error: string | null;
}
