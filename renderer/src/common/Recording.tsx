// One announced recording: Download (progress, cancel, retry), Show in folder, and inline playback of
// the downloaded file. Used by the popup card and the log's details panel.
import { useState } from 'react';
import type { DownloadProgress } from '../../../shared/ipc/contract';
import { api } from './api';
import { baseName, formatBytes } from './format';
import { downloadProblem } from './download-words';

interface Props {
  callId: string;
  url: string;
  progress: DownloadProgress | undefined;
  /** Offer inline playback (the popup is too small for a player). */
  player?: boolean;
  /** The name the file is saved under (date, time, number): shown instead of the PBX's file name. */
  label?: string | undefined;
}

export function Recording({ callId, url, progress, player = false, label }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [media, setMedia] = useState<{ id: string; url: string } | null>(null);
  const name = baseName(url);

  const start = async () => {
    setError(null);
    const r = await api().downloadRecording(callId, url);
    if ('error' in r) setError(r.error);
  };
  const play = async (downloadId: string) => {
    setError(null);
    const r = await api().recordingMediaUrl(downloadId);
    if ('error' in r) setError(r.error);
    else setMedia({ id: downloadId, url: r.url });
  };
  const showInFolder = async (path: string) => {
    const r = await api().showInFolder(path);
    if (!r.ok) setError(r.error);
  };

  const state = progress?.state;
  const pct = progress?.totalBytes ? Math.min(100, Math.round((progress.receivedBytes / progress.totalBytes) * 100)) : null;
  // The core's exact words stay in the tooltip; the agent reads what happened and what to do.
  const technical = error ?? (state === 'failed' ? (progress?.error ?? 'Download failed.') : null);
  const message = technical === null ? null : downloadProblem(technical);

  return (
    <div className="recording" data-state={state ?? 'idle'}>
      <span className="recording-name" title={url}>
        {label ?? name}
      </span>
      {state === 'running' && progress && (
        <>
          <progress
            max={100}
            value={pct ?? undefined}
            aria-label={`Downloading ${name}`}
            aria-valuetext={pct !== null ? `${pct}%` : formatBytes(progress.receivedBytes)}
          />
          <span className="recording-bytes" aria-hidden="true">
            {pct !== null ? `${pct}%` : formatBytes(progress.receivedBytes)}
          </span>
          <button type="button" onClick={() => void api().cancelDownload(progress.downloadId)}>
            Cancel
          </button>
        </>
      )}
      {(state === undefined || state === 'canceled') && error === null && (
        <button type="button" className="primary" onClick={() => void start()} aria-label={`Download recording ${name}`}>
          Download
        </button>
      )}
      {(state === undefined || state === 'canceled') && error !== null && (
        <button type="button" onClick={() => void start()} aria-label={`Try again to download ${name}`}>
          Try again
        </button>
      )}
      {state === 'failed' && (
        <button type="button" onClick={() => void start()} aria-label={`Try again to download ${name}`}>
          Try again
        </button>
      )}
      {state === 'done' && progress?.path && (
        <>
          <span className="recording-done">Downloaded</span>
          <button type="button" onClick={() => void showInFolder(progress.path!)}>
            Show in folder
          </button>
          {player && media?.id !== progress.downloadId && (
            <button type="button" onClick={() => void play(progress.downloadId)} aria-label={`Play ${name}`}>
              Play
            </button>
          )}
        </>
      )}
      {state === 'canceled' && <span className="muted">Canceled</span>}
      {message && (
        <span className="error" role="alert" title={technical ?? undefined}>
          {message}
        </span>
      )}
      {player && media && state === 'done' && media.id === progress?.downloadId && (
        <audio className="recording-player" controls autoPlay src={media.url} aria-label={`Recording ${name}`} />
      )}
    </div>
  );
}
