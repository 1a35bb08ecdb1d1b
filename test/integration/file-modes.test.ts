// Private data is written owner-only (0600), like settings.json: the call log, contacts and
// downloaded recordings, checked on real files (POSIX modes; Windows has no such bits).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../shared/call-record';
import { logFileName } from '../../main/core/call-log/journal';
import { openCallLogStore } from '../../main/core/call-log/store';
import { contactsFileName, openContactsStore } from '../../main/core/contacts/store';
import { downloadRecording } from '../../main/core/download/downloader';
import { reserveUniqueName } from '../../main/core/download/unique-file';
import { serveBytes, startServer } from './fixtures/download/servers';
import type { TestServer } from './fixtures/download/servers';

const mode = (file: string): number => fs.statSync(file).mode & 0o777;
let dir = '';
let server: TestServer | null = null;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callpop-modes-'));
});
afterEach(async () => {
  await server?.close();
  server = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(process.platform === 'win32')('file modes', () => {
  it('the call log file is 0600', async () => {
    const store = await openCallLogStore(dir, { defaultCountry: 'US' });
    try {
      const startedAt = new Date().toISOString();
      await store.put([{ id: 'c1', direction: 'incoming', number: '+12125550123', extension: '117', queue: null, did: null, startedAt, durationSec: null, transferType: null, transferredTo: null, transferredFrom: null, answeredBy: null, recordings: [], seen: false, status: 'ringing', result: null, answeredAt: null, endedAt: null } as CallRecord]);
    } finally {
      await store.close();
    }
    expect(mode(path.join(dir, logFileName))).toBe(0o600);
  });

  it('contacts.json is 0600', async () => {
    const store = await openContactsStore(dir, { defaultCountry: 'US' });
    await store.import('Name,Phone\nAda,+1 212 555 0123\n', 'c.csv');
    expect(mode(path.join(dir, contactsFileName))).toBe(0o600);
  });

  it('a downloaded recording (and a reserved name) is 0600', async () => {
    const body = Buffer.from('ID3 recording bytes');
    server = await startServer((req, res) => serveBytes(body, res, req));
    const r = await downloadRecording(server.url('/webapi/recording/1-1.mp3'), { pbxHost: server.host, destDir: dir, fileName: 'call.mp3', retryDelayMs: 10 });
    expect(fs.readFileSync(r.path).equals(body)).toBe(true);
    expect(mode(r.path)).toBe(0o600);
    expect(mode(await reserveUniqueName(dir, 'other.mp3'))).toBe(0o600);
  });
});
