// The agent's short notes on calls: <call log dir>/notes.json, beside the log and not in its records,
// so the tracker's CallRecord and the hub protocol stay as they are. Notes are typed by hand (a few a
// day), so the whole file is rewritten atomically on each change; the view merges them in by call id.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { noteMaxLength } from '../../../shared/call-log';
import { silentLogger } from '../../../shared/diagnostics-log';
import type { Logger } from '../../../shared/diagnostics-log';
import { numberMatchKey } from '../../../shared/phone';

export const notesFileName = 'notes.json';
/** Bound on kept notes: the oldest go first (a note a day for 50 years fits). */
export const maxNotes = 20_000;

const noteSchema = z.object({ text: z.string().min(1).max(noteMaxLength), number: z.string().max(256), at: z.iso.datetime({ offset: true }) });
const fileSchema = z.object({ version: z.literal(1), notes: z.record(z.string().min(1).max(64), noteSchema) });
export type CallNote = z.infer<typeof noteSchema>;

/** One line, no control or bidi-override characters, trimmed, at most noteMaxLength characters. */
export function cleanNote(text: string): string {
  const flat = text
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return [...flat].slice(0, noteMaxLength).join('').trim();
}

/** Folds case and accents for searching ("mehmet" finds "Mehmet", "cagri" finds "Çağrı"). */
export const foldText = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/ı/g, 'i')
    .toLowerCase();

export interface NotesStore {
  get(callId: string): string | null;
  /** Sets (or, with "", removes) the note of a call; `number` is the call's, for the next pop. */
  set(callId: string, number: string, text: string): Promise<void>;
  /** The newest note on a call with this number (any format), other than `excludeId`. */
  lastFor(number: string, excludeId?: string): ({ callId: string } & CallNote) | null;
  delete(ids: readonly string[]): Promise<void>;
  setDefaultCountry(country: string): void;
  /** Ids of the calls whose note contains `text` (case and accents folded): the log's search. */
  idsMatching(text: string): Set<string>;
}

class FileNotesStore implements NotesStore {
  private queue: Promise<unknown> = Promise.resolve();
  private keys = new Map<string, string>();

  constructor(
    private readonly path: string,
    private notes: Map<string, CallNote>,
    private country: string,
    private readonly now: () => number,
  ) {}

  get(callId: string): string | null {
    return this.notes.get(callId)?.text ?? null;
  }

  set(callId: string, number: string, text: string): Promise<void> {
    const clean = cleanNote(text);
    return this.serially(async () => {
      const next = new Map(this.notes);
      next.delete(callId);
      if (clean !== '') next.set(callId, { text: clean, number, at: new Date(this.now()).toISOString() });
      // Map order is insertion order: the oldest changes are dropped first.
      while (next.size > maxNotes) next.delete(next.keys().next().value!);
      await this.save(next);
    });
  }

  lastFor(number: string, excludeId?: string): ({ callId: string } & CallNote) | null {
    const key = this.keyOf(number);
    if (key === '') return null;
    let best: ({ callId: string } & CallNote) | null = null;
    for (const [callId, n] of this.notes) {
      if (callId === excludeId || this.keyOf(n.number) !== key) continue;
      if (!best || n.at > best.at) best = { callId, ...n };
    }
    return best;
  }

  delete(ids: readonly string[]): Promise<void> {
    if (!ids.some((id) => this.notes.has(id))) return Promise.resolve();
    return this.serially(async () => {
      const next = new Map(this.notes);
      for (const id of ids) next.delete(id);
      await this.save(next);
    });
  }

  setDefaultCountry(country: string): void {
    this.country = country;
    this.keys.clear();
  }

  idsMatching(text: string): Set<string> {
    const q = foldText(text.trim());
    const ids = new Set<string>();
    if (q === '') return ids;
    for (const [callId, n] of this.notes) if (foldText(n.text).includes(q)) ids.add(callId);
    return ids;
  }

  private keyOf(number: string): string {
    let k = this.keys.get(number);
    if (k === undefined) {
      k = numberMatchKey(number, this.country);
      if (this.keys.size > 50_000) this.keys.clear();
      this.keys.set(number, k);
    }
    return k;
  }

  private serially<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change);
    this.queue = run.catch(() => {});
    return run;
  }

  private async save(notes: Map<string, CallNote>): Promise<void> {
    const temp = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fh = await open(temp, 'w');
      try {
        await fh.writeFile(JSON.stringify({ version: 1, notes: Object.fromEntries(notes) }));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, this.path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw new Error(`Cannot save the note to ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    this.notes = notes;
  }
}

/** Opens (or starts) the notes of a call log folder; an unreadable file is logged and starts empty. */
export async function openNotesStore(dir: string, opts: { defaultCountry?: string; logger?: Logger; now?: () => number } = {}): Promise<NotesStore> {
  const logger = opts.logger ?? silentLogger;
  await mkdir(dir, { recursive: true });
  const path = join(dir, notesFileName);
  let notes = new Map<string, CallNote>();
  try {
    const parsed = fileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (parsed.success) notes = new Map(Object.entries(parsed.data.notes));
    else logger.warn(`${path} is not a valid notes file; starting with no notes`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn(`Cannot read ${path}: ${(err as Error).message}; starting with no notes`);
  }
  return new FileNotesStore(path, notes, opts.defaultCountry ?? 'US', opts.now ?? Date.now);
}

/** Read-only: the notes of a call log folder by call id (`callpop log`); empty when there are none. */
export async function readNotes(dir: string): Promise<Map<string, string>> {
  try {
    const parsed = fileSchema.safeParse(JSON.parse(await readFile(join(dir, notesFileName), 'utf8')));
    return parsed.success ? new Map(Object.entries(parsed.data.notes).map(([id, n]) => [id, n.text])) : new Map();
  } catch {
    return new Map();
  }
}
