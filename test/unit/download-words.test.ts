// A failed download as the agent reads it (renderer/src/common/download-words.ts): never the word
// "Refused" or a bare technical phrase, always what to do, for the core's own messages.
import { describe, expect, it } from 'vitest';
import { downloadProblem } from '../../renderer/src/common/download-words';
import { httpStatusError, notConfiguredMessage } from '../../main/core/download/errors';
import { checkRecordingUrl } from '../../main/core/download/url-policy';

const refusal = (url: string, pbx: string): string => {
  try {
    checkRecordingUrl(url, pbx);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('not refused');
};

describe('downloadProblem', () => {
  it('says where to look, in words an agent knows', () => {
    const cases: [string, RegExp][] = [
      [refusal('https://pbx.example.com:5001/webapi/recording/x.mp3', '127.0.0.1'), /not on your phone system \(127\.0\.0\.1\).*Settings → Recordings/],
      [refusal('ftp://127.0.0.1/x.mp3', '127.0.0.1'), /address looks wrong.*Settings → Recordings/],
      [notConfiguredMessage, /does not know where your phone system keeps recordings/],
      [httpStatusError(401).message, /user name and password.*Settings → Recordings/],
      [httpStatusError(403).message, /does not let you download/],
      [httpStatusError(404).message, /no longer has this recording/],
      ['Refused: the recording is larger than 500 MB', /larger than 500 MB/],
      ['Disk full: no space left in /home/a/Downloads for the recording', /no room left on the disk/],
      ['The PBX failed to send the recording (HTTP 502)', /Try again; if it keeps failing, ask your administrator/],
    ];
    for (const [message, said] of cases) {
      const text = downloadProblem(message);
      expect(text, message).toMatch(said);
      expect(text, message).not.toMatch(/Refused/);
    }
  });
});
