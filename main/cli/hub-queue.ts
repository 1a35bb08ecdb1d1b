// `callpop hub queue set|remove|list`: the hub's queues (name and, optionally, members), and the
// `--role` flag of `callpop hub agent add`. A running hub re-reads queues.json within a second.
import { agentRoles, type AgentRole } from '../core/hub/accounts/agents';
import { QueueError, readQueues, removeQueue, setQueue } from '../core/hub/team/queues';
import { parseExtension, parseFlags, printable, UsageError, type CliIo } from './args';

export const queueUsage = `Usage: callpop hub queue set QUEUE [--name TEXT] [--members EXT,EXT,...] [--data-dir DIR]
       callpop hub queue remove QUEUE [--data-dir DIR]
       callpop hub queue list [--json] [--data-dir DIR]
A queue (or ring group) is its 3CX number, e.g. 820. Its members see and act on its missed calls to
call back. Without --members, the members are the extensions that ring for it (learned from the
calls); --members "" forgets the configured ones and learns again. Configured members win.`;

export function parseRole(value: string | undefined): AgentRole {
  if (value === undefined) return 'agent';
  if (!(agentRoles as readonly string[]).includes(value)) throw new UsageError(`--role must be ${agentRoles.join(' or ')}, got "${value}".`);
  return value as AgentRole;
}

export async function runQueue(argv: string[], io: CliIo, hubDataDir: (io: CliIo, given: string | undefined) => string): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '--help' || action === '-h') {
    io.stdout(`${queueUsage}\n`);
    return action === undefined ? 2 : 0;
  }
  if (!['set', 'remove', 'list'].includes(action)) throw new UsageError(`Unknown queue command "${action}". Use set, remove or list.`);
  const options = { name: { type: 'string' }, members: { type: 'string' }, json: { type: 'boolean' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
  const { values, positionals } = parseFlags(rest, options, true);
  if (values.help) {
    io.stdout(`${queueUsage}\n`);
    return 0;
  }
  const dataDir = hubDataDir(io, values['data-dir']);
  const only = (allowed: string[]): void => {
    for (const f of ['name', 'members', 'json'] as const) if (values[f] !== undefined && !allowed.includes(f)) throw new UsageError(`--${f} is not an option of "queue ${action}".`);
  };
  try {
    if (action === 'list') {
      only(['json']);
      if (positionals.length > 0) throw new UsageError('queue list takes no queue.');
      const queues = await readQueues(dataDir);
      if (values.json) io.stdout(`${JSON.stringify(queues, null, 2)}\n`);
      else if (queues.length === 0) io.stdout('No queues yet. Add one with: callpop hub queue set 820 --name Sales\n');
      else for (const q of queues) io.stdout(`${q.queue}\t${printable(q.name)}\t${q.members ? q.members.join(',') : '(learned from calls)'}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`queue ${action} takes one QUEUE number.`);
    const queue = positionals[0]!;
    if (!/^\d{1,10}$/.test(queue)) throw new UsageError(`A queue is its number, 1 to 10 digits, e.g. 820; got "${queue}".`);
    if (action === 'remove') {
      only([]);
      if (!(await removeQueue(dataDir, queue))) {
        io.stderr(`callpop hub: no queue ${queue}.\n`);
        return 1;
      }
      io.stdout(`Removed queue ${queue}.\n`);
      return 0;
    }
    only(['name', 'members']);
    const members =
      values.members === undefined
        ? undefined
        : values.members
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
            .map((m) => {
              try {
                return parseExtension(m);
              } catch {
                throw new UsageError(`--members must be extensions separated by commas, e.g. 117,204; got "${m}".`);
              }
            });
    const r = await setQueue(dataDir, { queue, name: values.name, members });
    io.stdout(`${r.added ? 'Added' : 'Changed'} queue ${queue} "${printable(r.queue.name)}" (members: ${r.queue.members ? r.queue.members.join(', ') : 'learned from calls'}).\n`);
    return 0;
  } catch (e) {
    if (e instanceof QueueError) throw new UsageError(e.message);
    throw e;
  }
}
