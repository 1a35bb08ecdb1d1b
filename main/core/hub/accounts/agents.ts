// The hub's agents: who may connect to the broker, with which password, and which extensions' calls
// they may read. One JSON file in the hub's data folder (agents.json, mode 0600), written atomically
// (temp file + rename) so a running hub that reloads it never sees half a file.
//
// Passwords are stored hashed with scrypt (what the embedded broker checks). Only once the hub's
// folder is set up for Mosquitto (`callpop hub mosquitto-files` sets `mosquitto: true` in the file)
// is a second hash kept: Mosquitto's own PBKDF2-SHA512 "$7$" form for its password_file (neither hash
// can be derived from the other, so both are made when the password is known). Without Mosquitto a
// stolen agents.json must not be cheaper to attack than scrypt, so no second hash is kept then (the
// 101-iteration one it held allowed 21,594 guesses/s per core against scrypt's 33).
import { pbkdf2Sync, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { extensionPattern } from '../../../../shared/hub-protocol';
import { writeJsonFile } from '../../json-file';
import { natsHash, natsHashesEnabled } from './nats-hash';

const scrypt = promisify(scryptCb) as (password: string | Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

export const agentsFileName = 'agents.json';
/** Agent names are MQTT usernames and Mosquitto ACL `user` names: no spaces, no topic characters. */
export const agentNamePattern = /^[A-Za-z0-9_.@-]{1,64}$/;
/** The hub's own broker user (external broker); no agent may take it. */
export const hubUserName = 'callpop-hub';
/** scrypt cost: N=2^14, r=8, p=1 (~60 ms here). Generated passwords carry 144 bits, so the cost only
 * matters for passwords given with --password-stdin. */
const scryptParams = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
/**
 * PBKDF2 iterations of the Mosquitto hash, chosen by measuring (bench/hub-attack.ts, this machine):
 * Mosquitto 2.0.11 then takes ~26 ms per login on its one thread (≤ ~50 logins/s; 101 iterations,
 * mosquitto_passwd's default: 0.4 ms), and an attacker gets ~62 guesses/s per core (scrypt: ~33;
 * 101 iterations: ~21,600). More would let a flood of wrong passwords stall Mosquitto's delivery.
 */
export const mosquittoIterations = 10_000;

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
  /** Mosquitto's $7$iterations$salt$hash (PBKDF2-SHA512); only in a folder set up for Mosquitto. */
  mosquittoHash: z
    .string()
    .regex(/^\$7\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
    .nullable()
    .default(null),
  /** bcrypt for a NATS cluster's authorization block (./nats-hash.ts; only in a folder set up for NATS), with the passwordHash it was made beside. */
  natsHash: z.object({ bcrypt: z.string().regex(/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/), for: z.string() }).optional(),
  createdAt: z.iso.datetime({ offset: true }),
}).refine((a) => a.extensions.length > 0 || a.role === 'supervisor', { message: 'an agent needs at least one extension', path: ['extensions'] });
export type Agent = z.infer<typeof agentSchema>;

const fileSchema = z.object({
  callpop: z.literal('hub-agents'),
  version: z.literal(1),
  /** Set by `callpop hub mosquitto-files`: agents added from then on also get a Mosquitto hash. */
  mosquitto: z.boolean().default(false),
  agents: z.array(agentSchema),
});

/** An agent as listed (no hashes). */
export type AgentInfo = Pick<Agent, 'name' | 'extensions' | 'displayName' | 'createdAt'> & { role: AgentRole };

export class AgentError extends Error {}

/** `agent add` of a name that exists, without --replace. */
export class AgentExistsError extends AgentError {
  constructor(readonly agent: AgentInfo) {
    super(`agent ${JSON.stringify(agent.name)} already exists`);
  }
}

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
  return (await readAgentsText(dataDir)).agents;
}

