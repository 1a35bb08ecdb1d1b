// The countries the default country is chosen from (issue #20: "UK" typed as a country was saved and
// every number then showed as raw digits): the regions libphonenumber can format, by their name in the
// agent's language, with the ISO code beside it ("United Kingdom (GB)").
import { getCountries } from 'libphonenumber-js/min';

let cached: { value: string; label: string }[] | null = null;

export function countryOptions(current: string): { value: string; label: string }[] {
  if (!cached) {
    const names = new Intl.DisplayNames(undefined, { type: 'region' });
    cached = getCountries()
      .map((code) => ({ value: code, label: `${names.of(code) ?? code} (${code})` }))
      .sort((a, b) => a.label.localeCompare(b.label));
  }
  // A value set otherwise (an older settings file, a policy) still shows as chosen.
  return cached.some((o) => o.value === current) || current === '' ? cached : [{ value: current, label: current }, ...cached];
}
