import { describe, expect, it } from 'vitest';
import { formatPhone, matchesSearchKeys, joinSearchKeys, numberMatchKey, numberSearchKeys, querySearchKeys, toE164 } from '../../shared/phone';

/** What the call log does: some record key contains some query key. */
const finds = (query: string, stored: string, country: string): boolean =>
  matchesSearchKeys(joinSearchKeys(numberSearchKeys(stored, country)), querySearchKeys(query, country));

const sameLine = ['0555 123 99 88', '+90 555 123 99 88', '+905551239988', '00905551239988', '05551239988', '(0555) 123-99-88'];

describe('formatPhone', () => {
  it('uses the national format for the default country and the international one otherwise', () => {
    expect(formatPhone('+90 555 123 99 88', 'TR')).toBe('0555 123 99 88');
    expect(formatPhone('00905551239988', 'TR')).toBe('0555 123 99 88');
    expect(formatPhone('05551239988', 'TR')).toBe('0555 123 99 88');
    expect(formatPhone('+90 555 123 99 88', 'US')).toBe('+90 555 123 99 88');
    expect(formatPhone('0039 06 1234 5678', 'TR')).toBe('+39 06 1234 5678');
    expect(formatPhone('2125550100', 'US')).toBe('(212) 555-0100');
    expect(formatPhone('+90 555 123 99 88', 'tr')).toBe('0555 123 99 88');
  });

  it('returns extensions and odd strings unchanged', () => {
    for (const odd of ['204', '', 'MAKECALL', 'anonymous', '12', '+', '<script>']) expect(formatPhone(odd, 'TR')).toBe(odd);
    expect(formatPhone('05551239988', 'XX')).toBe('05551239988');
  });
});

describe('toE164', () => {
  it('normalises any format, or gives null', () => {
    for (const n of sameLine) expect(toE164(n, 'TR'), n).toBe('+905551239988');
    expect(toE164('00905551239988', 'US')).toBe('+905551239988');
    expect(toE164('204', 'TR')).toBeNull();
    expect(toE164('', 'TR')).toBeNull();
    expect(toE164('MAKECALL', 'TR')).toBeNull();
  });
});

describe('search keys', () => {
  it('lets every form of a number find every other (default country TR)', () => {
    for (const q of sameLine) for (const stored of sameLine) expect(finds(q, stored, 'TR'), `${q} → ${stored}`).toBe(true);
  });

  it('matches international forms whatever the default country', () => {
    const intl = ['+90 555 123 99 88', '+905551239988', '00905551239988'];
    for (const country of ['US', 'GB', 'DE']) {
      for (const q of intl) for (const stored of intl) expect(finds(q, stored, country), `${country}: ${q} → ${stored}`).toBe(true);
    }
  });

  it('matches partial input as a substring', () => {
    expect(finds('123 99', '+90 555 123 99 88', 'TR')).toBe(true);
    expect(finds('9988', '0555 123 99 88', 'US')).toBe(true);
    expect(finds('+90 555', '0555 123 99 88', 'TR')).toBe(true);
    expect(finds('123 98', '+90 555 123 99 88', 'TR')).toBe(false);
  });

  it('matches extensions by their digits and never matches without digits', () => {
    expect(finds('204', '204', 'TR')).toBe(true);
    expect(finds('205', '204', 'TR')).toBe(false);
    expect(querySearchKeys('Ayşe', 'TR')).toEqual([]);
    expect(numberSearchKeys('', 'TR')).toEqual([]);
    expect(finds('', '204', 'TR')).toBe(false);
  });

  it('does not confuse different numbers', () => {
    expect(finds('0555 123 99 88', '0555 123 99 87', 'TR')).toBe(false);
    expect(finds('+44 20 7946 0958', '+90 555 123 99 88', 'TR')).toBe(false);
  });
});

describe('numberMatchKey', () => {
  it('is the same for every form of one line and differs between lines', () => {
    const keys = new Set(sameLine.map((n) => numberMatchKey(n, 'TR')));
    expect([...keys]).toEqual(['5551239988']);
    expect(numberMatchKey('+1 212 555 0100', 'US')).toBe(numberMatchKey('1 (212) 555-0100', 'US'));
    expect(numberMatchKey('+39 06 1234 5678', 'IT')).toBe(numberMatchKey('06 1234 5678', 'IT'));
    expect(numberMatchKey('204', 'TR')).toBe('204');
    expect(numberMatchKey('204', 'TR')).not.toBe(numberMatchKey('2040', 'TR'));
    expect(numberMatchKey('', 'TR')).toBe('');
  });
});
