// maskPhoneNumbers on large adversarial input: the output is asserted (the speed is in
// bench/mask-phone-numbers.ts). Before the fix these inputs took seconds each.
import { describe, expect, it } from 'vitest';
import { maskPhoneNumbers } from '../../shared/diagnostics-log';

const N = 70_000;

describe('maskPhoneNumbers on 70 KB adversarial input', () => {
  it('a digit run glued to a letter on either side is not a phone number', () => {
    const tail = `${'1'.repeat(N)}x`;
    const head = `x${'1'.repeat(N)}`;
    expect(maskPhoneNumbers(tail)).toBe(tail);
    expect(maskPhoneNumbers(head)).toBe(head);
    expect(maskPhoneNumbers(`${'7'.repeat(N)}.5`)).toBe(`${'7'.repeat(N)}.5`);
  });

  it('a bare digit run is masked as one number', () => {
    expect(maskPhoneNumbers('1'.repeat(N))).toBe('111…11');
    expect(maskPhoneNumbers(`+${'9'.repeat(N)} end`)).toBe('+99…99 end');
  });

  it('a long spaced run ending at a dot keeps the last group out and masks the rest', () => {
    // " 1 1 … 1 1." : the last "1" touches the dot, so the number ends one group earlier.
    expect(maskPhoneNumbers(`${' 1'.repeat(N / 2)}.`)).toBe(' 1 1… 1 1.');
  });

  it('a call id with a huge digit run stays, the numbers around it are masked', () => {
    const id = `${'2'.repeat(N)}_10-0`;
    expect(maskPhoneNumbers(`call ${id} from 05551239988`)).toBe(`call ${id} from 055…88`);
  });

  it('many short ids and numbers in a row', () => {
    const line = 'id 230307114903_10-0 from +44 20 7946 0958 at 2026-12-01T10:00:00Z; ';
    const masked = 'id 230307114903_10-0 from +44…58 at 2026-12-01T10:00:00Z; ';
    expect(maskPhoneNumbers(line.repeat(1000))).toBe(masked.repeat(1000));
  });
});
