// A real 3-node NATS cluster (Debian's /usr/sbin/nats-server 2.9.10) on loopback for the hub's
// cluster tests and bench: every node on free ports (client, route, MQTT gateway, monitoring),
// JetStream clustered (the MQTT gateway keeps its sessions and retained messages in JetStream
// streams with 3 replicas), and an optional `authorization { … }` block (what `callpop hub
// nats-files` writes) included by every node. A node accepts MQTT logins only once JetStream is
// ready, so start() and restart() poll a login. kill() is a kill -9 (a crash: no will published
// by that node, its streams lose their leader); restart() starts the node again on the same ports
// and store, as a supervisor would.
//
//   const c = await startNatsCluster({ authorization, probe: { username, password } });
//   c.nodes[1].mqttUrl            // mqtt://127.0.0.1:PORT of node 2
//   await c.kill(0); await c.restart(0);
//   await c.stop();
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import mqtt from 'mqtt';

export const natsBinary = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p)) ?? 'nats-server';
export const natsAvailable = existsSync(natsBinary);

export interface NatsClusterOptions {
  /** Nodes (default 3: JetStream needs a majority, so 3 survive the loss of one). */
  size?: number;
  /** A file holding an `authorization { … }` block, included by every node. None = anonymous. */
  authorizationFile?: string;
  /** The login used to poll readiness (needed with authorization). */
  probe?: { username: string; password: string };
  /** How long a node may take to accept an MQTT login. Default 30 s. */
  readyMs?: number;
}

export interface NatsNode {
  readonly name: string;
  readonly mqttUrl: string;
  readonly clientPort: number;
  readonly monitorPort: number;
  readonly running: boolean;
}

export interface RunningNatsCluster {
  readonly nodes: readonly NatsNode[];
  /** Every node's MQTT URL, in order. */
  readonly mqttUrls: readonly string[];
  readonly dir: string;
  /** What node i printed. */
  output(i: number): string;
  /** kill -9 node i (returns when it is gone). */
  kill(i: number): Promise<void>;
  /** Start node i again on its ports and store; resolves once it accepts an MQTT login. */
  restart(i: number): Promise<void>;
  /** The index of the node leading a JetStream stream (e.g. `$MQTT_msgs`), or -1 if none is known. */
  streamLeader(stream: string): Promise<number>;
  /** Stop every node (SIGTERM, SIGKILL after 3 s) and remove the folder. Safe to call twice. */
  stop(): Promise<void>;
}

interface Node {
  name: string;
  clientPort: number;
  clusterPort: number;
  mqttPort: number;
  monitorPort: number;
  conf: string;
  child: ChildProcess | null;
  exited: Promise<void>;
  out: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const taken = new Set<number>();
/**
 * A free loopback port below Linux's ephemeral range (32768+): a node restarted after kill -9 binds
 * its old ports again, and an ephemeral port would meanwhile be handed to some outgoing connection.
 */
async function freeFixedPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
}

