// The hub's ingest: a webhook from the PBX becomes tracker changes, each with the next hub seq, which
// are published on the extension's `calls` topic before the disk (a pop is never held up by it) and
// acknowledged only once the hub log and the team's callbacks hold them (else 503 and the PBX
// retries). The order and the re-queue of a failed write are CommitPipeline's (../feed/commit-pipeline.ts);
// this file says what a hub commit writes and publishes. Part of startHub (./hub.ts).
import { callRecordSchema, type CallRecord, type CallUpdate, type HubCallUpdate } from '../../../shared/call-record';
import { HUB_PROTOCOL_VERSION, topics, type CallChangeMessage } from '../../../shared/hub-protocol';
import type { Logger } from '../../../shared/diagnostics-log';
import type { PbxTracker } from '../../../shared/tracking/pbx-tracker';
import type { RawWebhook } from '../../../shared/webhook/event';
import { parseWebhook } from '../../../shared/webhook/parse';
import type { WebhookOutcome } from '../listener/listener';
import type { CommitPipeline } from '../feed/commit-pipeline';
import type { HubLog } from './log/hub-log';
import type { ExtensionHeads } from './extension-heads';

export interface HubIngestOptions {
  site: string;
  log: HubLog;
  tracker: PbxTracker;
  pipeline: CommitPipeline<HubCallUpdate>;
  /** Publishes a call change (QoS 0, not retained: see startHub); failures are the caller's to log. */
  publish(topic: string, payload: string): void;
  /** An extension's calls changed (its open list is republished: ./open-lists.ts). */
  openChanged(ext: string): void;
  /** The team's callbacks settle on the same records; resolves once their file holds them. */
  teamRecords(records: CallRecord[]): Promise<void>;
  /** Each extension's latest change (a change message's prevSeq; the heads said with the heartbeat). */
  heads: ExtensionHeads;
  logger: Logger;
}

const ok: WebhookOutcome = { status: 'ok' };

export class HubIngest {
  constructor(private readonly o: HubIngestOptions) {}

  /** One webhook (what the listener calls); resolves when durable. */
  ingest(raw: RawWebhook): Promise<WebhookOutcome> {
    const parsed = parseWebhook(raw);
    if (!parsed.ok) return Promise.resolve({ status: 'invalid', reason: parsed.error });
    let updates: CallUpdate[];
    try {
      updates = this.o.tracker.apply(parsed.event);
    } catch (e) {
      this.o.logger.error(`Tracker failed on a ${parsed.event.type} event: ${(e as Error).message}`);
      return Promise.resolve(ok);
    }
    // No change (e.g. the PBX's retry): still wait for what was accepted before (it may yet fail).
    return this.commit(updates).then(() => ok);
  }

  /** Timed-out calls closed, and a failed write tried again. */
  tick(): void {
    try {
      const updates = this.o.tracker.tick();
      if (updates.length > 0 || this.o.log.hasDirty) this.commit(updates).catch(() => {});
    } catch (e) {
      this.o.logger.error(`Tracker tick failed: ${(e as Error).message}`);
    }
  }

  private commit(all: CallUpdate[]): Promise<void> {
    const { log, pipeline, site } = this.o;
    const updates = all.filter((u) => this.valid(u.record));
    if (updates.length === 0 && !log.hasDirty) return pipeline.flush();
    const { seqs, durable } = updates.length > 0 ? log.append(updates.map((u) => u.record)) : { seqs: [], durable: log.retryDirty() };
    const changes = updates.map((u, i): HubCallUpdate => ({ ...u, seq: seqs[i]! }));
    const exts = new Set<string>();
    for (const c of changes) {
      const ext = c.record.extension;
      const prevSeq = this.o.heads.changed(ext, c.seq);
      const message: CallChangeMessage = { v: HUB_PROTOCOL_VERSION, seq: c.seq, change: c.change, record: c.record, ...(prevSeq !== undefined && { prevSeq }) };
      this.o.publish(topics.calls(site, c.record.extension), JSON.stringify(message));
      exts.add(c.record.extension);
    }
    for (const ext of exts) this.o.openChanged(ext);
    // The team's callbacks settle on the same records (their own file, fsync'ed): acknowledged after both.
    const teamDurable = updates.length > 0 ? this.o.teamRecords(updates.map((u) => u.record)) : undefined;
    return pipeline.run(changes, () => Promise.all([durable, teamDurable]));
  }

  private valid(r: CallRecord): boolean {
    const parsed = callRecordSchema.safeParse(r);
    if (!parsed.success) this.o.logger.error(`Tracker made an invalid record for call ${JSON.stringify(String(r.id))} (${parsed.error.issues[0]?.message ?? 'invalid'}); not saved`);
    return parsed.success;
  }
}
