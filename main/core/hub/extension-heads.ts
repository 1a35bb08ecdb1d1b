// Each extension's latest change, as the hub published it (issue #22): a change message carries the
// seq of its extension's previous one (`prevSeq`), and with every heartbeat the hub says, on each
// recently changed extension's own `…/ext/{ext}/head` topic, the seq of its latest change. A client
// that has not applied that one missed it — lost in flight after the broker's PUBACK, as a cluster can
// when a node dies — and asks for a sync, even when that extension has no later change to reveal the
// gap. Heads go out for HEAD_BEATS heartbeats after a change: longer than a client waits before it
// takes a silent hub for gone (and then syncs when it hears it again), and costing nothing for the
// extensions that are quiet. QoS 0 and not retained: tiny, and a lost one is said again next beat.
import { HUB_PROTOCOL_VERSION, topics, type ExtensionHeadMessage } from '../../../shared/hub-protocol';

/** Heartbeats after an extension's last change during which its head is published. */
export const HEAD_BEATS = 4;

export class ExtensionHeads {
  /** Extension → the seq of its latest change since the hub started. */
  private readonly latest = new Map<string, number>();
  /** Extension → the beat count when it last changed (only those whose head still goes out). */
  private readonly recent = new Map<string, number>();
  private beats = 0;

  constructor(private readonly site: string) {}

  /** A change of `ext` got `seq`: returns the seq of the extension's previous change (undefined when not known since the start). */
  changed(ext: string, seq: number): number | undefined {
    const prev = this.latest.get(ext);
    this.latest.set(ext, seq);
    this.recent.set(ext, this.beats);
    return prev;
  }

  /** One heartbeat: the head messages to publish (topic, payload) for the extensions changed lately. */
  beat(): [string, string][] {
    this.beats++;
    const out: [string, string][] = [];
    for (const [ext, at] of this.recent) {
      if (this.beats - at > HEAD_BEATS) {
        this.recent.delete(ext);
        continue;
      }
      const message: ExtensionHeadMessage = { v: HUB_PROTOCOL_VERSION, seq: this.latest.get(ext)! };
      out.push([topics.head(this.site, ext), JSON.stringify(message)]);
    }
    return out;
  }
}
