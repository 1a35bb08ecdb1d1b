// Actions on an agent's own calls, through the hub (issue 18 §2): an agent publishes
// `{v, clientId, requestId, action, callId?, destination?}` on `callpop/v1/{site}/ext/{ext}/actions/req`
// and gets `{v, requestId, ok, error?}` on `…/actions/res/{clientId}`.
//
// Who may ask: the broker lets an agent publish on its OWN extensions' request topics only
// (hub/broker/access.ts, the Mosquitto ACL), so the extension in the topic is the agent's. Here the hub checks
// the rest: the call belongs to that extension (its participant is on the extension's DN), the
// destination passes the dial policy (--dial-allow), the extension has not asked too often (a token
// bucket per extension), and it logs each action. Nothing is retried: every failure goes back to the
// agent in words (the PBX refused, the call is gone, not allowed, not supported by this source).
//
// Executors: Call Control (makecall on the agent's DN, drop / transferto / answer on its participant)
// and the WebAPI add-on (MakeCall only: GET /webapi/{key}/makecall?first=EXT&second=NUMBER).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HUB_PROTOCOL_VERSION, actionRequestSchema, decodePayload, parseTopic, topics, type ActionRequest, type ActionResponse, type CallAction } from '../../../shared/hub-protocol';
import { redactNumber, type Logger } from '../../../shared/diagnostics-log';
import type { Hub } from '../hub/hub';
import type { CallControlClient } from './client';
import type { PbxAnswer } from './pbx-http';

export type ActionOutcome = { ok: true } | { ok: false; error: string };

/** Carries out one checked action for `ext`. */
export interface ActionExecutor {
  /** Which actions this source can do at all. */
  readonly supports: ReadonlySet<CallAction>;
  run(ext: string, req: ActionRequest): Promise<ActionOutcome>;
}

const NOT_SUPPORTED_TEXT = 'Not supported by this source of calls.';
const NOT_SUPPORTED: ActionOutcome = { ok: false, error: NOT_SUPPORTED_TEXT };

/** The PBX's answer to an action, as words for the agent. */
function pbxOutcome(a: PbxAnswer, what: string): ActionOutcome {
  if (a.status >= 200 && a.status < 300) return { ok: true };
  const reason = typeof (a.json as { reasontext?: unknown } | undefined)?.reasontext === 'string' ? String((a.json as { reasontext: string }).reasontext).slice(0, 200) : '';
  if (a.status === 404) return { ok: false, error: `The call is gone (the PBX no longer knows it).` };
  return { ok: false, error: `The PBX refused to ${what} (HTTP ${a.status}${reason ? `: ${reason}` : ''}).` };
}

export function callControlExecutor(client: CallControlClient): ActionExecutor {
  const participantOf = (ext: string, callId: string | undefined) => {
    const m = /^cc(\d{1,16})$/.exec(callId ?? '');
    if (!m) return undefined;
    const callid = Number(m[1]);
    return client.participantsOf(ext).find((p) => p.callid === callid);
  };
  return {
    supports: new Set<CallAction>(['call', 'hangup', 'transfer', 'answer']),
    async run(ext, req) {
      const path = (p: { dn: string; id: number }, verb: string) => `/callcontrol/${encodeURIComponent(p.dn)}/participants/${p.id}/${verb}`;
      try {
        switch (req.action) {
          case 'call':
            return pbxOutcome(await client.request('POST', `/callcontrol/${encodeURIComponent(ext)}/makecall`, { destination: req.destination }), 'place the call');
          case 'hangup':
          case 'transfer':
          case 'answer': {
            const p = participantOf(ext, req.callId);
            if (!p) return { ok: false, error: 'The call is gone, or it is not one of your calls.' };
            if (req.action === 'answer' && !p.direct_control) return { ok: false, error: 'Your phone does not let the PBX answer for you; pick up on the phone.' };
            if (req.action === 'transfer' && p.status !== 'Connected') return { ok: false, error: 'Only a call you are talking on can be transferred.' };
            const verb = req.action === 'hangup' ? 'drop' : req.action === 'transfer' ? 'transferto' : 'answer';
            const body = req.action === 'transfer' ? { destination: req.destination } : {};
            return pbxOutcome(await client.request('POST', path(p, verb), body), req.action === 'hangup' ? 'hang up' : req.action);
          }
        }
      } catch (e) {
        return { ok: false, error: `The PBX could not be reached: ${(e as Error).message}` };
      }
    },
  };
}

