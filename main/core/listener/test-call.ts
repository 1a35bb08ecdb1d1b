// "Send test call": replays the seed's "incoming answered" flow for the user's own extension against
// Callpop's own listener over loopback HTTP, so the whole path (listener → parser → tracker → log →
// popup) runs exactly as for a real call, at a human pace.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import { rootCertificates } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { ActionResult } from '../../../shared/ipc/contract';
import { silentLogger, type Logger } from '../../../shared/diagnostics-log';
import { findSeedFlow, flowRequests, flowSteps } from '../../../shared/webhook/seed-flows';
import type { RawWebhook } from '../../../shared/webhook/event';

export const testCallFlow = 'incoming-answered';

export interface TestCallPacing {
  /** Ringing → answered. */
  answerAfterMs: number;
  /** Answered → ended. */
  endAfterMs: number;
  /** Ended → recording announced. */
  recordingAfterMs: number;
}

export const humanPacing: TestCallPacing = { answerAfterMs: 2000, endAfterMs: 3000, recordingAfterMs: 1000 };

export interface TestCallOptions {
  /** The webhook URL of our own listener, over loopback. */
  url: string;
  extension: string;
  pacing?: TestCallPacing;
  logger?: Logger;
  /** The 12-digit id stamp (default freshStamp()); the desktop passes shared/test-call-id's marked one. */
  stamp?: string;
  /** Resolves when the whole flow has been sent (or failed); for tests and shutdown. */
  onDone?: (result: ActionResult) => void;
  /** PEM of our own listener's certificate when it serves HTTPS: the only certificate the test call accepts. */
  trustedCertPem?: string;
}

let lastStamp = 0;

/** A 12-digit id stamp (yyMMddHHmmss) that differs from the previous one, so replays are never duplicates. */
export function freshStamp(now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  let stamp = Number(`${p(now.getUTCFullYear() % 100)}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`);
  if (stamp <= lastStamp) stamp = lastStamp + 1;
  lastStamp = stamp;
  return String(stamp).padStart(12, '0').slice(-12);
}

/** The most of a listener's answer we keep (an answer is a short status text; a foreign server may send anything). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Send one webhook the way the PBX does; resolves to the HTTP status and body. node:http(s) rather
 * than fetch: fetch refuses the "bad ports" of the Fetch standard (6000, 6665-6669, 10080, …), and
 * a listener may be bound to any port. Network errors reject with the Node error (its `code`, e.g.
 * ECONNREFUSED).
 */
export function sendWebhook(url: string, raw: RawWebhook, signal?: AbortSignal, trustedCertPem?: string): Promise<{ status: number; body: string }> {
  // Parsed as fetch did: the URL is normalised (e.g. a space in the query percent-encoded).
  const target = new URL(raw.method === 'GET' ? `${url}${raw.query ? `?${raw.query}` : ''}` : url);
  const body = raw.method === 'POST' ? Buffer.from(raw.body) : null;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: raw.method,
        headers: body ? { 'Content-Type': raw.contentType ?? 'application/json', 'Content-Length': body.length } : {},
        signal: signal ?? AbortSignal.timeout(10_000),
        ...(trustedCertPem && target.protocol === 'https:' ? pinnedTo(trustedCertPem) : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(c.subarray(0, MAX_ANSWER_BYTES - size));
          size += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').trim() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/**
 * TLS options that accept exactly one certificate: our own listener's (self-signed or issued by a CA),
 * whatever name it carries, since the test call reaches it by a loopback address. The chain must still
 * verify (the certificate itself is a trusted root here); then the peer must BE that certificate.
 */
function pinnedTo(certPem: string): HttpsRequestOptions {
  const own = new X509Certificate(certPem);
  return {
    ca: [...rootCertificates, certPem],
    checkServerIdentity: (_host, peer) => (peer.fingerprint256 === own.fingerprint256 ? undefined : new Error(`the listener presented another certificate (${peer.fingerprint256})`)),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the test call; resolves once the first webhook was accepted (the rest follows in the background). */
export async function sendTestCall(options: TestCallOptions): Promise<ActionResult> {
  const logger = options.logger ?? silentLogger;
  const pacing = options.pacing ?? humanPacing;
  if (!options.extension) return { ok: false, error: 'Enter your extension in Settings first: the test call rings it.' };
  const flow = findSeedFlow(testCallFlow);
  if (!flow) return { ok: false, error: `Seed flow ${testCallFlow} is missing.` };
  const opts = { extension: options.extension, freshIds: { stamp: options.stamp ?? freshStamp() }, validJson: true };
  let requests: RawWebhook[];
  let events: string[];
  try {
    requests = flowRequests(flow, opts);
    events = flowSteps(flow, opts).map((s) => String(s.fields?.Event ?? s.fields?.event ?? 'recording').toLowerCase());
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }

  const delayBefore = (event: string): number =>
    event.endsWith('_started') ? pacing.answerAfterMs : event === 'incoming' ? pacing.endAfterMs : event === 'recording' ? pacing.recordingAfterMs : 0;

  const send = async (i: number): Promise<ActionResult> => {
    try {
      const r = await sendWebhook(options.url, requests[i]!, undefined, options.trustedCertPem);
      return r.status === 200 ? { ok: true } : { ok: false, error: `Callpop's listener answered ${r.status}: ${r.body.slice(0, 200)}` };
    } catch (e) {
      return { ok: false, error: `Could not reach Callpop's listener at ${options.url.replace(/\/webhook\/.*/, '/webhook/…')}: ${(e as Error).message}` };
    }
  };

  const first = await send(0);
  if (!first.ok) {
    options.onDone?.(first);
    return first;
  }
  void (async () => {
    let result: ActionResult = { ok: true };
    for (let i = 1; i < requests.length; i++) {
      const wait = delayBefore(events[i]!);
      if (wait > 0) await sleep(wait);
      result = await send(i);
      if (!result.ok) {
        logger.warn(`Test call stopped: ${result.error}`);
        break;
      }
    }
    options.onDone?.(result);
  })();
  return first;
}
