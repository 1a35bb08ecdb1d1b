// Live timers ("talking 2:03", "waiting 0:41") for a board of up to thousands of them: one interval
// writes every timer's text directly, instead of re-rendering React components every second (a board
// of 1,000 agents must still draw each frame in well under 16.7 ms).
import { useLayoutEffect, useRef, type RefObject } from 'react';
import { formatDuration } from '../../src/common/format';

const timers = new Set<HTMLElement>();
let interval: ReturnType<typeof setInterval> | null = null;

function write(el: HTMLElement, now: number): void {
  const since = Number(el.dataset.since);
  const text = Number.isFinite(since) ? formatDuration(Math.max(0, (now - since) / 1000)) : '–';
  if (el.textContent !== text) el.textContent = text;
}

function tickAll(): void {
  const now = Date.now();
  for (const el of timers) write(el, now);
}

/** A span whose text counts up from `iso`. */
export function useSince(iso: string): RefObject<HTMLSpanElement | null> {
  const ref = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.dataset.since = String(Date.parse(iso));
    write(el, Date.now());
    timers.add(el);
    interval ??= setInterval(tickAll, 1000);
    return () => {
      timers.delete(el);
      if (timers.size === 0 && interval) {
        clearInterval(interval);
        interval = null;
      }
    };
  }, [iso]);
  return ref;
}
