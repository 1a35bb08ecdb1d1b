// "Send test call" ids: the test call replays a seed flow with fresh ids whose 12-digit stamp starts
// with "00". 3CX stamps are yyMMddHHmmss, so a real call id never starts with "00" (the year 2000):
// the marker lives in the id itself, survives restarts and needs no extra column in the log.
const TEST_ID = /^00\d{10}(?:_|$)/;

let last = 0;

/** A 12-digit stamp "00" + seconds since 1970 (10 digits until 2286), never the same twice in a process. */
export function testCallStamp(nowMs = Date.now()): string {
  let n = Math.floor(nowMs / 1000) % 1e10;
  if (n <= last) n = last + 1;
  last = n;
  return `00${String(n).padStart(10, '0')}`;
}

/** Whether a call id is one of "Send test call"'s (shown as TEST, kept out of history and the missed badge). */
export function isTestCallId(id: string): boolean {
  return TEST_ID.test(id);
}