/** Resolves once `url` accepts an MQTT login (CONNACK 0); JetStream must be up for that. */
export async function waitForMqttLogin(url: string, probe: { username: string; password: string } | undefined, timeoutMs: number, alive: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`nats-server exited before accepting MQTT logins:\n${output()}`);
    try {
      const c = await mqtt.connectAsync(url, { ...probe, clientId: `probe-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 0, connectTimeout: 2000, protocolVersion: 4 });
      await c.endAsync(true);
      return;
    } catch (e) {
      last = (e as Error).message;
      await sleep(200);
    }
  }
  throw new Error(`${url} did not accept an MQTT login within ${timeoutMs} ms (${last}):\n${output().slice(-2000)}`);
}

export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<RunningNatsCluster> {
  const size = options.size ?? 3;
  const readyMs = options.readyMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'callpop-nats-'));
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++) {
    nodes.push({ name: `n${i + 1}`, clientPort: await freeFixedPort(), clusterPort: await freeFixedPort(), mqttPort: await freeFixedPort(), monitorPort: await freeFixedPort(), conf: '', child: null, exited: Promise.resolve(), out: '' });
  }
  if (options.authorizationFile) await copyFile(options.authorizationFile, join(dir, 'authorization.conf'));
  const routes = nodes.map((n) => `nats-route://127.0.0.1:${n.clusterPort}`).join(', ');
  for (const n of nodes) {
    await mkdir(join(dir, n.name), { recursive: true });
    n.conf = join(dir, `${n.name}.conf`);
    const lines = [
      `server_name: ${n.name}`,
      `listen: 127.0.0.1:${n.clientPort}`,
      `http: 127.0.0.1:${n.monitorPort}`,
      `jetstream { store_dir: "${join(dir, n.name)}" }`,
      `cluster { name: callpop, listen: 127.0.0.1:${n.clusterPort}, routes: [${routes}] }`,
      `mqtt { listen: 127.0.0.1:${n.mqttPort} }`,
      ...(options.authorizationFile ? [`include ./authorization.conf`] : []),
    ];
    await writeFile(n.conf, `${lines.join('\n')}\n`);
  }

  const spawnNode = (n: Node): void => {
    const child = spawn(natsBinary, ['-c', n.conf], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
    n.child = child;
    const keep = (d: Buffer): void => {
      // Only the tail matters for failure messages; a long run must not grow this without bound.
      n.out = (n.out + d.toString()).slice(-200_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    n.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  };
  const alive = (n: Node): boolean => n.child !== null && n.child.exitCode === null && n.child.signalCode === null;
  const killNode = async (n: Node, signal: NodeJS.Signals): Promise<void> => {
    if (!alive(n)) return;
    n.child!.kill(signal);
    const force = setTimeout(() => n.child?.kill('SIGKILL'), 3000);
    await n.exited;
    clearTimeout(force);
  };
  const ready = (n: Node): Promise<void> =>
    waitForMqttLogin(`mqtt://127.0.0.1:${n.mqttPort}`, options.probe, readyMs, () => alive(n), () => n.out);

  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => killNode(n, 'SIGTERM')));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const n of nodes) spawnNode(n);
    await Promise.all(nodes.map(ready));
  } catch (e) {
    await Promise.all(nodes.map((n) => killNode(n, 'SIGKILL')));
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  let stopped = false;
  const view = nodes.map(
    (n): NatsNode => ({
      name: n.name,
      mqttUrl: `mqtt://127.0.0.1:${n.mqttPort}`,
      clientPort: n.clientPort,
      monitorPort: n.monitorPort,
      get running() {
        return alive(n);
      },
    }),
  );
  const at = (i: number): Node => {
    const n = nodes[i];
    if (!n) throw new Error(`No node ${i} in a cluster of ${nodes.length}`);
    return n;
  };
  return {
    nodes: view,
    mqttUrls: view.map((n) => n.mqttUrl),
    dir,
    output: (i) => at(i).out,
    kill: (i) => killNode(at(i), 'SIGKILL'),
    async restart(i) {
      const n = at(i);
      if (alive(n)) return;
      spawnNode(n);
      await ready(n);
    },
    async streamLeader(stream) {
      // Any running node's monitoring endpoint knows every stream's leader.
      for (const n of nodes.filter(alive)) {
        try {
          const res = await fetch(`http://127.0.0.1:${n.monitorPort}/jsz?accounts=true&streams=true`, { signal: AbortSignal.timeout(2000) });
          const jsz = (await res.json()) as { account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[] };
          for (const acc of jsz.account_details ?? []) {
            const leader = acc.stream_detail?.find((s) => s.name === stream)?.cluster?.leader;
            if (leader) return nodes.findIndex((x) => x.name === leader);
          }
        } catch {
          /* try the next node */
        }
      }
      return -1;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}
