// The personal call log: filters (one row; a Filters popover when narrow), column headers, a virtualized
// day-grouped list over the whole log (pages fetched on demand), missed-call handling, export, and the
// selected call's details (beside the list when wide, over it as an overlay when narrow).
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { CallView, DownloadProgress, ExportFormat, LogFilter, NavigateTarget } from '../../../shared/ipc/contract';
import type { Direction } from '../../../shared/call-record';
import { isMissedCall, outcomeLabels, type ResultFilter } from '../../../shared/call-outcome';
import type { Settings } from '../../../shared/settings';
import { api } from '../common/api';
import { formatDay } from '../common/format';
import { useDebounced } from '../common/hooks';
import { CallListHeader, CallRow } from './CallRow';
import { CallDetails } from './CallDetails';
import { useLogPages } from './useLogPages';
import { useToast } from './Toast';

const ROW = 44;
const DAY_HEADER = 30;

interface Props {
  settings: Settings;
  downloads: Map<string, DownloadProgress>;
  missedUnseen: number;
  openCallId?: string | undefined;
  /** The navigation that opened the log: its `search` fills the search box (a caller's calls). */
  openTarget?: NavigateTarget | undefined;
  /** Bumped by Ctrl+F or "/": the search box takes the focus. */
  focusSearch?: number | undefined;
}

/** Local day "2026-11-24" → ISO instant of its start / end. */
const dayStart = (d: string) => (d ? new Date(`${d}T00:00:00`).toISOString() : undefined);
const dayEnd = (d: string) => (d ? new Date(`${d}T23:59:59.999`).toISOString() : undefined);

