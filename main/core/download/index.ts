// Recording download: the downloader, the per-session manager, and their error type.
export { downloadRecording, planDownload } from './downloader';
export type { ByteProgress, Credentials, DownloadRecordingOptions, DownloadResult } from './downloader';
export { createDownloadManager } from './manager';
export type { DownloadManager, DownloadManagerOptions } from './manager';
export { DownloadError } from './errors';
export type { DownloadErrorCode } from './errors';
export { reserveUniqueName, publishFile } from './unique-file';
