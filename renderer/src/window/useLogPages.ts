// The log as a sparse array: pages of PAGE records fetched on demand with queryLog({offset, limit}),
// cached per filter. A new filter (or a change in the log) starts a new generation so late answers
// for an old filter are dropped. A pushed call update is applied to the cached rows at once (update):
// the unseen count drops with the same pushes, and a row must not keep its unseen dot until the
// reload that follows a change (throttled, then a round trip) brings the page again.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { CallView, LogFilter } from '../../../shared/ipc/contract';
import { api } from '../common/api';
import { dayKey } from '../common/format';

export const PAGE = 200;

interface Page {
  records: CallView[];
  /** Local day of each record, computed once when the page arrives (the list asks for it a lot). */
  days: string[];
}

export interface LogPages {
  /** Rows: missed calls from one number on one day are one row (missedGroup). */
  total: number | null;
  /** Calls the rows stand for. */
  calls: number | null;
  get(index: number): CallView | undefined;
  /** True when the row starts a new day (needs a day header); false while unknown. */
  isDayStart(index: number): boolean;
  /** Make sure the pages covering [first, last] are loaded or loading. */
  ensure(first: number, last: number): void;
  /** Reload what is on screen, keeping it visible meanwhile (the log changed). */
  invalidate(): void;
  /** A pushed update of a call: its row shows it now (a row of several missed calls, its seen state). */
  update(record: CallView): void;
  error: string | null;
}

export function useLogPages(filter: LogFilter): LogPages {
  const [total, setTotal] = useState<number | null>(null);
  const [calls, setCalls] = useState<number | null>(null);
  // Pages of one generation; a soft generation (a live reload) merges into what is on screen.
  const [pages, setPages] = useState<{ gen: number; map: ReadonlyMap<number, Page> }>(() => ({ gen: 0, map: new Map() }));
  const soft = useRef(new Set<number>());
  const [error, setError] = useState<string | null>(null);
  const gen = useRef(0);
  const requested = useRef(new Set<number>());
  const lastRange = useRef<[number, number]>([0, 0]);
  const filterRef = useRef(filter);
  // Calls an update already counted as seen in a missed-calls row, until the next load brings the truth.
  const countedSeen = useRef(new Set<string>());

  const load = useCallback((page: number) => {
    const g = gen.current;
    requested.current.add(page);
    api()
      .queryLog({ ...filterRef.current, groupMissed: true, offset: page * PAGE, limit: PAGE })
      .then((r) => {
        if (g !== gen.current) return;
        const entry: Page = { records: r.records, days: r.records.map((c) => dayKey(c.startedAt)) };
        for (const c of r.records) for (const id of c.missedGroup?.ids ?? []) countedSeen.current.delete(id);
        setPages((p) => ({ gen: g, map: new Map(p.gen === g || soft.current.has(g) ? p.map : []).set(page, entry) }));
        setError(null);
        setTotal(r.total);
        setCalls(r.calls ?? r.total);
      })
      .catch((e: unknown) => {
        if (g !== gen.current) return;
        requested.current.delete(page);
        setError(e instanceof Error ? e.message : String(e));
      });
  }, []);

  const ensure = useCallback(
    (first: number, last: number) => {
      lastRange.current = [first, last];
      const from = Math.floor(Math.max(0, first) / PAGE);
      const to = Math.floor(Math.max(0, last) / PAGE);
      for (let p = from; p <= to; p++) if (!requested.current.has(p)) load(p);
    },
    [load],
  );

  useEffect(() => {
    filterRef.current = filter;
    gen.current++;
    requested.current = new Set();
    lastRange.current = [0, 0];
    load(0);
  }, [filter, load]);

  const invalidate = useCallback(() => {
    gen.current++;
    requested.current = new Set();
    // Keep the on-screen pages until fresh ones arrive (no flicker on a live update).
    soft.current.add(gen.current);
    const from = Math.floor(lastRange.current[0] / PAGE);
    const to = Math.floor(lastRange.current[1] / PAGE);
    for (let p = from; p <= to; p++) load(p);
  }, [load]);

  const update = useCallback((record: CallView) => {
    const patch = (c: CallView): CallView => {
      let next = c.id === record.id ? { ...record, ...(c.missedGroup ? { missedGroup: c.missedGroup } : {}) } : c;
      const group = next.missedGroup;
      // One of the row's missed calls was marked seen (settling pushes each such call once).
      if (group && record.seen && group.ids.includes(record.id) && !countedSeen.current.has(record.id)) {
        countedSeen.current.add(record.id);
        next = { ...next, missedGroup: { ...group, unseen: Math.max(0, group.unseen - 1) } };
      }
      return next;
    };
    setPages((p) => {
      let changed = false;
      const map = new Map<number, Page>();
      for (const [n, page] of p.map) {
        const records = page.records.map(patch);
        if (records.some((c, i) => c !== page.records[i])) {
          changed = true;
          map.set(n, { ...page, records });
        } else map.set(n, page);
      }
      return changed ? { gen: p.gen, map } : p;
    });
  }, []);

  return useMemo(() => {
    const map = pages.map;
    const dayOf = (i: number) => map.get(Math.floor(i / PAGE))?.days[i % PAGE];
    return {
      total,
      calls,
      error,
      get: (i: number) => map.get(Math.floor(i / PAGE))?.records[i % PAGE],
      isDayStart: (i: number) => {
        const day = dayOf(i);
        if (day === undefined) return false;
        if (i === 0) return true;
        const prev = dayOf(i - 1);
        return prev !== undefined && prev !== day;
      },
      ensure,
      invalidate,
      update,
    };
  }, [total, calls, error, pages, ensure, invalidate, update]);
}
