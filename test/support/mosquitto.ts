// A real Mosquitto (Debian's /usr/sbin/mosquitto) for tests: started on a free loopback port with a
// generated config in a temp folder, stopped (SIGTERM, then SIGKILL) by stop(). Started as root,
// Mosquitto drops to the `mosquitto` user, so the folder and every file it reads are chowned to it.
//
//   const m = await startMosquitto({ passwordFile: '...', aclFile: '...' });
//   mqtt.connectAsync(m.url, { username, password });
//   afterEach(() => m.stop());
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const mosquittoBinary = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto';
export const mosquittoAvailable = existsSync(mosquittoBinary);

export interface MosquittoOptions {
  /** A Mosquitto password_file to use (copied into the temp folder). None = anonymous allowed. */
  passwordFile?: string;
  /** A Mosquitto acl_file to use (copied). */
  aclFile?: string;
  /** More config lines (after the generated listener/auth lines), e.g. `max_queued_messages 5000`. */
  config?: string[];
  /** Also listen for MQTT over WebSocket on a free port. */
  websockets?: boolean;
  /** Reuse a port (a broker restart keeps its URL). */
  port?: number;
}

export interface RunningMosquitto {
  /** mqtt://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** ws://127.0.0.1:PORT when websockets was asked for. */
  readonly wsUrl: string | null;
  readonly dir: string;
  /** What Mosquitto printed (stdout + stderr), for assertions and failure messages. */
  output(): string;
  /** Stop it (SIGTERM, SIGKILL after 3 s) and remove its folder. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL without cleanup of the folder (a broker crash); stop() still removes the folder. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** The uid/gid Mosquitto drops to when started as root (null when not root or no such user). */
function mosquittoOwner(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  try {
    // /etc/passwd: name:x:uid:gid:...
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('mosquitto:'));
    if (!line) return null;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return null;
  }
}

function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`mosquitto exited (${child.exitCode ?? child.signalCode}):\n${output()}`));
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms:\n${output()}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<RunningMosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'callpop-mosquitto-'));
  const owner = mosquittoOwner();
  const port = options.port ?? (await freePort());
  const wsPort = options.websockets ? await freePort() : null;
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stdout', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information', 'connection_messages true'];
  if (wsPort !== null) lines.push(`listener ${wsPort} 127.0.0.1`, 'protocol websockets');
  // Mosquitto 2: settings apply to every listener.
  lines.unshift('per_listener_settings false');
  if (options.passwordFile) {
    await copyFile(options.passwordFile, join(dir, 'passwd'));
    lines.push(`password_file ${join(dir, 'passwd')}`, 'allow_anonymous false');
  } else lines.push('allow_anonymous true');
  if (options.aclFile) {
    await copyFile(options.aclFile, join(dir, 'acl'));
    lines.push(`acl_file ${join(dir, 'acl')}`);
  }
  lines.push(...(options.config ?? []));
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `${lines.join('\n')}\n`);
  for (const f of ['passwd', 'acl']) if (existsSync(join(dir, f))) await chmod(join(dir, f), 0o600);
  await chmod(dir, 0o755);
  if (owner) for (const f of [dir, conf, join(dir, 'passwd'), join(dir, 'acl')]) if (existsSync(f)) chownSync(f, owner.uid, owner.gid);

  let out = '';
  const child = spawn(mosquittoBinary, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = (): string => out;
  const killNow = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(force);
  };
  try {
    await waitForPort(port, child, output);
    if (wsPort !== null) await waitForPort(wsPort, child, output);
  } catch (e) {
    await killNow('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    wsUrl: wsPort !== null ? `ws://127.0.0.1:${wsPort}` : null,
    dir,
    output,
    async kill() {
      await killNow('SIGKILL');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await killNow('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Mosquitto started with a given config file as is (e.g. the one `callpop hub mosquitto-files` writes), once every port in `ports` accepts connections. */
export async function startMosquittoConfig(confFile: string, ports: readonly number[]): Promise<{ output(): string; stop(): Promise<void> }> {
  let out = '';
  const child = spawn(mosquittoBinary, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(force);
  };
  try {
    for (const port of ports) await waitForPort(port, child, () => out);
  } catch (e) {
    await stop();
    throw e;
  }
  return { output: () => out, stop };
}
