// Pure pieces behind the caller context and the missed-call rules: outcome helper, line names, the
// "nothing from the PBX" rule, international numbers without "+", and the company from contacts files.
import { describe, expect, it } from 'vitest';
import { callOutcome, isMissedCall, matchesResultFilter, outcomeLabel } from '../../shared/call-outcome';
import { parseContacts } from '../../shared/contacts';
import { lineNameMap } from '../../shared/line-names';
import { formatPhone, toE164 } from '../../shared/phone';
import { applySettingsPatch, defaultSettings } from '../../shared/settings';
import { QUIET_MS, formatAgo, pbxSilent } from '../../renderer/src/window/pbx-activity';

describe('call outcome', () => {
  it('an own unanswered outgoing call is "Not answered", not missed', () => {
    const out = { direction: 'outgoing', result: 'missed', status: 'ended' } as const;
    const inc = { direction: 'incoming', result: 'missed', status: 'ended' } as const;
    expect(isMissedCall(out)).toBe(false);
    expect(isMissedCall(inc)).toBe(true);
    expect(outcomeLabel(out)).toBe('Not answered');
    expect(outcomeLabel(inc)).toBe('Missed');
    expect(matchesResultFilter(out, 'missed')).toBe(false);
    expect(matchesResultFilter(out, 'not-answered')).toBe(true);
    expect(matchesResultFilter(inc, 'not-answered')).toBe(false);
  });

  it('a talking call is "talking", never "answered"', () => {
    expect(callOutcome({ direction: 'incoming', result: 'answered', status: 'talking' })).toBe('talking');
    expect(callOutcome({ direction: 'outgoing', result: null, status: 'ringing' })).toBe('dialing');
  });
});

describe('queue and DID names', () => {
  it('reads "number = name" lines; the settings refuse other lines', () => {
    expect([...lineNameMap(['820 = Sales', ' 0212555000=Support line ', '800 = Reception'])]).toEqual([
      ['820', 'Sales'],
      ['0212555000', 'Support line'],
      ['800', 'Reception'],
    ]);
    expect(applySettingsPatch(defaultSettings(), { lineNames: ['820 = Sales'] }).ok).toBe(true);
    const bad = applySettingsPatch(defaultSettings(), { lineNames: ['Sales'] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors['lineNames.0']).toMatch(/number = name/);
  });
});

describe('PBX silence warning', () => {
  const monday10 = new Date(2026, 10, 30, 10, 0).getTime();
  const sunday10 = new Date(2026, 10, 29, 10, 0).getTime();
  it('warns after 45 quiet minutes in office hours only', () => {
    expect(pbxSilent(monday10 - QUIET_MS + 60_000, monday10)).toBe(false);
    expect(pbxSilent(monday10 - QUIET_MS, monday10)).toBe(true);
    expect(pbxSilent(sunday10 - 5 * QUIET_MS, sunday10)).toBe(false);
    expect(pbxSilent(null, monday10)).toBe(false);
  });
  it('says how long ago', () => {
    expect(formatAgo(monday10 - 20_000, monday10)).toBe('just now');
    expect(formatAgo(monday10 - 2 * 60_000, monday10)).toBe('2 min ago');
    expect(formatAgo(monday10 - 3 * 3600_000, monday10)).toBe('3 h ago');
  });
});

describe('international numbers without "+"', () => {
  it('are formatted when they parse as international and not as national', () => {
    expect(formatPhone('420774852629', 'TR')).toBe('+420 774 852 629');
    expect(toE164('442079460958', 'TR')).toBe('+442079460958');
    // National numbers and extensions stay what they were.
    expect(formatPhone('05551239988', 'TR')).toBe('0555 123 99 88');
    expect(formatPhone('204', 'TR')).toBe('204');
  });
});

describe('contacts company', () => {
  it('comes from a CSV Company column and a vCard ORG', () => {
    const csv = parseContacts('Name,Company,Phone\nAda Lovelace,Analytical Engines Ltd,0555 123 99 88\n', 'c.csv');
    expect(csv).toEqual([{ name: 'Ada Lovelace', company: 'Analytical Engines Ltd', numbers: ['0555 123 99 88'] }]);
    const vcf = parseContacts('BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nORG:Acme\\, Inc.;Sales\nTEL:+90 555 000 00 00\nEND:VCARD\n', 'c.vcf');
    expect(vcf).toEqual([{ name: 'Bob', company: 'Acme, Inc.', numbers: ['+90 555 000 00 00'] }]);
  });
});
