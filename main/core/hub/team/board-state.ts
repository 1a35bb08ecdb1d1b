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
  /** Extensions whose leg is still open (one to a few: an array, not a Set). */
  openLegs: string[];
}

/** Today's figures summed (over the calls folded so far, or those plus the live ones). */
interface Totals {
  answered: number;
  missed: number;
  waitSum: number;
  talkSum: number;
  talkN: number;
  byQueue: Map<string, { answered: number; abandoned: number; waitSum: number }>;
  byAgent: Map<string, { answered: number; talkSec: number }>;
}

const emptyTotals = (): Totals => ({ answered: 0, missed: 0, waitSum: 0, talkSum: 0, talkN: 0, byQueue: new Map(), byAgent: new Map() });

/**
 * A call ended this long ago (every leg) is folded into the day's sums and only its id is kept (so a late
 * change, a recording, does not count it twice): a busy day's calls one by one were ~350 bytes each
 * (200,000 calls: 70 MB of the hub's heap). As long as the tracker keeps an ended call, a new leg may
 * still open (a queue rings the next member, a transfer).
 */
export const BOARD_FOLD_AFTER_MS = 10 * 60_000;
/** The folded calls whose ids are kept each day (~60 bytes each). */
const MAX_FOLDED_IDS = 1_000_000;

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
  /** Today's calls still open or ended less than BOARD_FOLD_AFTER_MS ago. */
  private readonly today = new Map<string, CallStats>();
  /** Today's calls folded into `folded`. */
  private readonly foldedIds = new Set<string>();
  private folded = emptyTotals();
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
      if (this.foldedIds.has(r.id)) continue;
      let s = this.today.get(r.id);
      if (!s) {
        if (this.today.size >= 200_000) continue;
        this.today.set(r.id, (s = { queue: r.queue, startMs, answeredMs: null, answeredBy: null, endMs: null, talkSec: null, openLegs: [] }));
      }
      s.startMs = Math.min(s.startMs, startMs);
      s.queue ??= r.queue;
      const leg = s.openLegs.indexOf(r.extension);
      if (r.status === 'ended') {
        if (leg !== -1) s.openLegs.splice(leg, 1);
      } else if (leg === -1) s.openLegs.push(r.extension);
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
    for (const [id, s] of this.today) if (s.openLegs.length === 0) this.today.delete(id);
    this.foldedIds.clear();
    this.folded = emptyTotals();
  }

  /** Calls whose figures are kept one by one (open, or ended within BOARD_FOLD_AFTER_MS). */
  get callsKept(): number {
    return this.today.size;
  }

  /** Folds today's calls ended (every leg) more than BOARD_FOLD_AFTER_MS ago into the day's sums. */
  private fold(): void {
    const before = this.now() - BOARD_FOLD_AFTER_MS;
    for (const [id, s] of this.today) {
      if (s.openLegs.length > 0 || s.endMs === null || s.endMs > before) continue;
      this.today.delete(id);
      if (s.startMs < this.day) continue;
      add(this.folded, s);
      // Past a million calls in a day, a late change to one folded since may count it twice.
      if (this.foldedIds.size < MAX_FOLDED_IDS) this.foldedIds.add(id);
    }
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
    this.fold();
    const t: Totals = { ...this.folded, byQueue: new Map([...this.folded.byQueue].map(([q, v]) => [q, { ...v }])), byAgent: new Map([...this.folded.byAgent].map(([e, v]) => [e, { ...v }])) };
    for (const s of this.today.values()) if (s.startMs >= this.day) add(t, s);
    const byQueue: BoardMessage['today']['byQueue'] = {};
    let abandoned = 0;
    for (const [queue, q] of t.byQueue) {
      byQueue[queue] = { answered: q.answered, missed: 0, abandoned: q.abandoned, avgWaitSec: q.answered ? Math.round(q.waitSum / q.answered) : 0 };
      abandoned += q.abandoned;
    }
    const byAgent: BoardMessage['today']['byAgent'] = Object.fromEntries([...t.byAgent].map(([e, a]) => [e, { ...a }]));
    const d = new Date(this.day);
    const date = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    return { date, answered: t.answered, missed: t.missed, abandoned, avgWaitSec: t.answered ? Math.round(t.waitSum / t.answered) : 0, avgTalkSec: t.talkN ? Math.round(t.talkSum / t.talkN) : 0, byQueue, byAgent };
  }
}

/** Adds one call to the sums: answered (wait, and talk once ended), or missed (direct) / abandoned (queue) once every leg ended. */
function add(t: Totals, s: CallStats): void {
  let q = s.queue ? t.byQueue.get(s.queue) : undefined;
  if (s.queue && !q) t.byQueue.set(s.queue, (q = { answered: 0, abandoned: 0, waitSum: 0 }));
  if (s.answeredMs !== null) {
    const wait = Math.max(0, (s.answeredMs - s.startMs) / 1000);
    t.answered++;
    t.waitSum += wait;
    if (q) {
      q.answered++;
      q.waitSum += wait;
    }
    let a = t.byAgent.get(s.answeredBy!);
    if (!a) t.byAgent.set(s.answeredBy!, (a = { answered: 0, talkSec: 0 }));
    a.answered++;
    if (s.talkSec !== null) {
      a.talkSec += s.talkSec;
      t.talkSum += s.talkSec;
      t.talkN++;
    }
  } else if (s.endMs !== null && s.openLegs.length === 0) {
    if (q) q.abandoned++;
    else t.missed++;
  }
}