/** The agents and the exact text they were read from ("" for no file). */
export async function readAgentsText(dataDir: string): Promise<{ agents: Agent[]; text: string; mosquitto: boolean }> {
  const path = agentsFilePath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { agents: [], text: '', mosquitto: false };
    throw new AgentError(`Cannot read ${path}: ${(e as Error).message}`, { cause: e });
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
  return { agents: parsed.data.agents, text, mosquitto: parsed.data.mosquitto };
}

async function writeAgents(dataDir: string, agents: readonly Agent[], mosquitto: boolean): Promise<void> {
  await writeJsonFile(agentsFilePath(dataDir), { callpop: 'hub-agents', version: 1, ...(mosquitto && { mosquitto }), agents }, 0o600, 2);
}

export interface AddAgentOptions {
  name: string;
  extensions: readonly string[];
  displayName?: string | null;
  /** Given password (e.g. from stdin); generated when absent. */
  password?: string;
  /** Replace an agent of the same name (else AgentExistsError). */
  replace?: boolean;
  /** Default 'agent'. */
  role?: AgentRole;
}

/**
 * Adds an agent (replaces one of the same name only with `replace`: a new password, extensions and
 * display name). Resolves to the password, which is stored only hashed. A running hub picks the
 * change up from the file.
 */
export async function addAgent(dataDir: string, options: AddAgentOptions): Promise<{ agent: AgentInfo; password: string; replaced: boolean }> {
  const name = parseAgentName(options.name);
  const role = options.role ?? 'agent';
  const extensions = checkExtensions(options.extensions, role);
  const displayName = checkDisplayName(options.displayName);
  const password = checkPassword(options.password ?? generatePassword());
  const { agents, mosquitto } = await readAgentsText(dataDir);
  const existing = agents.find((a) => a.name === name);
  if (existing && !options.replace) throw new AgentExistsError(infoOf(existing));
  const passwordHash = await hashPassword(password);
  const agent: Agent = {
    name,
    extensions,
    displayName,
    passwordHash,
    mosquittoHash: mosquitto ? mosquittoHash(password) : null,
    ...(natsHashesEnabled(dataDir) && { natsHash: natsHash(password, passwordHash) }),
    createdAt: new Date().toISOString(),
    ...(role !== 'agent' && { role }),
  };
  const i = agents.findIndex((a) => a.name === name);
  if (i >= 0) agents[i] = agent;
  else agents.push(agent);
  await writeAgents(dataDir, agents, mosquitto);
  return { agent: infoOf(agent), password, replaced: i >= 0 };
}

function checkExtensions(given: readonly string[], role: AgentRole = 'agent'): string[] {
  const extensions = [...new Set(given)];
  // A supervisor may watch the board without a phone of its own.
  if (extensions.length === 0 && role !== 'supervisor') throw new AgentError('Give at least one --extension for the agent.');
  for (const ext of extensions) if (!extensionPattern.test(ext)) throw new AgentError(`Extension must be 1 to 10 digits, e.g. 117; got ${JSON.stringify(ext)}.`);
  return extensions;
}

function checkDisplayName(given: string | null | undefined): string | null {
  const displayName = given?.trim() || null;
  if (displayName !== null && displayName.length > 128) throw new AgentError('Display name is longer than 128 characters.');
  return displayName;
}

function checkPassword(password: string): string {
  if (password.length < 8 || password.length > 256) throw new AgentError('The password must be 8 to 256 characters.');
  return password;
}

export interface AgentChange {
  extensions?: readonly string[];
  /** null or "" clears it. */
  displayName?: string | null;
  /** A new password (`agent passwd`). */
  password?: string;
}

/**
 * Changes an existing agent in place (`agent set`, `agent passwd`): what is not given is kept, the
 * password included. Resolves to null when there is no agent of that name.
 */
