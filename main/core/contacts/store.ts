// The user's imported contacts: <dataDir>/contacts.json (replaced atomically), looked up by number for
// popups and the log, and by name for log search.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { cleanName, maxNameLength, parseContacts } from '../../../shared/contacts';
import type { Contact } from '../../../shared/contacts';
import { silentLogger } from '../../../shared/diagnostics-log';
import type { Logger } from '../../../shared/diagnostics-log';
import { numberMatchKey } from '../../../shared/phone';

export const contactsFileName = 'contacts.json';

const fileSchema = z.object({
  version: z.literal(1),
  contacts: z.array(
    z.object({ name: z.string().min(1).max(maxNameLength), numbers: z.array(z.string().max(64)).min(1).max(32), company: z.string().max(maxNameLength).optional() }),
  ),
});

export interface ContactsStore {
  readonly size: number;
  /** The contact name for a number in any format (exact national number), or null. */
  lookup(number: string): string | null;
  /** The contact (name and company) for a number in any format, or null. */
  lookupContact(number: string): { name: string; company: string | null } | null;
  /** Adds one contact by hand ("Add contact" on an unknown number); throws a one-line reason. */
  add(name: string, number: string, company?: string): Promise<void>;
  /** Numbers of the contacts whose name contains `text` (case- and accent-insensitive). */
  numbersMatchingName(text: string): string[];
  /** Parses and adds a contacts file; contacts with the same name are replaced. Throws a one-line reason. */
  import(text: string, fileName: string): Promise<{ imported: number; total: number }>;
  clear(): Promise<void>;
  /** Re-keys numbers after the default country setting changed. */
  setDefaultCountry(country: string): void;
  all(): Contact[];
}

/** Folds case and accents so "cagri" finds "Çağrı" and "ISIK" finds "Işık". */
export const foldName = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/ı/g, 'i')
    .toLowerCase();

class FileContactsStore implements ContactsStore {
  private byKey = new Map<string, Contact>();
  private folded: { name: string; company: string; contact: Contact }[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private contacts: Contact[],
    private country: string,
  ) {
    this.reindex();
  }

  get size(): number {
    return this.contacts.length;
  }

  lookup(number: string): string | null {
    const key = numberMatchKey(number, this.country);
    return key === '' ? null : (this.byKey.get(key)?.name ?? null);
  }

  lookupContact(number: string): { name: string; company: string | null } | null {
    const key = numberMatchKey(number, this.country);
    const c = key === '' ? undefined : this.byKey.get(key);
    return c ? { name: c.name, company: c.company ?? null } : null;
  }

  add(name: string, number: string, company = ''): Promise<void> {
    const cleaned = cleanName(name);
    if (cleaned === '') return Promise.reject(new Error('Type a name for the contact.'));
    const n = number.replace(/[\p{Cc}\p{Cf}]+/gu, '').trim();
    if (n.replace(/\D/g, '').length < 2 || n.length > 64) return Promise.reject(new Error('That is not a phone number.'));
    const org = cleanName(company);
    const added: Contact = org ? { name: cleaned, numbers: [n], company: org } : { name: cleaned, numbers: [n] };
    return this.serially(async () => {
      // Same name: the number joins that contact (like an import, the name is the identity).
      const same = this.contacts.find((c) => foldName(c.name) === foldName(cleaned));
      const merged = same
        ? this.contacts.map((c) => (c === same ? { ...c, numbers: [...new Set([...c.numbers, n])].slice(0, 32), company: c.company ?? added.company } : c))
        : [...this.contacts, added];
      await this.save(merged);
    });
  }

  numbersMatchingName(text: string): string[] {
    const q = foldName(cleanName(text));
    if (q === '') return [];
    // The company too: "analytical" finds everyone at Analytical Engines Ltd.
    return this.folded.filter((f) => f.name.includes(q) || f.company.includes(q)).flatMap((f) => f.contact.numbers);
  }

  async import(text: string, fileName: string): Promise<{ imported: number; total: number }> {
    const incoming = parseContacts(text, fileName);
    // Merged with the contacts as they are when its turn comes, not when it was asked for.
    return this.serially(async () => {
      const names = new Set(incoming.map((c) => foldName(c.name)));
      const merged = [...this.contacts.filter((c) => !names.has(foldName(c.name))), ...incoming];
      await this.save(merged);
      return { imported: incoming.length, total: merged.length };
    });
  }

  clear(): Promise<void> {
    return this.serially(() => this.save([]));
  }

  /** Changes run one at a time: two overlapping imports must not each start from the same contacts (one would be lost). */
  private serially<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change);
    this.queue = run.catch(() => {});
    return run;
  }

  setDefaultCountry(country: string): void {
    this.country = country;
    this.reindex();
  }

  all(): Contact[] {
    return this.contacts.map((c) => ({ ...c, numbers: [...c.numbers] }));
  }

  private async save(contacts: Contact[]): Promise<void> {
    await writeFileAtomic(join(this.dir, contactsFileName), JSON.stringify({ version: 1, contacts }));
    this.contacts = contacts;
    this.reindex();
  }

  private reindex(): void {
    this.byKey = new Map();
    for (const c of this.contacts) {
      for (const n of c.numbers) {
        const key = numberMatchKey(n, this.country);
        // The first contact with a number keeps it (a shared switchboard number is not "someone").
        if (key !== '' && !this.byKey.has(key)) this.byKey.set(key, c);
      }
    }
    this.folded = this.contacts.map((contact) => ({ name: foldName(contact.name), company: foldName(contact.company ?? ''), contact }));
  }
}

/** Write to a temp file, fsync, rename over: readers see the old or the new file, never half of one. */
async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(temp, 'w', 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`Cannot save contacts to ${path}: ${code === 'ENOSPC' ? 'no space left on device' : (err as Error).message}`, { cause: err });
  }
}

export async function openContactsStore(dir: string, opts: { defaultCountry?: string; logger?: Logger } = {}): Promise<ContactsStore> {
  const logger = opts.logger ?? silentLogger;
  await mkdir(dir, { recursive: true });
  const path = join(dir, contactsFileName);
  let contacts: Contact[] = [];
  try {
    const parsed = fileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (parsed.success) contacts = parsed.data.contacts;
    else logger.warn(`${path} is not a valid contacts file; starting with no contacts (import again)`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn(`Cannot read ${path}: ${(err as Error).message}; starting with no contacts`);
  }
  return new FileContactsStore(dir, contacts, opts.defaultCountry ?? 'US');
}
