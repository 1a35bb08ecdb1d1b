// The hub's retained open-call lists, one topic per extension (`open/{ext}`): what a desktop that
// connects now shows before any change arrives. Part of startHub (./hub.ts), which calls `changed`
// for every extension a commit touched and `republish` whenever the broker may have lost them.
//
// The list of an extension whose calls change is republished at once, then at most every
// OPEN_LIST_MS while changes keep coming (the last one always goes out): each change already goes
// out on `calls` at once, and re-serialising a long list (up to 1,000 calls) on every webhook of a
// busy extension would cost O(list) per webhook.
import type { CallRecord } from '../../../shared/call-record';
import { HUB_PROTOCOL_VERSION, topics, type OpenCallsMessage } from '../../../shared/hub-protocol';

export interface OpenListsOptions {
  site: string;
  /** At most this often per extension (OPEN_LIST_MS by default, set by ./hub.ts). */
  openListMs: number;
  /** Retained publish; failures are the caller's to log. */
  publish(topic: string, payload: string, retain: boolean): void;
  /** The tracker's open calls (of one extension, or all). */
  openCalls(ext?: string): CallRecord[];
  /** The hub log's latest seq (the list's watermark). */
  head(): number;
}

export class OpenLists {
  /** Extensions whose retained open list was published (republished after an external reconnect). */
  private readonly known = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly sentAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: OpenListsOptions) {}

  /** Publishes the extension's list now. */
  publish(ext: string): void {
    this.known.add(ext);
    const message: OpenCallsMessage = { v: HUB_PROTOCOL_VERSION, seq: this.o.head(), calls: this.o.openCalls(ext).slice(0, 1000) };
    this.o.publish(topics.open(this.o.site, ext), JSON.stringify(message), true);
  }

  isKnown(ext: string): boolean {
    return this.known.has(ext);
  }

  /** The extension's calls changed: its list goes out now, or within openListMs. */
  changed(ext: string): void {
    if (this.dirty.has(ext)) return;
    const last = this.sentAt.get(ext);
    if (last === undefined || Date.now() - last >= this.o.openListMs) return this.send(ext);
    this.dirty.add(ext);
    this.timer ??= setTimeout(() => this.flush(), this.o.openListMs);
  }

  /** Sends every list still waiting (and stops the timer). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const exts = [...this.dirty];
    this.dirty.clear();
    for (const ext of exts) this.send(ext);
  }

  /** Every list published so far, then `also`'s and those of extensions with open calls. */
  republish(also: Iterable<string>): void {
    const exts = new Set<string>([...this.known, ...also, ...this.o.openCalls().map((r) => r.extension)]);
    for (const ext of exts) this.publish(ext);
  }

  private send(ext: string): void {
    this.sentAt.set(ext, Date.now());
    this.publish(ext);
  }
}