export async function updateAgent(dataDir: string, name: string, change: AgentChange): Promise<AgentInfo | null> {
  const extensions = change.extensions !== undefined ? checkExtensions(change.extensions) : undefined;
  const displayName = change.displayName !== undefined ? checkDisplayName(change.displayName) : undefined;
  const password = change.password !== undefined ? checkPassword(change.password) : undefined;
  const { agents, mosquitto } = await readAgentsText(dataDir);
  const i = agents.findIndex((a) => a.name === name);
  if (i < 0) return null;
  const passwordHash = password !== undefined ? await hashPassword(password) : undefined;
  const { natsHash: _staleNatsHash, ...kept } = agents[i]!;
  const agent: Agent = {
    ...(passwordHash === undefined ? agents[i]! : kept),
    ...(extensions !== undefined && { extensions }),
    ...(displayName !== undefined && { displayName }),
    ...(password !== undefined &&
      passwordHash !== undefined && {
        passwordHash,
        mosquittoHash: mosquitto ? mosquittoHash(password) : null,
        ...(natsHashesEnabled(dataDir) && { natsHash: natsHash(password, passwordHash) }),
      }),
  };
  agents[i] = agent;
  await writeAgents(dataDir, agents, mosquitto);
  return infoOf(agent);
}

/** For each of `extensions`, the other agents that have it too (an extension may be shared: said, not refused). */
export async function sharedExtensions(dataDir: string, name: string, extensions: readonly string[]): Promise<{ extension: string; agents: string[] }[]> {
  const others = (await readAgents(dataDir)).filter((a) => a.name !== name);
  return extensions.map((extension) => ({ extension, agents: others.filter((a) => a.extensions.includes(extension)).map((a) => a.name) })).filter((s) => s.agents.length > 0);
}

/** Removes an agent; false when there was none of that name. A running hub cuts its connections. */
export async function removeAgent(dataDir: string, name: string): Promise<boolean> {
  const { agents, mosquitto } = await readAgentsText(dataDir);
  const rest = agents.filter((a) => a.name !== name);
  if (rest.length === agents.length) return false;
  await writeAgents(dataDir, rest, mosquitto);
  return true;
}

/**
 * Sets the folder up for Mosquitto (agents added or given a new password from now on get a Mosquitto
 * hash too). Resolves to the agents that have none yet: their passwords must be set again.
 */
export async function enableMosquittoHashes(dataDir: string): Promise<string[]> {
  const { agents, mosquitto } = await readAgentsText(dataDir);
  if (!mosquitto) await writeAgents(dataDir, agents, true);
  return agents.filter((a) => !a.mosquittoHash).map((a) => a.name);
}

/**
 * Drops Mosquitto hashes from a folder not set up for Mosquitto (files written before they were kept
 * only there). Resolves to how many were dropped.
 */
export async function dropUnusedMosquittoHashes(dataDir: string): Promise<number> {
  const { agents, mosquitto, text } = await readAgentsText(dataDir);
  const n = agents.filter((a) => a.mosquittoHash).length;
  if (mosquitto || n === 0 || text === '') return 0;
  await writeAgents(dataDir, agents.map((a) => ({ ...a, mosquittoHash: null })), false);
  return n;
}

export const infoOf = (a: Agent): AgentInfo => ({ name: a.name, extensions: a.extensions, displayName: a.displayName, createdAt: a.createdAt, role: roleOf(a) });

export const roleOf = (a: Pick<Agent, 'role'>): AgentRole => a.role ?? 'agent';

export async function listAgents(dataDir: string): Promise<AgentInfo[]> {
  return (await readAgents(dataDir)).map(infoOf);
}

/**
 * extension → display name; the first agent of an extension with one wins. Never the login name: the
 * directory goes to every agent, and a login name is half of a password guess (an agent without a
 * display name is simply not in it).
 */
export function directoryOf(agents: readonly Agent[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of agents) for (const ext of a.extensions) if (a.displayName) out[ext] ??= a.displayName;
  return out;
}