export function LogView({ settings, downloads, missedUnseen, openCallId, openTarget, focusSearch = 0 }: Props) {
  const searchRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (focusSearch > 0) searchRef.current?.focus();
  }, [focusSearch]);
  const [direction, setDirection] = useState<Direction | ''>('');
  const [result, setResult] = useState<ResultFilter | ''>('');
  const [filtersOpen, setFiltersOpen] = useState(false);
  const [datesOpen, setDatesOpen] = useState(false);
  const datesRef = useRef<HTMLDivElement>(null);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [unseenOnly, setUnseenOnly] = useState(false);
  const debouncedText = useDebounced(text.trim(), 150);
  const [selectedId, setSelectedId] = useState<string | null>(openCallId ?? null);
  const [selected, setSelected] = useState<CallView | null>(null);
  // Messages after a click float in a toast: nothing above the list may appear and move it.
  const { toast, show: showMessage } = useToast();

  const filter = useMemo<LogFilter>(
    () => ({
      direction: direction || undefined,
      result: result || undefined,
      from: dayStart(from),
      to: dayEnd(to),
      text: debouncedText || undefined,
      unseenOnly: unseenOnly || undefined,
    }),
    [direction, result, from, to, debouncedText, unseenOnly],
  );
  const log = useLogPages(filter);
  const filtersRef = useRef<HTMLFormElement>(null);
  // The Filters popover closes on a click anywhere else.
  useEffect(() => {
    if (!filtersOpen) return;
    const onDown = (e: MouseEvent) => {
      if (!filtersRef.current?.contains(e.target as Node)) setFiltersOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [filtersOpen]);
  useEffect(() => {
    if (!datesOpen) return;
    const onDown = (e: MouseEvent) => {
      if (!datesRef.current?.contains(e.target as Node)) setDatesOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [datesOpen]);
  const scrollRef = useRef<HTMLDivElement>(null);
  // A new filter starts at the top of its results.
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [filter]);
  const total = log.total ?? 0;

  const isDayStart = log.isDayStart;

  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualizer is read during render by design
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => ROW + (isDayStart(i) ? DAY_HEADER : 0),
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;

  useEffect(() => {
    if (total > 0) log.ensure(first, last);
  }, [first, last, total, log]);
  // Day headers are known only once rows arrive: re-measure then.
  useEffect(() => {
    virtualizer.measure();
  }, [log, virtualizer]);

  // Live updates: reload what is on screen, at most every 500 ms.
  const invalidate = log.invalidate;
  const updateRow = log.update;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const soon = () => {
      timer ??= setTimeout(() => {
        timer = null;
        invalidate();
      }, 500);
    };
    // The row changes with the push (its unseen dot goes as the count drops); the reload follows.
    const offCall = api().onCallUpdate(({ record }) => {
      updateRow(record);
      soon();
    });
    const offLog = api().onLogChanged(soon);
    return () => {
      if (timer) clearTimeout(timer);
      offCall();
      offLog();
    };
  }, [invalidate, updateRow]);

  // The selected call: from the list when loaded, else fetched (e.g. opened from a notification).
  useEffect(() => {
    if (openCallId) setSelectedId(openCallId);
  }, [openCallId]);
  // Each navigation with a search (history's "N earlier calls", Enter on a popup card) shows that caller's calls.
  useEffect(() => {
    if (openTarget?.search !== undefined) setText(openTarget.search);
  }, [openTarget]);
  useEffect(() => {
    if (!selectedId) return;
    let live = true;
    void api()
      .getCall(selectedId)
      .then((c) => {
        if (!live) return;
        setSelected(c);
        // Opening a missed call is looking at it: it no longer counts as unseen.
        if (c && c.status === 'ended' && isMissedCall(c) && !c.seen) void api().markSeen([c.id]);
      });
    const off = api().onCallUpdate(({ record }) => record.id === selectedId && setSelected(record));
    return () => {
      live = false;
      off();
    };
  }, [selectedId]);

  const markAllSeen = async () => {
    await api().markSeen();
    log.invalidate();
  };
  const exportAs = async (format: ExportFormat) => {
    const r = await api().exportLog({ format, filter });
    if (r.ok) showMessage(`Exported ${r.count} call${r.count === 1 ? '' : 's'} to ${r.path}`, false);
    else if (!r.canceled) showMessage(`Export failed: ${r.error}`, true);
  };
  const onDeleted = () => {
    setSelectedId(null);
    setSelected(null);
    log.invalidate();
  };

  const focusRow = (index: number) => {
    if (index < 0 || index >= total) return;
    virtualizer.scrollToIndex(index, { align: 'auto' });
    requestAnimationFrame(() => scrollRef.current?.querySelector<HTMLElement>(`[data-index="${index}"] .call-row`)?.focus());
  };
  // Esc in the details returns the focus to the row it was opened from.
  const closeDetails = () => {
    const id = selectedId;
    setSelectedId(null);
    setSelected(null);
    requestAnimationFrame(() => {
      const row = [...(scrollRef.current?.querySelectorAll<HTMLElement>('[data-call-id]') ?? [])].find((el) => el.dataset.callId === id);
      row?.querySelector<HTMLElement>('.call-row')?.focus();
    });
  };

  const anyFilter = direction || result || from || to || text || unseenOnly;
  const fieldFilters = [direction, result].filter(Boolean).length;

  return (
    <div className={`log-view ${selected ? 'with-details' : ''}`}>
      <section className="log-main" aria-label="Call log">
        <form ref={filtersRef} className="filters" role="search" aria-label="Filter calls" onSubmit={(e) => e.preventDefault()}>
          <label className="search">
            <span className="sr-only">Search number, name, company, note or queue</span>
            <input ref={searchRef} type="search" placeholder="Number, name, note, queue…" value={text} onChange={(e) => setText(e.target.value)} maxLength={100} />
          </label>
          <button
            type="button"
            className="filters-toggle"
            aria-expanded={filtersOpen}
            aria-controls="filter-fields"
            onClick={() => setFiltersOpen((o) => !o)}
          >
            Filters{fieldFilters > 0 ? ` (${fieldFilters})` : ''}
          </button>
          <div
            id="filter-fields"
            className={`filter-fields ${filtersOpen ? 'open' : ''}`}
            onKeyDown={(e) => {
              if (e.key === 'Escape' && filtersOpen) {
                e.stopPropagation();
                setFiltersOpen(false);
              }
            }}
          >
            <label>
              <span className="lbl">Direction</span>
              <select value={direction} onChange={(e) => setDirection(e.target.value as Direction | '')}>
                <option value="">All</option>
                <option value="incoming">Incoming</option>
                <option value="outgoing">Outgoing</option>
              </select>
            </label>
            <label>
              <span className="lbl">Result</span>
              <select value={result} onChange={(e) => setResult(e.target.value as ResultFilter | '')}>
                <option value="">All</option>
                <option value="answered">Answered</option>
                <option value="missed">Missed</option>
                <option value="rang-out">{outcomeLabels['rang-out']}</option>
                <option value="not-answered">Not answered</option>
                <option value="answered-elsewhere">Answered elsewhere</option>
              </select>
            </label>
          </div>
          <div
            className="dates"
            ref={datesRef}
            onKeyDown={(e) => {
              if (e.key === 'Escape' && datesOpen) {
                e.stopPropagation();
                setDatesOpen(false);
              }
            }}
          >
            <button type="button" className="dates-toggle" aria-expanded={datesOpen} aria-controls="date-fields" onClick={() => setDatesOpen((o) => !o)}>
              {from || to ? `Dates: ${from || '…'} – ${to || '…'}` : 'Dates'}
            </button>
            <div id="date-fields" className={`date-fields ${datesOpen ? 'open' : ''}`}>
              <label>
                <span className="lbl">From</span>
                <input type="date" value={from} max={to || undefined} onChange={(e) => setFrom(e.target.value)} />
              </label>
              <label>
                <span className="lbl">To</span>
                <input type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} />
              </label>
            </div>
          </div>
          {anyFilter && (
            <button
              type="button"
              className="link"
              onClick={() => {
                setDirection('');
                setResult('');
                setFrom('');
                setTo('');
                setText('');
                setUnseenOnly(false);
              }}
            >
              Clear filters
            </button>
          )}
        </form>
        <div className="log-toolbar">
          <span className="total" role="status" aria-live="polite">
            {log.calls === null ? 'Loading…' : `${log.calls.toLocaleString()} call${log.calls === 1 ? '' : 's'}`}
          </span>
          <span className="missed-unseen">
            {missedUnseen > 0 ? `${missedUnseen} missed not seen` : 'No unseen missed calls'}
          </span>
          <label className="check">
            <input type="checkbox" checked={unseenOnly} onChange={(e) => setUnseenOnly(e.target.checked)} />
            <span>Unseen only</span>
          </label>
          <button type="button" onClick={() => void markAllSeen()} disabled={missedUnseen === 0}>
            Mark all seen
          </button>
          <span className="spacer" />
          <button type="button" onClick={() => void exportAs('csv')} aria-label="Export CSV">
            <span className="wide-only">Export </span>CSV
          </button>
          <button type="button" onClick={() => void exportAs('json')} aria-label="Export JSON">
            <span className="wide-only">Export </span>JSON
          </button>
        </div>
        {log.error && (
          <p className="banner error" role="alert">
            Could not load the log: {log.error}
          </p>
        )}
        <CallListHeader />
        <div ref={scrollRef} className="log-scroll" role="list" aria-label="Calls, newest first">
          {log.total === 0 && <p className="muted pad">{anyFilter ? 'No calls match these filters.' : 'No calls yet.'}</p>}
          <div className="log-inner" style={{ height: virtualizer.getTotalSize() }}>
            {items.map((it) => {
              const r = log.get(it.index);
              const header = isDayStart(it.index);
              return (
                <div
                  key={it.key}
                  role="listitem"
                  aria-setsize={total}
                  aria-posinset={it.index + 1}
                  data-index={it.index}
                  data-call-id={r?.id}
                  className="log-item"
                  style={{ transform: `translateY(${it.start}px)`, height: it.size }}
                >
                  {header && r && <div className="day-header">{formatDay(r.startedAt)}</div>}
                  {r ? (
                    <CallRow
                      call={r}
                      country={settings.defaultCountry}
                      downloads={downloads}
                      selected={r.id === selectedId}
                      onOpen={() => {
                        setSelectedId(r.id);
                        // Opening a row of several missed calls is looking at all of them.
                        if (r.missedGroup && r.missedGroup.unseen > 0) void api().markSeen(r.missedGroup.ids);
                      }}
                      onMessage={(t, error) => error && showMessage(t, true)}
                      onKeyDown={(e) => {
                        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                          e.preventDefault();
                          focusRow(it.index + (e.key === 'ArrowDown' ? 1 : -1));
                        }
                      }}
                    />
                  ) : (
                    <div className="call-row placeholder" aria-hidden="true" />
                  )}
                </div>
              );
            })}
          </div>
        </div>
      </section>
      {toast}
      {selected && (
        <CallDetails
          key={selected.id}
          call={selected}
          settings={settings}
          downloads={downloads}
          onClose={closeDetails}
          onDeleted={onDeleted}
        />
      )}
    </div>
  );
}
