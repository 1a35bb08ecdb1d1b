// Optional Basic credentials for recording URLs, encrypted with Electron safeStorage (DPAPI,
// Keychain, libsecret) in <userData>/credentials.bin. Decrypted only in main and handed to the
// core in memory; never written in clear. Where the OS offers no real encryption, nothing is saved.
import { readFile, rm, writeFile, rename } from 'node:fs/promises';
import type { RecordingCredentials } from '../../shared/service-protocol';

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  getSelectedStorageBackend?(): string;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
}

export const CREDENTIALS_FILE = 'credentials.bin';

export class CredentialStore {
  constructor(
    private readonly file: string,
    private readonly safe: SafeStorageLike,
  ) {}

  /** False on Linux without a keyring (safeStorage would fall back to a hard-coded key). */
  available(): boolean {
    if (!this.safe.isEncryptionAvailable()) return false;
    return this.safe.getSelectedStorageBackend?.() !== 'basic_text';
  }

  async load(): Promise<RecordingCredentials | null> {
    let data: Buffer;
    try {
      data = await readFile(this.file);
    } catch {
      return null;
    }
    if (!this.safe.isEncryptionAvailable()) return null;
    const { result, shouldReEncrypt } = await this.safe.decryptStringAsync(data);
    const parsed = JSON.parse(result) as Partial<RecordingCredentials>;
    if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') return null;
    const creds = { username: parsed.username, password: parsed.password };
    if (shouldReEncrypt) await this.save(creds);
    return creds;
  }

  async save(creds: RecordingCredentials | null): Promise<void> {
    if (creds === null || (creds.username === '' && creds.password === '')) {
      await rm(this.file, { force: true });
      return;
    }
    if (!this.available()) throw new Error('This system offers no secure storage for passwords; the credentials were not saved.');
    const enc = await this.safe.encryptStringAsync(JSON.stringify(creds));
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, enc, { mode: 0o600 });
    await rename(tmp, this.file);
  }
}
