// Files the core finished downloading, by download id (from push:download). Main only ever shows
// in a folder or streams to <audio> a path from this list, never a path the renderer made up.
import { resolve } from 'node:path';
import type { DownloadProgress } from '../../shared/ipc/contract';

export class DownloadedFiles {
  private readonly byId = new Map<string, string>();
  private readonly paths = new Set<string>();

  constructor(private readonly list: () => Promise<DownloadProgress[]>) {}

  note(p: DownloadProgress): void {
    if (p.state === 'done' && p.path) {
      const path = resolve(p.path);
      this.byId.set(p.downloadId, path);
      this.paths.add(path);
    }
  }

  /** The finished file of a download, asking the core when main has not seen it (e.g. after a restart). */
  async pathOf(downloadId: string): Promise<string | null> {
    if (!this.byId.has(downloadId)) await this.refresh();
    return this.byId.get(downloadId) ?? null;
  }

  async isDownloaded(path: string): Promise<boolean> {
    const p = resolve(path);
    if (!this.paths.has(p)) await this.refresh();
    return this.paths.has(p);
  }

  private async refresh(): Promise<void> {
    try {
      for (const d of await this.list()) this.note(d);
    } catch {
      /* the core is restarting: unknown for now */
    }
  }
}