/** The WebAPI add-on's MakeCall (the only action it offers); the key is a secret and never logged. */
export function webApiExecutor(o: { url: URL; key: string; ca?: string | Buffer | undefined; timeoutMs?: number }): ActionExecutor {
  return {
    supports: new Set<CallAction>(['call']),
    async run(ext, req) {
      if (req.action !== 'call') return NOT_SUPPORTED;
      const u = new URL(`/webapi/${encodeURIComponent(o.key)}/makecall`, o.url);
      u.searchParams.set('first', ext);
      u.searchParams.set('second', req.destination ?? '');
      const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
      try {
        const status = await new Promise<number>((resolve, reject) => {
          const r = send(u, { method: 'GET', timeout: o.timeoutMs ?? 10_000, ...(o.ca ? { ca: o.ca } : {}) }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          });
          r.on('timeout', () => r.destroy(new Error('no answer in time')));
          r.on('error', reject);
          r.end();
        });
        return status >= 200 && status < 300 ? { ok: true } : { ok: false, error: `The WebAPI add-on refused the call (HTTP ${status}).` };
      } catch (e) {
        return { ok: false, error: `The WebAPI add-on could not be reached: ${(e as Error).message.replace(o.key, '…')}` };
      }
    },
  };
}

export interface HubActionsOptions {
  site: string;
  executor: ActionExecutor | null;
  logger: Logger;
  /** Destinations allowed for call/transfer (whole number must match); null = any. */
  dialAllow?: RegExp | null;
  /** Actions per extension per minute. Default 20. */
  perMinute?: number;
  now?: () => number;
}

/** Listens for action requests on the hub and answers each one. Returns the unsubscribe. */
export function startHubActions(hub: Pick<Hub, 'onClientPublish' | 'publishToAgent'>, o: HubActionsOptions): () => void {
  const now = o.now ?? Date.now;
  const perMinute = o.perMinute ?? 20;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const allow = (ext: string): boolean => {
    const t = now();
    const b = buckets.get(ext) ?? { tokens: perMinute, at: t };
    b.tokens = Math.min(perMinute, b.tokens + ((t - b.at) / 60_000) * perMinute);
    b.at = t;
    buckets.set(ext, b);
    if (buckets.size > 100_000) buckets.delete(buckets.keys().next().value as string);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
  const answer = (ext: string, req: ActionRequest, outcome: ActionOutcome) => {
    const msg: ActionResponse = { v: HUB_PROTOCOL_VERSION, requestId: req.requestId, ok: outcome.ok, ...(outcome.ok ? {} : { error: outcome.error }) };
    hub.publishToAgent(topics.actionsResponse(o.site, ext, req.clientId), JSON.stringify(msg));
    const what = `${req.action}${req.callId ? ` call ${req.callId}` : ''}${req.destination ? ` to ${redactNumber(req.destination)}` : ''}`;
    o.logger.info(`Action by extension ${ext}: ${what}: ${outcome.ok ? 'done' : outcome.error}`);
  };
  return hub.onClientPublish((topic, payload) => {
    const t = parseTopic(topic);
    if (!t || t.site !== o.site || t.kind !== 'actionsRequest') return;
    const parsed = decodePayload(actionRequestSchema, payload);
    if (!parsed.ok) {
      o.logger.warn(`Ignored an action request on ${topic}: ${parsed.error}`);
      return;
    }
    const req = parsed.value;
    const ext = t.ext;
    const refuse = (error: string) => answer(ext, req, { ok: false, error });
    if (!o.executor || !o.executor.supports.has(req.action)) return refuse(NOT_SUPPORTED_TEXT);
    if (!allow(ext)) return refuse('Too many requests; wait a moment and try again.');
    if ((req.action === 'call' || req.action === 'transfer') && !req.destination) return refuse('A number to call is missing.');
    if (req.action !== 'call' && !req.callId) return refuse('Which call? The request names none.');
    if (req.destination && o.dialAllow && !o.dialAllow.test(req.destination)) return refuse(`Calls to ${req.destination} are not allowed here.`);
    o.executor.run(ext, req).then(
      (outcome) => answer(ext, req, outcome),
      (e: unknown) => refuse(`The action failed: ${(e as Error).message}`),
    );
  });
}

/** `--dial-allow PATTERN`: a regular expression the whole destination must match (e.g. "^(0[1-9][0-9]{6,}|[0-9]{3})$"). */
export function parseDialAllow(text: string): RegExp {
  if (text.length > 256) throw new Error('--dial-allow is too long (256 characters at most)');
  return new RegExp(`^(?:${text})$`);
}
