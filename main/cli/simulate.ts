// `callpop simulate FLOW --to URL`: replays a seed call flow against a listener (Callpop's or any
// other), for IT to check a setup and for demos. Fresh ids each run, so nothing is deduplicated.
import { randomInt } from 'node:crypto';
import { findSeedFlow, flowGetRequests, flowRequests, seedFlows, type FlowOptions, type SeedFlow } from '../../shared/webhook/seed-flows';
import type { RawWebhook } from '../../shared/webhook/event';
import { freshStamp, sendWebhook } from '../core/listener/test-call';
import { parseExtension, parseFlags, printable, UsageError, type CliIo } from './args';

export const simulateUsage = `Usage: callpop simulate FLOW --to URL [--extension EXT] [--get] [--delay MS]
       callpop simulate --list

Replays a call flow from the 3CX WebAPI documentation against a webhook URL.
  --to URL          the webhook URL (as in WEBHOOK_URL), e.g. http://127.0.0.1:8765/webhook/SECRET
  --extension EXT   play the flow's agent as this extension (so it pops on your screen)
  --get             send a POST flow in the GET scheme (query strings; the recording as a bare URL)
  --delay MS        wait this long between steps (default 0)
  --list            list the flows`;

const options = {
  to: { type: 'string' },
  extension: { type: 'string' },
  get: { type: 'boolean' },
  delay: { type: 'string' },
  list: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A POST flow as the GET scheme would send it: lower-case keys as the query, a recording as the bare URL. */
export const asGetRequests: (flow: SeedFlow, opts: FlowOptions) => RawWebhook[] = flowGetRequests;

const labels = (flow: SeedFlow, get: boolean): string[] =>
  flow.steps.flatMap((s) => {
    const urls = s.fields?.FileUrls;
    return get && flow.scheme === 'post' && Array.isArray(urls) ? urls.map(() => s.label) : [s.label];
  });

export async function runSimulate(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, options, true);
  if (values.help) {
    io.stdout(`${simulateUsage}\n`);
    return 0;
  }
  if (values.list) {
    const width = Math.max(...seedFlows.map((f) => f.name.length));
    for (const f of seedFlows) io.stdout(`${f.name.padEnd(width)}  ${f.scheme.toUpperCase().padEnd(4)} ${f.title} (agent ${f.agent})\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'Give exactly one FLOW.' : 'Give a FLOW (see callpop simulate --list).');
  const name = positionals[0]!;
  const flow = findSeedFlow(name);
  if (!flow) throw new UsageError(`Unknown flow "${printable(name)}"; see callpop simulate --list.`);
  if (values.to === undefined) throw new UsageError('Give the webhook URL with --to URL.');
  let url: URL;
  try {
    url = new URL(values.to);
  } catch {
    throw new UsageError(`--to must be a URL like http://127.0.0.1:8765/webhook/SECRET, got "${printable(values.to)}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--to must be an http:// or https:// URL.');
  if (url.search || url.hash) throw new UsageError('--to must not have a query string or #fragment.');
  const extension = values.extension !== undefined ? parseExtension(values.extension) : undefined;
  const delay = values.delay === undefined ? 0 : Number(values.delay);
  if (!/^\d{1,6}$/.test(values.delay ?? '0')) throw new UsageError(`--delay must be milliseconds (0 to 999999), got "${printable(values.delay ?? '')}".`);

  // The serial keeps two runs started in the same second (two processes) apart.
  const opts = { extension, freshIds: { stamp: freshStamp(), serial: randomInt(0, 100_000) } };
  let requests: RawWebhook[];
  try {
    requests = values.get ? asGetRequests(flow, opts) : flowRequests(flow, opts);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const stepLabels = labels(flow, Boolean(values.get));
  const target = url.href;
  let failures = 0;
  for (let i = 0; i < requests.length; i++) {
    if (i > 0 && delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (io.signal?.aborted) return 130;
    const prefix = `${String(i + 1).padStart(2)}/${requests.length} ${requests[i]!.method.padEnd(4)}`;
    try {
      const r = await sendWebhook(target, requests[i]!);
      if (r.status !== 200) failures++;
      io.stdout(`${prefix} ${r.status} ${stepLabels[i] ?? ''}${r.status !== 200 && r.body ? ` (${printable(r.body.slice(0, 120))})` : ''}\n`);
      if (r.status === 404) {
        // Every step would get the same 404: the URL is wrong, not the flow.
        io.stderr(
          `callpop simulate: ${url.origin} answered 404: the secret in --to is not this listener's (or the path is not /webhook/SECRET). Use the URL that "callpop serve" or "callpop hub" prints after "Listening on", or the app's Settings → Connection.\n`,
        );
        return 1;
      }
    } catch (e) {
      const err = e as { code?: string; errors?: { code?: string }[] };
      const cause = err.code ?? err.errors?.[0]?.code;
      io.stderr(`callpop simulate: cannot reach ${url.origin}: ${cause ?? (e as Error).message}\n`);
      return 1;
    }
  }
  return failures === 0 ? 0 : 1;
}
