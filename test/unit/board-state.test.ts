// Today's figures on the supervisors' board (main/core/hub/team/board-state.ts), from call record
// changes as the hub's tracker makes them: answered (wait, talk), missed (direct) and abandoned (queue)
// calls counted once per PBX call however many legs rang, per queue and per agent; and a call ended ten
// minutes ago folded into the day's sums (its figures unchanged, a late change to it not counted again,
// nothing kept of it but its id).
import { describe, expect, it } from 'vitest';
import { BOARD_FOLD_AFTER_MS, BoardState } from '../../main/core/hub/team/board-state';
import type { CallRecord } from '../../shared/call-record';
import { callRecord } from '../support/call-records';

const T0 = Date.parse('2026-12-07T09:00:00.000Z');
const at = (sec: number): string => new Date(T0 + sec * 1000).toISOString();
const inputs = { extensions: new Map([['101', 'Anna'], ['102', 'Bob'], ['103', 'Cem']]), online: null, queues: [{ queue: '820', name: 'Sales' }, { queue: '830', name: 'Support' }] };

/** A leg's changes: ringing from `ring`, answered at `answer` (or not), ended at `end`. */
function leg(id: string, ext: string, o: { queue?: string; ring: number; answer?: number; end: number }): CallRecord[] {
  const base = { id, extension: ext, queue: o.queue ?? null, number: '05551230000', startedAt: at(o.ring) };
  const out: CallRecord[] = [callRecord({ ...base, status: 'ringing', result: null, answeredAt: null, endedAt: null })];
  if (o.answer !== undefined) out.push(callRecord({ ...base, status: 'talking', result: null, answeredAt: at(o.answer), endedAt: null }));
  out.push(callRecord({ ...base, status: 'ended', result: o.answer !== undefined ? 'answered' : 'missed', answeredAt: o.answer !== undefined ? at(o.answer) : null, endedAt: at(o.end), durationSec: o.answer !== undefined ? o.end - o.answer : null }));
  return out;
}

/** A board fed a morning: a direct call answered, a direct call missed, a queue call that rang two and one took, a queue call nobody took. */
function morning(clock: { now: number }): BoardState {
  const board = new BoardState(() => clock.now);
  board.apply(leg('c1', '101', { ring: 0, answer: 5, end: 65 }));
  board.apply(leg('c2', '102', { ring: 10, end: 30 }));
  const q1 = leg('c3', '101', { queue: '820', ring: 40, end: 50 });
  const q2 = leg('c3', '102', { queue: '820', ring: 40, answer: 50, end: 80 });
  board.apply([q1[0]!, q2[0]!]);
  board.apply([q2[1]!, q1[1]!]);
  board.apply([q2[2]!]);
  board.apply(leg('c4', '103', { queue: '830', ring: 60, end: 90 }));
  return board;
}

const expected = {
  answered: 2,
  missed: 1,
  abandoned: 1,
  avgWaitSec: Math.round((5 + 10) / 2),
  avgTalkSec: Math.round((60 + 30) / 2),
  byQueue: { '820': { answered: 1, missed: 0, abandoned: 0, avgWaitSec: 10 }, '830': { answered: 0, missed: 0, abandoned: 1, avgWaitSec: 0 } },
  byAgent: { '101': { answered: 1, talkSec: 60 }, '102': { answered: 1, talkSec: 30 } },
};

describe("the board's figures for today", () => {
  it('counts each PBX call once: answered with its wait and talk, missed direct, abandoned in its queue', () => {
    const clock = { now: T0 + 100_000 };
    const board = morning(clock);
    expect(board.build(inputs).today).toMatchObject(expected);
    expect(board.build(inputs).agents.map((a) => a.state)).toEqual(['free', 'free', 'free']);
  });

  it('folds calls ended ten minutes ago into the day: the same figures, a late change not counted twice, only their ids kept', () => {
    const clock = { now: T0 + 100_000 };
    const board = morning(clock);
    expect(board.callsKept).toBe(4);
    clock.now = T0 + 90_000 + BOARD_FOLD_AFTER_MS + 1000;
    expect(board.build(inputs).today).toMatchObject(expected);
    expect(board.callsKept).toBe(0);
    // A recording ready for c1 (its record changes again, still ended and answered).
    board.apply([callRecord({ id: 'c1', extension: '101', number: '05551230000', startedAt: at(0), status: 'ended', result: 'answered', answeredAt: at(5), endedAt: at(65), durationSec: 60, recordings: ['https://pbx.example.com/recording/c1.wav'] })]);
    // A new call still counts, beside the folded ones.
    board.apply(leg('c5', '103', { ring: 800, answer: 802, end: 842 }));
    const today = board.build(inputs).today;
    expect(today).toMatchObject({ answered: 3, missed: 1, abandoned: 1, byAgent: { ...expected.byAgent, '103': { answered: 1, talkSec: 40 } } });
    expect(board.callsKept).toBe(1);
  });
});
