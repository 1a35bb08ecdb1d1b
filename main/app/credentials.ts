// Optional Basic credentials for recording URLs and the Callpop hub password, encrypted with Electron
// safeStorage (DPAPI, Keychain, libsecret) in <userData>/credentials.bin and hub-password.bin.
// Decrypted only in main and handed to the core in memory; never written in clear, never sent to a
// renderer. Where the OS offers no real encryption, nothing is saved.
import { readFile, rm, writeFile, rename } from 'node:fs/promises';
import type { ActionResult, HubPasswordView, RecordingCredentialsView, SetRecordingCredentials } from '../../shared/ipc/contract';
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

/** Where the hub password is kept: encrypted with safeStorage in the app, memory in browser tests. */
export interface HubPasswordPersistence {
  available(): boolean;
  load(): Promise<string | null>;
  save(password: string | null): Promise<void>;
}

export const HUB_PASSWORD_FILE = 'hub-password.bin';

/** The Callpop hub password, encrypted with safeStorage exactly like the recording credentials (its own file). */
export class HubPasswordStore implements HubPasswordPersistence {
  constructor(
    private readonly file: string,
    private readonly safe: SafeStorageLike,
  ) {}

  available(): boolean {
    if (!this.safe.isEncryptionAvailable()) return false;
    return this.safe.getSelectedStorageBackend?.() !== 'basic_text';
  }

  async load(): Promise<string | null> {
    let data: Buffer;
    try {
      data = await readFile(this.file);
    } catch {
      return null;
    }
    if (!this.safe.isEncryptionAvailable()) return null;
    const { result, shouldReEncrypt } = await this.safe.decryptStringAsync(data);
    if (result === '') return null;
    if (shouldReEncrypt) await this.save(result);
    return result;
  }

  async save(password: string | null): Promise<void> {
    if (password === null || password === '') {
      await rm(this.file, { force: true });
      return;
    }
    if (!this.available()) throw new Error('This system offers no secure storage for passwords; the hub password was not saved.');
    const enc = await this.safe.encryptStringAsync(password);
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, enc, { mode: 0o600 });
    await rename(tmp, this.file);
  }
}

/**
 * The hub password as Settings edits it: kept in memory for the core, a view that only says whether one
 * is saved (never the password), changes applied one at a time (persisted first, then announced).
 */
export class HubPasswordService {
  private current: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: HubPasswordPersistence,
    /** Called after every saved change, e.g. to hand the password to the core. */
    private readonly onChange: (password: string | null) => void,
  ) {}

  get value(): string | null {
    return this.current;
  }

  async load(): Promise<string | null> {
    try {
      this.current = await this.store.load();
      return null;
    } catch (e) {
      this.current = null;
      return `cannot read the saved hub password: ${errorLine(e)}`;
    }
  }

  view(): HubPasswordView {
    return { hasPassword: this.current !== null, available: this.store.available() };
  }

  set(args: { password: string } | { clear: true }): Promise<ActionResult> {
    const run = this.queue.then(async (): Promise<ActionResult> => {
      const next = 'clear' in args ? null : args.password;
      try {
        await this.store.save(next);
      } catch (e) {
        return { ok: false, error: errorLine(e) };
      }
      this.current = next;
      this.onChange(next);
      return { ok: true };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
