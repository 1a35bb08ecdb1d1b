// Optional Basic credentials for recording URLs, encrypted with Electron safeStorage (DPAPI,
// Keychain, libsecret) in <userData>/credentials.bin. Decrypted only in main and handed to the
// core in memory; never written in clear. Where the OS offers no real encryption, nothing is saved.
import { readFile, rm, writeFile, rename } from 'node:fs/promises';
import type { ActionResult, RecordingCredentialsView, SetRecordingCredentials } from '../../shared/ipc/contract';
import type { RecordingCredentials } from '../../shared/service-protocol';

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  getSelectedStorageBackend?(): string;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
}

export const CREDENTIALS_FILE = 'credentials.bin';

export class CredentialStore implements CredentialsPersistence {
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

/** Where the credentials are kept: the CredentialStore in the app, memory in browser tests. */
export interface CredentialsPersistence {
  available(): boolean;
  load(): Promise<RecordingCredentials | null>;
  save(creds: RecordingCredentials | null): Promise<void>;
}

/**
 * The recording credentials as Settings edits them: the saved pair in memory (for the core), a view
 * without the password, and updates applied one at a time (persisted first, then announced).
 */
export class RecordingCredentialsService {
  private current: RecordingCredentials | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: CredentialsPersistence,
    /** Called after every saved change, e.g. to hand the credentials to the core. */
    private readonly onChange: (creds: RecordingCredentials | null) => void,
  ) {}

  get value(): RecordingCredentials | null {
    return this.current;
  }

  /** Read the saved credentials; an unreadable file is reported and leaves none. */
  async load(): Promise<string | null> {
    try {
      this.current = await this.store.load();
      return null;
    } catch (e) {
      this.current = null;
      return `cannot read the saved recording credentials: ${errorLine(e)}`;
    }
  }

  view(): RecordingCredentialsView {
    return { username: this.current?.username ?? '', hasPassword: (this.current?.password ?? '') !== '', available: this.store.available() };
  }

  set(args: SetRecordingCredentials): Promise<ActionResult> {
    const run = this.queue.then(() => this.apply(args));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(args: SetRecordingCredentials): Promise<ActionResult> {
    let next: RecordingCredentials | null = null;
    if (!('clear' in args)) {
      const password = args.password ?? this.current?.password ?? '';
      next = args.username === '' && password === '' ? null : { username: args.username, password };
    }
    try {
      await this.store.save(next);
    } catch (e) {
      return { ok: false, error: errorLine(e) };
    }
    this.current = next;
    this.onChange(next);
    return { ok: true };
  }
}

const errorLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'unknown error';
