// The hub's queues: names and members. `callpop hub queue set 820 --name Sales [--members 117,204]`
// writes queues.json; without configured members, a queue's members are the extensions that rang on
// its behalf, learned from the calls and kept in queue-members.json (both in the hub's data folder).
// Configured members win. Members are who see and act on the queue's callbacks (./callbacks.ts).
import { join } from 'node:path';
import { z } from 'zod';
import { extensionPattern } from '../../../../shared/hub-protocol';
import { readJsonFile, writeJsonFile } from '../../json-file';

export const queuesFileName = 'queues.json';
export const learnedMembersFileName = 'queue-members.json';
/** 3CX queue and ring group numbers are extension numbers. */
export const queuePattern = extensionPattern;

const queueSchema = z.object({
  queue: z.string().regex(queuePattern),
  name: z.string().min(1).max(128),
  /** Absent: the learned members. */
  members: z.array(z.string().regex(extensionPattern)).max(1000).optional(),
});
export type QueueConfig = z.infer<typeof queueSchema>;
const queuesFileSchema = z.object({ callpop: z.literal('hub-queues'), version: z.literal(1), queues: z.array(queueSchema).max(1000) });
const learnedFileSchema = z.object({
  callpop: z.literal('hub-queue-members'),
  version: z.literal(1),
  learned: z.record(z.string().regex(queuePattern), z.array(z.string().regex(extensionPattern)).max(1000)),
});

export class QueueError extends Error {}

export const queuesFilePath = (dataDir: string): string => join(dataDir, queuesFileName);

export async function readQueues(dataDir: string): Promise<QueueConfig[]> {
  const path = queuesFilePath(dataDir);
  const json = await readJsonFile(path, null);
  if (json === null) return [];
  const parsed = queuesFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QueueError(`${path}: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data.queues;
}

const writeQueues = (dataDir: string, queues: readonly QueueConfig[]): Promise<void> =>
  writeJsonFile(queuesFilePath(dataDir), { callpop: 'hub-queues', version: 1, queues: [...queues].sort((a, b) => a.queue.localeCompare(b.queue, 'en', { numeric: true })) }, 0o644);

/** Adds or changes a queue. `members` undefined keeps the configured ones (or none); [] = learn again. */
export async function setQueue(dataDir: string, o: { queue: string; name?: string; members?: readonly string[] }): Promise<{ queue: QueueConfig; added: boolean }> {
  if (!queuePattern.test(o.queue)) throw new QueueError(`A queue is its number, 1 to 10 digits, e.g. 820; got ${JSON.stringify(o.queue)}.`);
  const name = o.name?.trim();
  if (name !== undefined && (name.length === 0 || name.length > 128)) throw new QueueError('--name must be 1 to 128 characters.');
  for (const m of o.members ?? []) if (!extensionPattern.test(m)) throw new QueueError(`A member is an extension, 1 to 10 digits; got ${JSON.stringify(m)}.`);
  const queues = await readQueues(dataDir);
  const i = queues.findIndex((q) => q.queue === o.queue);
  const old = i >= 0 ? queues[i] : undefined;
  const members = o.members === undefined ? old?.members : o.members.length === 0 ? undefined : [...new Set(o.members)];
  const queue: QueueConfig = { queue: o.queue, name: name ?? old?.name ?? o.queue, ...(members && { members }) };
  if (i >= 0) queues[i] = queue;
  else queues.push(queue);
  await writeQueues(dataDir, queues);
  return { queue, added: i < 0 };
}

export async function removeQueue(dataDir: string, queue: string): Promise<boolean> {
  const queues = await readQueues(dataDir);
  const rest = queues.filter((q) => q.queue !== queue);
  if (rest.length === queues.length) return false;
  await writeQueues(dataDir, rest);
  return true;
}

/**
 * Who is in which queue, as the running hub sees it: configured queues (re-read with reload()) and
 * members learned from calls (saved in the background; a lost write is learned again from the next call).
 */
export class QueueDirectory {
  private configured = new Map<string, QueueConfig>();
  /** queue → its configured members as a set (membership is checked per item and extension). */
  private configuredSets = new Map<string, ReadonlySet<string>>();
  private learned = new Map<string, Set<string>>();
  private saving: Promise<void> = Promise.resolve();
  private saveQueued = false;

  private constructor(
    private readonly dataDir: string,
    private readonly onError: (message: string) => void,
  ) {}

  static async open(dataDir: string, onError: (message: string) => void): Promise<QueueDirectory> {
    const d = new QueueDirectory(dataDir, onError);
    const path = join(dataDir, learnedMembersFileName);
    try {
      const parsed = learnedFileSchema.safeParse(await readJsonFile(path, null));
      if (parsed.success) for (const [q, exts] of Object.entries(parsed.data.learned)) d.learned.set(q, new Set(exts));
    } catch (e) {
      onError(`Learned queue members not read (they are learned again from the calls): ${(e as Error).message}`);
    }
    await d.reload();
    return d;
  }

  /** Re-reads queues.json; keeps the previous configuration when it is damaged. True when it changed. */
  async reload(): Promise<boolean> {
    try {
      const next = new Map((await readQueues(this.dataDir)).map((q) => [q.queue, q]));
      const changed = JSON.stringify([...next]) !== JSON.stringify([...this.configured]);
      this.configured = next;
      this.configuredSets = new Map([...next].flatMap(([q, c]) => (c.members ? [[q, new Set(c.members)] as const] : [])));
      return changed;
    } catch (e) {
      this.onError(`Queues not reloaded, keeping the previous ones: ${(e as Error).message}`);
      return false;
    }
  }

  /** An extension rang on a queue's behalf. True when it is a new member (learned). */
  learn(queue: string, ext: string): boolean {
    if (!queuePattern.test(queue) || !extensionPattern.test(ext) || queue === ext) return false;
    let set = this.learned.get(queue);
    if (!set) this.learned.set(queue, (set = new Set()));
    if (set.has(ext) || set.size >= 1000) return false;
    set.add(ext);
    this.save();
    return this.configured.get(queue)?.members === undefined;
  }

  private save(): void {
    if (this.saveQueued) return;
    this.saveQueued = true;
    this.saving = this.saving.then(async () => {
      this.saveQueued = false;
      const learned = Object.fromEntries([...this.learned].map(([q, s]) => [q, [...s]]));
      await writeJsonFile(join(this.dataDir, learnedMembersFileName), { callpop: 'hub-queue-members', version: 1, learned }).catch((e: unknown) =>
        this.onError(`Learned queue members not saved: ${(e as Error).message}`),
      );
    });
  }

  flush(): Promise<void> {
    return this.saving;
  }

  members(queue: string): ReadonlySet<string> {
    return this.configuredSets.get(queue) ?? this.learned.get(queue) ?? new Set();
  }

  isMember(queue: string, ext: string): boolean {
    return this.members(queue).has(ext);
  }

  name(queue: string): string {
    return this.configured.get(queue)?.name ?? queue;
  }

  /** Every queue known: configured or seen in calls. */
  all(): string[] {
    return [...new Set([...this.configured.keys(), ...this.learned.keys()])].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  }

  /** The queues an extension is a member of. */
  queuesOf(ext: string): string[] {
    return this.all().filter((q) => this.isMember(q, ext));
  }
}
