// The embedded broker's CONNECT check (aedes' authenticate): agent name and password, scrypt on its
// own thread (./password-checker.ts) with a bound on checks waiting, failed logins throttled per source
// and per name (./login-throttle.ts), unknown names checked against a decoy hash so a refusal costs and
// looks the same for any name, a successful check remembered so reconnects skip scrypt, the client id
// bound to the agent, and a cap on connections per agent. Part of ./embedded-broker.ts.
import { createHash, randomBytes } from 'node:crypto';
import type { Aedes, AuthenticateError, Client } from 'aedes';
import type { Logger } from '../../../../shared/diagnostics-log';
import { clientIdBelongsTo } from '../../../../shared/hub-protocol';
import { RateLimitedLog } from '../../rate-limited-log';
import { hashPassword, type Agent } from '../accounts/agents';
import { LoginThrottle } from './login-throttle';
import { PasswordChecker } from './password-checker';

/** Password checks (scrypt, ~60 ms each on one thread) waiting or running; more at the same time are refused with 3. */
const MAX_PENDING_PASSWORD_CHECKS = 64;
const MAX_CONNECTIONS_PER_AGENT = 8;

const badCredentials = (): AuthenticateError => Object.assign(new Error('Bad user name or password'), { returnCode: 4 as const });
const unavailable = (): AuthenticateError => Object.assign(new Error('Server unavailable'), { returnCode: 3 as const });

type Authenticate = Aedes['authenticate'];

export interface BrokerLoginOptions {
  /** The current agent of a name (agents can change while the broker runs). */
  agent: (name: string) => Agent | undefined;
  logger: Logger;
  refusals: RateLimitedLog;
  maxPendingLogins?: number;
  maxConnectionsPerAgent?: number;
  freeFailedLogins?: { perSource?: number; perName?: number };
  /** The client's normalized source address ('' when unknown). */
  addressOf(client: Client): string;
  /** The client as a log line names it. */
  who(client: Client): string;
  /** agent name → its open (logged-in) clients. */
  byAgent: ReadonlyMap<string, ReadonlySet<Client>>;
  /** The client is now logged in as this agent (before CONNACK). */
  loggedIn(client: Client, agent: Agent, address: string): void;
}

export class BrokerLogin {
  readonly authenticate: Authenticate;
  private readonly checker = new PasswordChecker();

  private constructor(o: BrokerLoginOptions, decoy: string) {
    // Its own budget of lines, so a flood's refusals cannot hide that (and why) logins are throttled.
    const throttled = new RateLimitedLog(o.logger, 'logins refused by the throttle', 2);
    /** Successful checks by (agent, password hash, password): reconnects skip scrypt (~60 ms each). */
    const verified = new Set<string>();
    const throttle = new LoginThrottle({ freePerSource: o.freeFailedLogins?.perSource, freePerName: o.freeFailedLogins?.perName });
    const { refusals, who } = o;
    const checker = this.checker;
    this.authenticate = (client, username, password, done) => {
      const name = username ?? '';
      const address = o.addressOf(client);
      const agent = o.agent(name);
      const shownName = JSON.stringify(name.slice(0, 64));
      if (!password) {
        refusals.note(`Broker refused ${who(client)}: no password`);
        return done(badCredentials(), false);
      }
      // Persistent sessions would make the in-memory broker queue every call of an agent that never
      // comes back (without bound); clients catch up by sync instead. 3.1.1 has no better code than 2.
      if (!client.clean) {
        refusals.note(`Broker refused ${who(client)}: persistent sessions (clean session 0) are not accepted; connect with a clean session, the backfill catches up`);
        return done(Object.assign(new Error('Identifier rejected'), { returnCode: 2 as const }), false);
      }
      // Before any password check: a source or name that failed too often waits (answered at once, the
      // same for every name).
      const blocked = throttle.blocked(address, name);
      if (blocked) {
        throttled.note(`Broker refused ${who(client)} as ${shownName} without checking: ${blocked}`);
        return done(unavailable(), false);
      }
      const key = agent ? createHash('sha256').update(agent.name).update('\0').update(agent.passwordHash).update('\0').update(password).digest('base64') : '';
      const accept = (): void => {
        // Bound at CONNECT: a client id is one agent's (no takeover of a colleague's session).
        if (!clientIdBelongsTo(client.id, agent!.name)) {
          refusals.note(`Broker refused ${who(client)}: the client id is not agent ${agent!.name}'s (it must be agentClientId(name): cp-NAME-…)`);
          return done(Object.assign(new Error('Identifier rejected'), { returnCode: 2 as const }), false);
        }
        const open = o.byAgent.get(agent!.name);
        if (open && open.size >= (o.maxConnectionsPerAgent ?? MAX_CONNECTIONS_PER_AGENT) && ![...open].some((c) => c.id === client.id)) {
          refusals.note(`Broker refused ${who(client)}: agent ${agent!.name} already has ${open.size} connections`);
          return done(unavailable(), false);
        }
        throttle.succeeded(address, agent!.name);
        o.loggedIn(client, agent!, address);
        done(null, true);
      };
      if (agent && verified.has(key)) return accept();
      // Each check costs ~60 ms of scrypt on one thread: bound how many wait, so a flood of logins cannot
      // queue up minutes of work (the excess is told "server unavailable" and retries later).
      if (checker.pending >= (o.maxPendingLogins ?? MAX_PENDING_PASSWORD_CHECKS)) {
        refusals.note(`Broker refused ${who(client)}: too many logins being checked at once`);
        return done(unavailable(), false);
      }
      if (!throttle.begin(address)) {
        throttled.note(`Broker refused ${who(client)} as ${shownName} without checking: its source has logins being checked`);
        return done(unavailable(), false);
      }
      checker.verify(password, agent?.passwordHash ?? decoy).finally(() => throttle.done(address)).then(
        (ok) => {
          // The agent may have been removed or changed while scrypt ran.
          if (!agent || !ok || o.agent(name)?.passwordHash !== agent.passwordHash) {
            throttle.failed(address, name);
            refusals.note(`Broker refused ${who(client)}: ${agent ? `wrong password for agent ${agent.name}` : `unknown agent ${shownName}`}`);
            return done(badCredentials(), false);
          }
          if (verified.size > 10_000) verified.clear();
          verified.add(key);
          accept();
        },
        (e: unknown) => {
          o.logger.error(`Password check failed: ${(e as Error).message}`);
          done(unavailable(), false);
        },
      );
    };
  }

  static async create(o: BrokerLoginOptions): Promise<BrokerLogin> {
    // Unknown names are checked against this, so a refusal costs and looks the same for any name.
    const decoy = await hashPassword(randomBytes(18).toString('base64url'));
    return new BrokerLogin(o, decoy);
  }

  close(): Promise<void> {
    return this.checker.close();
  }
}
