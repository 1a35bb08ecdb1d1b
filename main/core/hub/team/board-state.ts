// What the supervisors' board shows, kept up to date from the hub's call changes: each extension's
// state (free / ringing / talking / offline = no desktop connected) and since when, the callers
// waiting in each queue, and today's figures. "Today" is the hub machine's local day (its time zone):
// the figures start again at its midnight.
//
// Figures count PBX calls, not legs: one incoming call that rang three members is one call (by call id).
// answered = an incoming call someone took; missed = a direct incoming call nobody took; abandoned = a
// queue call nobody took (the caller gave up waiting). Wait = ring start → answer; talk = answer → end.
import type { CallRecord } from '../../../../shared/call-record';
import { isTestCallId } from '../../../../shared/test-call-id';
import { HUB_PROTOCOL_VERSION } from '../../../../shared/hub-protocol';
import type { BoardAgent, BoardAgentState, BoardMessage, BoardQueue } from '../../../../shared/team-protocol';
import { localDayStart } from './callbacks';

interface CallStats {
  queue: string | null;
  startMs: number;
  answeredMs: number | null;
  answeredBy: string | null;
  endMs: number | null;
  talkSec: number | null;
  openLegs: Set<string>;
}

export interface BoardInputs {
  /** Extensions to show with their names (every agent's extensions). */
  extensions: ReadonlyMap<string, string>;
  /** Extensions with a desktop connected; null when unknown (external broker: nobody is shown offline). */
  online: ReadonlySet<string> | null;
  /** Queues to show with their names. */
  queues: readonly { queue: string; name: string }[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const MAX_WAITING_SHOWN = 1000;

export class BoardState {
  /** ext → call id → its open record (ringing or talking). */
  private readonly open = new Map<string, Map<string, CallRecord>>();
  /** ext → [state, since ms] as last shown. */
  private readonly shown = new Map<string, [BoardAgentState, number, string | undefined]>();
  private readonly today = new Map<string, CallStats>();
  private day = 0;
  private seqNo = 0;

  constructor(private readonly now: () => number) {
    this.day = localDayStart(now());
  }

  /** Call record changes (or records restored at start: open calls, today's ended ones). */
  apply(records: readonly CallRecord[]): void {
    this.rollDay();
    for (const r of records) {
      if (isTestCallId(r.id)) continue;
      let calls = this.open.get(r.extension);
      if (r.status === 'ended') {
        calls?.delete(r.id);
        if (calls?.size === 0) this.open.delete(r.extension);
      } else {
        if (!calls) this.open.set(r.extension, (calls = new Map()));
        calls.set(r.id, r);
      }
      if (r.direction !== 'incoming') continue;
      const startMs = Date.parse(r.startedAt);
      if (startMs < this.day && r.status === 'ended') continue;
      let s = this.today.get(r.id);
      if (!s) {
        if (this.today.size >= 200_000) continue;
        this.today.set(r.id, (s = { queue: r.queue, startMs, answeredMs: null, answeredBy: null, endMs: null, talkSec: null, openLegs: new Set() }));
      }
      s.startMs = Math.min(s.startMs, startMs);
      s.queue ??= r.queue;
      if (r.status === 'ended') s.openLegs.delete(r.extension);
      else s.openLegs.add(r.extension);
      if (r.answeredAt && (r.status === 'talking' || r.result === 'answered')) {
        const a = Date.parse(r.answeredAt);
        if (s.answeredMs === null || a < s.answeredMs) {
          s.answeredMs = a;
          s.answeredBy = r.extension;
        }
        if (r.status === 'ended') {
          s.endMs = Date.parse(r.endedAt);
          s.talkSec = r.durationSec ?? Math.max(0, (s.endMs - a) / 1000);
        }
      } else if (r.status === 'ended') s.endMs = Math.max(s.endMs ?? 0, Date.parse(r.endedAt));
    }
  }

  private rollDay(): void {
    const d = localDayStart(this.now());
    if (d === this.day) return;
    this.day = d;
    for (const [id, s] of this.today) if (s.openLegs.size === 0) this.today.delete(id);
  }

  build(inputs: BoardInputs): BoardMessage {
    this.rollDay();
    const now = this.now();
    const agents: BoardAgent[] = [];
    for (const [ext, name] of inputs.extensions) {
      const calls = [...(this.open.get(ext)?.values() ?? [])];
      const talking = calls.find((c) => c.status === 'talking');
      const ringing = calls.find((c) => c.status === 'ringing');
      const call = talking ?? ringing;
      const state: BoardAgentState = talking ? 'talking' : ringing ? 'ringing' : inputs.online && !inputs.online.has(ext) ? 'offline' : 'free';
      const last = this.shown.get(ext);
      let since = now;
      if (call) since = Date.parse(talking?.answeredAt ?? call.startedAt);
      else if (last && last[0] === state) since = last[1];
      if (!last || last[0] !== state || last[1] !== since || last[2] !== call?.id) this.shown.set(ext, [state, since, call?.id]);
      agents.push({ ext, name, state, since: iso(since), ...(call && { callId: call.id, number: call.number.slice(0, 256) }) });
    }
    // Callers waiting: ringing queue calls no leg of which is talking yet.
    const waitingByQueue = new Map<string, Map<string, { callId: string; number: string; sinceMs: number }>>();
    const talkingIds = new Set<string>();
    for (const calls of this.open.values()) for (const c of calls.values()) if (c.status === 'talking') talkingIds.add(c.id);
    for (const calls of this.open.values()) {
      for (const c of calls.values()) {
        if (c.status !== 'ringing' || !c.queue || c.direction !== 'incoming' || talkingIds.has(c.id)) continue;
        let q = waitingByQueue.get(c.queue);
        if (!q) waitingByQueue.set(c.queue, (q = new Map()));
        const sinceMs = Date.parse(c.startedAt);
        const w = q.get(c.id);
        if (!w || sinceMs < w.sinceMs) q.set(c.id, { callId: c.id, number: c.number.slice(0, 256), sinceMs });
      }
    }
    const names = new Map(inputs.queues.map((q) => [q.queue, q.name]));
    for (const q of waitingByQueue.keys()) if (!names.has(q)) names.set(q, q);
    const queues: BoardQueue[] = [...names]
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .slice(0, 1000)
      .map(([queue, name]) => {
        const waiting = [...(waitingByQueue.get(queue)?.values() ?? [])].sort((a, b) => a.sinceMs - b.sinceMs);
        return {
          queue,
          name: name.slice(0, 128),
          waiting: waiting.slice(0, MAX_WAITING_SHOWN).map((w) => ({ callId: w.callId, number: w.number, since: iso(w.sinceMs) })),
          longestWaitSec: waiting.length > 0 ? Math.max(0, Math.round((now - waiting[0]!.sinceMs) / 1000)) : 0,
        };
      });
    return { v: HUB_PROTOCOL_VERSION, seq: ++this.seqNo, agents, queues, today: this.figures() };
  }

  private figures(): BoardMessage['today'] {
    let answered = 0;
    let missed = 0;
    let abandoned = 0;
    let waitSum = 0;
    let talkSum = 0;
    let talkN = 0;
    const byQueue: BoardMessage['today']['byQueue'] = {};
    const queueWait = new Map<string, [number, number]>();
    const byAgent: BoardMessage['today']['byAgent'] = {};
    for (const s of this.today.values()) {
      if (s.startMs < this.day) continue;
      const q = s.queue ? (byQueue[s.queue] ??= { answered: 0, missed: 0, abandoned: 0, avgWaitSec: 0 }) : null;
      if (s.answeredMs !== null) {
        answered++;
        const wait = Math.max(0, (s.answeredMs - s.startMs) / 1000);
        waitSum += wait;
        if (q) {
          q.answered++;
          const w = queueWait.get(s.queue!) ?? [0, 0];
          queueWait.set(s.queue!, [w[0] + wait, w[1] + 1]);
        }
        const a = (byAgent[s.answeredBy!] ??= { answered: 0, talkSec: 0 });
        a.answered++;
        if (s.talkSec !== null) {
          a.talkSec += s.talkSec;
          talkSum += s.talkSec;
          talkN++;
        }
      } else if (s.endMs !== null && s.openLegs.size === 0) {
        if (q) q.abandoned++;
        else missed++;
      }
    }
    for (const [queue, [sum, n]] of queueWait) byQueue[queue]!.avgWaitSec = Math.round(sum / n);
    for (const q of Object.values(byQueue)) abandoned += q.abandoned;
    const d = new Date(this.day);
    const date = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    return { date, answered, missed, abandoned, avgWaitSec: answered ? Math.round(waitSum / answered) : 0, avgTalkSec: talkN ? Math.round(talkSum / talkN) : 0, byQueue, byAgent };
  }
}
