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
export const HUB_PASSWORD_FILE = 'hub-password.bin';

/** Where a secret is kept: encrypted with safeStorage in the app, memory in browser tests. */
export interface SecretPersistence<T> {
  available(): boolean;
  load(): Promise<T | null>;
  save(value: T | null): Promise<void>;
}
export type CredentialsPersistence = SecretPersistence<RecordingCredentials>;
export type HubPasswordPersistence = SecretPersistence<string>;

/** One secret text in a file, encrypted with safeStorage (0600, replaced atomically). */
class EncryptedFile {
  constructor(
    private readonly file: string,
    private readonly safe: SafeStorageLike,
    /** What was not saved, for the error: "the credentials were", "the hub password was". */
    private readonly notSaved: string,
  ) {}

  /** False on Linux without a keyring (safeStorage would fall back to a hard-coded key). */
  available(): boolean {
    if (!this.safe.isEncryptionAvailable()) return false;
    return this.safe.getSelectedStorageBackend?.() !== 'basic_text';
  }

  /** The decrypted text, or null when there is no file (or no decryption on this system). */
  async read(): Promise<{ text: string; reEncrypt: boolean } | null> {
    let data: Buffer;
    try {
      data = await readFile(this.file);
    } catch {
      return null;
    }
    if (!this.safe.isEncryptionAvailable()) return null;
    const { result, shouldReEncrypt } = await this.safe.decryptStringAsync(data);
    return { text: result, reEncrypt: shouldReEncrypt };
  }

  /** Encrypts and stores the text; null removes the file. */
  async write(text: string | null): Promise<void> {
    if (text === null) {
      await rm(this.file, { force: true });
      return;
    }
    if (!this.available()) throw new Error(`This system offers no secure storage for passwords; ${this.notSaved} not saved.`);
    const enc = await this.safe.encryptStringAsync(text);
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, enc, { mode: 0o600 });
    await rename(tmp, this.file);
  }
}

/** The recording credentials, as JSON in their encrypted file. */
export class CredentialStore implements CredentialsPersistence {
  private readonly f: EncryptedFile;

  constructor(file: string, safe: SafeStorageLike) {
    this.f = new EncryptedFile(file, safe, 'the credentials were');
  }

  available(): boolean {
    return this.f.available();
  }

  async load(): Promise<RecordingCredentials | null> {
    const r = await this.f.read();
    if (!r) return null;
    const parsed = JSON.parse(r.text) as Partial<RecordingCredentials>;
    if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') return null;
    const creds = { username: parsed.username, password: parsed.password };
    if (r.reEncrypt) await this.save(creds);
    return creds;
  }

  async save(creds: RecordingCredentials | null): Promise<void> {
    await this.f.write(creds === null || (creds.username === '' && creds.password === '') ? null : JSON.stringify(creds));
  }
}

/** The Callpop hub password, encrypted exactly like the recording credentials (its own file). */
export class HubPasswordStore implements HubPasswordPersistence {
  private readonly f: EncryptedFile;

  constructor(file: string, safe: SafeStorageLike) {
    this.f = new EncryptedFile(file, safe, 'the hub password was');
  }

  available(): boolean {
    return this.f.available();
  }

  async load(): Promise<string | null> {
    const r = await this.f.read();
    if (!r || r.text === '') return null;
    if (r.reEncrypt) await this.save(r.text);
    return r.text;
  }

  async save(password: string | null): Promise<void> {
    await this.f.write(password === null || password === '' ? null : password);
  }
}

/**
 * A secret as Settings edits it: kept in memory for the core, changes applied one at a time (persisted
 * first, then announced), never shown back to a page.
 */
abstract class SavedSecret<T> {
  protected current: T | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    protected readonly store: SecretPersistence<T>,
    /** Called after every saved change, e.g. to hand the secret to the core. */
    private readonly onChange: (value: T | null) => void,
    /** For the load error: "recording credentials", "hub password". */
    private readonly what: string,
  ) {}

  get value(): T | null {
    return this.current;
  }

  /** Read the saved secret; an unreadable file is reported and leaves none. */
  async load(): Promise<string | null> {
    try {
      this.current = await this.store.load();
      return null;
    } catch (e) {
      this.current = null;
      return `cannot read the saved ${this.what}: ${errorLine(e)}`;
    }
  }

  /** Saves what `next` makes of the current value, after every change asked for before. */
  protected change(next: (current: T | null) => T | null): Promise<ActionResult> {
    const run = this.queue.then(async (): Promise<ActionResult> => {
      const value = next(this.current);
      try {
        await this.store.save(value);
      } catch (e) {
        return { ok: false, error: errorLine(e) };
      }
      this.current = value;
      this.onChange(value);
      return { ok: true };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The recording credentials: the view shows the user name and whether a password is saved. */
export class RecordingCredentialsService extends SavedSecret<RecordingCredentials> {
  constructor(store: CredentialsPersistence, onChange: (creds: RecordingCredentials | null) => void) {
    super(store, onChange, 'recording credentials');
  }

  view(): RecordingCredentialsView {
    return { username: this.current?.username ?? '', hasPassword: (this.current?.password ?? '') !== '', available: this.store.available() };
  }

  /** A new user name keeps the saved password unless a new one is given; both empty clear them. */
  set(args: SetRecordingCredentials): Promise<ActionResult> {
    return this.change((current) => {
      if ('clear' in args) return null;
      const password = args.password ?? current?.password ?? '';
      return args.username === '' && password === '' ? null : { username: args.username, password };
    });
  }
}

/** The hub password: the view only says whether one is saved. */
export class HubPasswordService extends SavedSecret<string> {
  constructor(store: HubPasswordPersistence, onChange: (password: string | null) => void) {
    super(store, onChange, 'hub password');
  }

  view(): HubPasswordView {
    return { hasPassword: this.current !== null, available: this.store.available() };
  }

  set(args: { password: string } | { clear: true }): Promise<ActionResult> {
    return this.change(() => ('clear' in args ? null : args.password));
  }
}

const errorLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? 'unknown error';
