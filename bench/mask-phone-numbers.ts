// mask-phone-numbers-70kb: ms for maskPhoneNumbers (the log file's safety net) over 70 KB of
// adversarial text, worst of the shapes below (each median of several runs). Before the fix a
// 70 KB digit run glued to a letter took seconds (quadratic); it should stay in single-digit ms.
//   node --import tsx bench/mask-phone-numbers.ts
import { maskPhoneNumbers } from '../shared/diagnostics-log';

const SIZE = 70_000;
const RUNS = 7;

const shapes: Record<string, string> = {
  'digits-then-letter': `${'1'.repeat(SIZE - 1)}x`,
  'letter-then-digits': `x${'1'.repeat(SIZE - 1)}`,
  'spaced-digits-then-dot': `${' 1'.repeat(SIZE / 2 - 1)}.`,
  'plus-digits': '+1'.repeat(SIZE / 2),
  'numbers-in-text': 'call from +44 20 7946 0958 at 2026-12-01T10:00:00Z id 230307114903_10-0; '.repeat(Math.ceil(SIZE / 75)).slice(0, SIZE),
};

let worst = 0;
for (const text of Object.values(shapes)) {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    maskPhoneNumbers(text);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  worst = Math.max(worst, times[Math.floor(RUNS / 2)]!);
}
console.log(`mask-phone-numbers-70kb: ${worst.toFixed(1)} ms`);
