// The hub's agents: who may connect to the broker, with which password, and which extensions' calls
// they may read. One JSON file in the hub's data folder (agents.json, mode 0600), written atomically
// (temp file + rename) so a running hub that reloads it never sees half a file.
//
// Passwords are stored hashed twice: scrypt (what the embedded broker checks) and Mosquitto's own
// PBKDF2-SHA512 "$7$" form (what `callpop hub mosquitto-files` writes to Mosquitto's password_file:
// neither hash can be derived from the other, so both are made when the password is known).
import { pbkdf2Sync, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { extensionPattern } from '../../../shared/hub-protocol';

const scrypt = promisify(scryptCb) as (password: string | Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

export const agentsFileName = 'agents.json';
/** Agent names are MQTT usernames and Mosquitto ACL `user` names: no spaces, no topic characters. */
export const agentNamePattern = /^[A-Za-z0-9_.@-]{1,64}$/;
/** The hub's own broker user (external broker); no agent may take it. */
export const hubUserName = 'callpop-hub';
/** scrypt cost: N=2^14, r=8, p=1 (~60 ms here). Generated passwords carry 144 bits, so the cost only
 * matters for passwords given with --password-stdin. */
const scryptParams = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
/** mosquitto_passwd 2.0's default for sha512-pbkdf2. */
export const mosquittoIterations = 101;

const scryptHashPattern = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/** What an agent may see beyond its own extensions: a supervisor also reads the board (team-roles.ts). */
export const agentRoles = ['agent', 'supervisor'] as const;
export type AgentRole = (typeof agentRoles)[number];

export const agentSchema = z.object({
  name: z.string().regex(agentNamePattern),
  // A supervisor may have no extension of its own (it only watches the board).
  extensions: z.array(z.string().regex(extensionPattern)).max(64),
  /** Absent in files written before roles: an agent. */
  role: z.enum(agentRoles).optional(),
  displayName: z.string().min(1).max(128).nullable(),
  /** scrypt$N$r$p$salt$hash (base64). */
  passwordHash: z.string().regex(scryptHashPattern),
  /** Mosquitto's $7$iterations$salt$hash (PBKDF2-SHA512). */
  mosquittoHash: z.string().regex(/^\$7\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/),
  createdAt: z.iso.datetime({ offset: true }),
}).refine((a) => a.extensions.length > 0 || a.role === 'supervisor', { message: 'an agent needs at least one extension', path: ['extensions'] });
export type Agent = z.infer<typeof agentSchema>;

const fileSchema = z.object({ callpop: z.literal('hub-agents'), version: z.literal(1), agents: z.array(agentSchema) });

/** An agent as listed (no hashes). */
export type AgentInfo = Pick<Agent, 'name' | 'extensions' | 'displayName' | 'createdAt'> & { role: AgentRole };

export class AgentError extends Error {}

/** 24 base64url characters from the OS CSPRNG (144 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p } = scryptParams;
  const hash = await scrypt(password, salt, 32, scryptParams);
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Mosquitto 2.0's password_file hash ("$7$" = PBKDF2-SHA512, 12-byte salt, 64-byte key, base64). */
export function mosquittoHash(password: string, iterations = mosquittoIterations, salt: Buffer = randomBytes(12)): string {
  const key = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Checks a password against a stored scrypt hash (constant time; false for a malformed hash). */
export async function verifyPassword(password: string | Buffer, stored: string): Promise<boolean> {
  const m = scryptHashPattern.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounded: a hand-edited file must not make each connect allocate gigabytes.
  if (N > 1 << 20 || r > 32 || p > 16) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const got = await scrypt(password, Buffer.from(m[4]!, 'base64'), expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export function parseAgentName(name: string): string {
  if (!agentNamePattern.test(name)) throw new AgentError(`Agent name must be 1 to 64 letters, digits or . _ - @ (it is the broker user name); got ${JSON.stringify(name)}.`);
  if (name === hubUserName) throw new AgentError(`"${hubUserName}" is the hub's own broker user; choose another agent name.`);
  return name;
}

export function agentsFilePath(dataDir: string): string {
  return join(dataDir, agentsFileName);
}

/** Reads the agents file; a missing file is no agents. Throws a one-line error for a damaged file. */
export async function readAgents(dataDir: string): Promise<Agent[]> {
  const path = agentsFilePath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AgentError(`Cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AgentError(`${path} is not valid JSON; fix or remove it.`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AgentError(`${path}: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data.agents;
}

async function writeAgents(dataDir: string, agents: readonly Agent[]): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const path = agentsFilePath(dataDir);
  const temp = `${path}.${process.pid}.tmp`;
  const fh = await open(temp, 'w', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify({ callpop: 'hub-agents', version: 1, agents }, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
}

export interface AddAgentOptions {
  name: string;
  extensions: readonly string[];
  displayName?: string | null;
  /** Given password (e.g. from stdin); generated when absent. */
  password?: string;
  /** Default 'agent'. */
  role?: AgentRole;
}

/**
 * Adds (or replaces: same name = new password and extensions) an agent. Resolves to the password,
 * which is stored only hashed. A running hub picks the change up from the file.
 */
export async function addAgent(dataDir: string, options: AddAgentOptions): Promise<{ agent: AgentInfo; password: string; replaced: boolean }> {
  const name = parseAgentName(options.name);
  const extensions = [...new Set(options.extensions)];
  const role = options.role ?? 'agent';
  if (extensions.length === 0 && role !== 'supervisor') throw new AgentError('Give at least one --extension for the agent.');
  for (const ext of extensions) if (!extensionPattern.test(ext)) throw new AgentError(`Extension must be 1 to 10 digits, e.g. 117; got ${JSON.stringify(ext)}.`);
  const displayName = options.displayName?.trim() || null;
  if (displayName !== null && displayName.length > 128) throw new AgentError('Display name is longer than 128 characters.');
  const password = options.password ?? generatePassword();
  if (password.length < 8 || password.length > 256) throw new AgentError('The password must be 8 to 256 characters.');
  const agents = await readAgents(dataDir);
  const agent: Agent = {
    name,
    extensions,
    displayName,
    passwordHash: await hashPassword(password),
    mosquittoHash: mosquittoHash(password),
    createdAt: new Date().toISOString(),
    ...(role !== 'agent' && { role }),
  };
  const i = agents.findIndex((a) => a.name === name);
  if (i >= 0) agents[i] = agent;
  else agents.push(agent);
  await writeAgents(dataDir, agents);
  return { agent: infoOf(agent), password, replaced: i >= 0 };
}

/** Removes an agent; false when there was none of that name. A running hub cuts its connections. */
export async function removeAgent(dataDir: string, name: string): Promise<boolean> {
  const agents = await readAgents(dataDir);
  const rest = agents.filter((a) => a.name !== name);
  if (rest.length === agents.length) return false;
  await writeAgents(dataDir, rest);
  return true;
}

export const infoOf = (a: Agent): AgentInfo => ({ name: a.name, extensions: a.extensions, displayName: a.displayName, createdAt: a.createdAt, role: roleOf(a) });

export const roleOf = (a: Pick<Agent, 'role'>): AgentRole => a.role ?? 'agent';

export async function listAgents(dataDir: string): Promise<AgentInfo[]> {
  return (await readAgents(dataDir)).map(infoOf);
}

/** extension → display name (the agent's display name, else its name); the first agent of an extension wins. */
export function directoryOf(agents: readonly Agent[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of agents) for (const ext of a.extensions) out[ext] ??= a.displayName ?? a.name;
  return out;
}
