// Phone numbers: display formatting (libphonenumber-js, /min metadata to keep the renderer small) and
// search keys that let "0555 123 99 88", "+90 555 123 99 88", "00905551239988" and "05551239988"
// find each other.
//
// Search keys are computed without a full parse: parsing costs ~6 µs a number, too slow to key 100k
// log records on open. A key is the number's digits plus its "core": the national significant number
// (international prefix and calling code removed, one leading trunk "0" dropped). Matching is substring
// matching of query keys in record keys, so partial input ("123 99") works too.
import { getCountries, getCountryCallingCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/min';
import type { CountryCode } from 'libphonenumber-js/min';

// Non-geographic calling codes (freephone, satellite, …) are not attached to a country.
const nonGeographicCodes = ['800', '808', '870', '878', '881', '882', '883', '888', '979'];
let callingCodes: Set<string> | null = null;

function knownCallingCodes(): Set<string> {
  callingCodes ??= new Set([...getCountries().map((c) => getCountryCallingCode(c)), ...nonGeographicCodes]);
  return callingCodes;
}

function toCountry(code: string): CountryCode | undefined {
  const upper = code.toUpperCase();
  return isSupportedCountry(upper) ? upper : undefined;
}

const callingCodeCache = new Map<string, string | null>();
function callingCodeOf(country: string): string | null {
  let code = callingCodeCache.get(country);
  if (code === undefined) {
    const c = toCountry(country);
    code = c ? getCountryCallingCode(c) : null;
    callingCodeCache.set(country, code);
  }
  return code;
}

export const digitsOf = (text: string): string => text.replace(/\D+/g, '');

/** The digits after the international prefix ("+", "00", or "011" in NANP countries), or null for a national form. */
function internationalDigits(number: string, digits: string, defaultCountry: string): string | null {
  if (number.trimStart().startsWith('+')) return digits;
  if (digits.startsWith('00')) return digits.slice(2);
  if (digits.startsWith('011') && callingCodeOf(defaultCountry) === '1') return digits.slice(3);
  return null;
}

/** Drops the calling code from international digits (calling codes are prefix-free). */
function stripCallingCode(intl: string): string | null {
  const codes = knownCallingCodes();
  for (let len = 1; len <= 3 && len <= intl.length; len++) {
    if (codes.has(intl.slice(0, len))) return intl.slice(len);
  }
  return null;
}

const minCoreLength = 6;

function coreOf(number: string, digits: string, defaultCountry: string): string {
  let core = digits;
  const intl = internationalDigits(number, digits, defaultCountry);
  if (intl !== null) core = stripCallingCode(intl) ?? intl;
  else if (callingCodeOf(defaultCountry) === '1' && digits.length === 11 && digits.startsWith('1')) core = digits.slice(1);
  // One trunk "0" (TR, GB, DE, …; Italy's significant leading 0 is dropped on both sides alike).
  if (core.startsWith('0') && core.length > minCoreLength) core = core.slice(1);
  return core;
}

/**
 * The key two numbers share when they are the same line: "+90 555 123 99 88", "0555 123 99 88" and
 * "00905551239988" → "5551239988"; an extension "204" → "204". "" when there are no digits.
 */
export function numberMatchKey(number: string, defaultCountry: string): string {
  const digits = digitsOf(number);
  return digits === '' ? '' : coreOf(number, digits, defaultCountry);
}

/** Keys of a stored number; precompute them once per record. */
export function numberSearchKeys(number: string, defaultCountry: string): string[] {
  const digits = digitsOf(number);
  if (digits === '') return [];
  const core = coreOf(number, digits, defaultCountry);
  return core === digits ? [digits] : [digits, core];
}

/** Keys of what the user typed; [] when it has no digits (then it is a name search). */
export function querySearchKeys(text: string, defaultCountry: string): string[] {
  const digits = digitsOf(text);
  if (digits === '') return [];
  const intl = internationalDigits(text, digits, defaultCountry);
  // A partial international prefix ("+90") alone says nothing about the number.
  const core = intl !== null ? stripCallingCode(intl) : coreOf(text, digits, defaultCountry);
  const keys = [digits];
  if (core && core !== digits) keys.push(core.startsWith('0') && core.length > minCoreLength ? core.slice(1) : core);
  // A key containing another matches nothing more than that one: drop it (one substring test per record).
  return keys.filter((k) => !keys.some((other) => other !== k && k.includes(other)));
}

/** Record keys joined for fast matching: one `includes` per query key. */
export const searchKeySeparator = ',';
export const joinSearchKeys = (keys: readonly string[]): string => keys.join(searchKeySeparator);

/** True when a record's joined keys match any of the query keys. */
export function matchesSearchKeys(joinedRecordKeys: string, queryKeys: readonly string[]): boolean {
  for (const q of queryKeys) if (joinedRecordKeys.includes(q)) return true;
  return false;
}

function parse(number: string, defaultCountry: string) {
  const trimmed = number.trim();
  if (trimmed === '' || /[a-z]/i.test(trimmed)) return undefined;
  const digits = digitsOf(trimmed);
  const intl = internationalDigits(trimmed, digits, defaultCountry);
  const text = intl !== null ? `+${intl}` : trimmed;
  const parsed = parsePhoneNumberFromString(text, toCountry(defaultCountry));
  // Some trunks send international numbers without "+" or "00" ("420774852629"): when the digits are no
  // valid number of the default country but a valid international one, they are that.
  if (intl === null && digits.length >= 8 && !parsed?.isValid()) {
    const international = parsePhoneNumberFromString(`+${digits}`);
    if (international?.isValid()) return international;
  }
  return parsed?.isPossible() ? parsed : undefined;
}

/**
 * For display: national format for numbers of the default country ("0555 123 99 88"), international
 * otherwise ("+44 20 7946 0958"); extensions and anything unparseable are returned unchanged.
 */
export function formatPhone(number: string, defaultCountry: string): string {
  const parsed = parse(number, defaultCountry);
  if (!parsed) return number;
  return parsed.country !== undefined && parsed.country === toCountry(defaultCountry) ? parsed.formatNational() : parsed.formatInternational();
}

/** "+905551239988", or null when the text is not a possible phone number (e.g. an extension). */
export function toE164(number: string, defaultCountry: string): string | null {
  return parse(number, defaultCountry)?.number ?? null;
}
