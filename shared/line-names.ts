// Names for queues, ring groups and DIDs ("820 = Sales"), set in Settings or by the machine policy,
// so the popup and the log say "Sales" instead of a bare number.

/** One "820 = Sales" line: an id of digits/letters/+*#_- and a name (no "="), both trimmed. */
export const lineNamePattern = /^\s*([0-9A-Za-z+*#_-]{1,64})\s*=\s*([^=\p{Cc}]{1,60}?)\s*$/u;

/** The settings' lines as id → name (later lines win); invalid lines are skipped. */
export function lineNameMap(lines: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of lines) {
    const m = lineNamePattern.exec(line);
    if (m && m[2]!.trim() !== '') map.set(m[1]!, m[2]!.trim());
  }
  return map;
}
