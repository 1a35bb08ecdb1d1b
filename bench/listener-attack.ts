// Webhook latency of the real listener during a slowloris on loopback: 600 sockets from 40 source
// addresses (127.0.0.2…), each trickling a header line a second and reconnecting when dropped,
// while "the PBX" posts webhooks one after another. The attacker runs in a child process (its own
// event loop, as a real one would). The handler does no I/O: this measures what the attack costs
// the listener, not the call log's fsync (bench/webhooks.ts has that).
//
//   node --import tsx bench/listener-attack.ts            all figures
//   (internal) bench/listener-attack.ts attack PORT       the attacker child
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startListener, type ListenerOptions } from '../main/core/listener/listener';
import { loopbackSources, postFrom, slowloris } from '../test/support/slowloris';

const self = fileURLToPath(import.meta.url);

const secret = 'benchAttackSecret_0123456789';
const path = `/webhook/${secret}`;
const samples = Number(process.env.BENCH_ATTACK_WEBHOOKS ?? 200);
const body = (n: number): string => JSON.stringify({ Event: 'ringing', Callerid: '05551239988', User: '202', Usertype: 'ext', Did: '', Id: `230307114903_${n}-0` });

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

/** Latencies (ms) of `samples` webhooks; `from(i)` picks the source of the i-th. Throws on any non-200. */
async function measure(port: number, from: (i: number) => string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    const status = await postFrom({ port, path, body: body(i), localAddress: from(i) });
    if (status !== 200) throw new Error(`webhook ${i} answered ${status}`);
    out.push(performance.now() - t);
  }
  return out;
}

// ---- child: the attacker; says "ready" once every socket connected or closed, answers "count" with how many it holds ----
async function attacker(port: number): Promise<void> {
  const attack = slowloris({ port, sources: loopbackSources(2, 40), perSource: 15, reconnect: true });
  await attack.settled();
  await new Promise((r) => setTimeout(r, 1000));
  process.send?.('ready');
  process.on('message', (m) => {
    if (m === 'count') process.send?.(attack.open());
    if (m === 'stop') void attack.stop().then(() => process.exit(0));
  });
}

const reply = <T>(child: ChildProcess, ask: string | null): Promise<T> =>
  new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    if (ask) child.send(ask);
  });

async function scenario(name: string, options: Partial<ListenerOptions>, attacked: boolean, from: (i: number) => string): Promise<void> {
  const listener = await startListener({ host: '127.0.0.1', port: 0, secret, onWebhook: async () => ({ status: 'ok' }), ...options });
  const child = attacked ? fork(self, ['attack', String(listener.port)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) : null;
  try {
    if (child) await reply<string>(child, null);
    const ms = await measure(listener.port, from);
    const held = child ? ` (attack holding ${await reply<number>(child, 'count')} sockets)` : '';
    console.log(`${name}-p50: ${percentile(ms, 50).toFixed(1)} ms`);
    console.log(`${name}-p99: ${percentile(ms, 99).toFixed(1)} ms${held}`);
  } finally {
    if (child) {
      const exited = new Promise((r) => child.once('exit', r));
      child.send('stop');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    }
    await listener.close();
  }
}

const pbx = (): string => '127.0.0.1';
// A source never seen before for every webhook: each has to make room by dropping an attacker.
const fresh = (i: number): string => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;

if (process.argv[2] === 'attack') {
  await attacker(Number(process.argv[3]));
} else {
  await scenario('webhook-latency-no-attack', {}, false, pbx);
  await scenario('webhook-latency-under-slowloris', {}, true, fresh);
  await scenario('webhook-latency-under-slowloris-known-pbx', {}, true, pbx);
  await scenario('webhook-latency-under-slowloris-allow-list', { allowedSources: ['127.0.0.1'], allowLoopback: false }, true, pbx);
}
