// A failed recording download in an agent's words, with what to do (issue #20: "Refused: the recording
// is on pbx.example.com:5001, not on the PBX (127.0.0.1)" meant nothing to an agent). The core's
// messages (main/core/download: errors.ts, url-policy.ts) are exact and stay as they are for the log
// file and `callpop download`; the UI shows this text and keeps the exact one as the tooltip.
const admin = 'ask your administrator to check';

const rules: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^Refused: the recording is on (.+), not on the PBX \((.+)\)$/, (m) => `This recording is on ${m[1]}, not on your phone system (${m[2]}), so Callpop did not fetch it: ${admin} the PBX address in Settings → Recordings.`],
  [/^Set the PBX address in Settings/, () => `Callpop does not know where your phone system keeps recordings yet: ${admin} the PBX address in Settings → Recordings.`],
  [/\(401\)|user name and password/, () => `The phone system wants a user name and password for recordings: ${admin} them in Settings → Recordings.`],
  [/\(403\)/, () => `The phone system does not let you download this recording: ${admin} your rights on the PBX.`],
  [/no recording at this address/, () => 'The phone system no longer has this recording (it may have been deleted or moved).'],
  [/certificate|fingerprint/i, () => `Callpop could not confirm it is talking to your phone system (its certificate): ${admin} Settings → Recordings.`],
  [/disk|space|ENOSPC/i, () => 'There is no room left on the disk for the recording: free some space and try again.'],
  [/folder|EACCES|EPERM/i, () => 'Callpop cannot save into the download folder: choose another one in Settings → Recordings.'],
  [/larger than (\d+) MB/, (m) => `This recording is larger than ${m[1]} MB, more than Callpop downloads: ask your administrator for it.`],
  [/^Refused: /, () => `Callpop did not fetch this recording because its address looks wrong: ${admin} the PBX address in Settings → Recordings.`],
];

/** The agent's message for a download error from the core. */
export function downloadProblem(message: string): string {
  for (const [re, say] of rules) {
    const m = re.exec(message);
    if (m) return say(m);
  }
  return `The recording could not be downloaded (${message.replace(/\.$/, '')}). Try again; if it keeps failing, ask your administrator.`;
}
