// The Call Control access token, owned by this process: 3CX keeps ONE valid token per API client, so
// two holders break each other. Fetched on demand, refreshed before it expires, dropped on a 401 (the
// caller retries once with a fresh one), never reused once expired (peers who reused an expired token
// on reconnect got a permanent 401 loop: GlomarGadaffi/pocket-dial#336). The secret never appears in
// an error or a log line; a refused secret is reported as such, without it.
import { pbxRequest, type PbxHttpOptions } from './pbx-http';
import { tokenSchema } from './schema';

export class TokenRefusedError extends Error {}

export interface TokenOwner {
  /** A token valid for at least the refresh margin (fetches one when needed; one fetch at a time). */
  get(): Promise<string>;
  /** The PBX answered 401 with this token: forget it. */
  invalidate(token: string): void;
  /** When the current token must be replaced (ms since epoch), or null when none is held. */
  readonly expiresAt: number | null;
}

/** Before 20.0.9 the PBX sends no expires_in; the official examples cache a token for 30 min. */
const DEFAULT_TTL_SEC = 1800;

export function tokenOwner(o: PbxHttpOptions & { clientId: string; clientSecret: string; now?: () => number }): TokenOwner {
  const now = o.now ?? Date.now;
  let token: string | null = null;
  let refreshAt = 0;
  let pending: Promise<string> | null = null;

  const fetchToken = async (): Promise<string> => {
    const answer = await pbxRequest(o, 'POST', '/connect/token', {
      form: { client_id: o.clientId, client_secret: o.clientSecret, grant_type: 'client_credentials' },
      maxBytes: 64 * 1024,
    });
    if (answer.status === 400 || answer.status === 401) {
      throw new TokenRefusedError(`3CX refused the API client "${o.clientId}" (HTTP ${answer.status}): check the client ID and the secret file (Admin Console → Integrations → API)`);
    }
    if (answer.status !== 200) throw new Error(`3CX token endpoint answered HTTP ${answer.status}`);
    const parsed = tokenSchema.safeParse(answer.json);
    if (!parsed.success) throw new Error('3CX token endpoint sent an answer without a usable access_token');
    const ttlMs = (parsed.data.expires_in ?? DEFAULT_TTL_SEC) * 1000;
    // Refresh with a fifth of the lifetime left (at most a minute before), never on an expired one.
    refreshAt = now() + ttlMs - Math.min(60_000, ttlMs / 5);
    token = parsed.data.access_token;
    return token;
  };

  return {
    get() {
      if (token !== null && now() < refreshAt) return Promise.resolve(token);
      token = null;
      pending ??= fetchToken().finally(() => {
        pending = null;
      });
      return pending;
    },
    invalidate(t) {
      if (token === t) token = null;
    },
    get expiresAt() {
      return token === null ? null : refreshAt;
    },
  };
}
