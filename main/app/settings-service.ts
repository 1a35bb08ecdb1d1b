// The effective settings of the app: built-in defaults, the machine policy (defaults and locks),
// and the user's own changes, combined by shared/policy.ts. Owns updates from Settings (locked keys
// refused, whole result validated, persisted, then announced) and the policy's life cycle.
// No Electron here, so it is unit-tested directly; the electron-store lives in settings-store.ts.
import type { NetworkInterfaceInfo } from 'node:os';
import type { SettingsUpdateResult, SettingsView } from '../../shared/ipc/contract';
import type { Logger } from '../../shared/diagnostics-log';
import { applyUserPatch, resolveSettings, withoutPolicyOnly } from '../../shared/policy';
import type { Policy, Resolved, SettingsOverrides } from '../../shared/policy';
import { webhookUrl } from '../../shared/settings';
import type { Settings } from '../../shared/settings';

/** The user's own changes, sparse (absent keys follow the policy defaults, then built-in defaults). */
export interface UserOverridesStore {
  read(): unknown;
  write(overrides: SettingsOverrides): void;
}

export type PolicyState = { ok: true; policy: Policy | null } | { ok: false; error: string };

export interface SettingsServiceOptions {
  store: UserOverridesStore;
  loginName: string;
  generateSecret: () => string;
  networkInterfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  logger: Logger;
  policy?: PolicyState;
  /** The port the listener actually bound, when known: the URLs show it for listenPort 0. */
  boundPort?: () => number | null;
}

export type SettingsListener = (view: SettingsView, previous: Settings) => void;

export class SettingsService {
  private policy: Policy | null = null;
  private policyErrorText: string | null = null;
  private resolved: Resolved;
  private readonly listeners: SettingsListener[] = [];

  constructor(private readonly o: SettingsServiceOptions) {
    // Older versions let Settings store the update URL: it is policy-only now, so migrate it away.
    const migrated = withoutPolicyOnly(o.store.read());
    if (migrated) {
      o.store.write(migrated.user as SettingsOverrides);
      o.logger.info(`settings: removed ${migrated.removed.join(', ')} from the user's settings (only the machine policy sets it)`);
    }
    if (o.policy) this.acceptPolicy(o.policy);
    this.resolved = this.resolve();
    this.logInvalid();
  }

  get settings(): Settings {
    return this.resolved.settings;
  }

  get locked(): Record<string, string> {
    return this.resolved.locked;
  }

  get policyError(): string | null {
    return this.policyErrorText;
  }

  onChange(listener: SettingsListener): void {
    this.listeners.push(listener);
  }

  view(): SettingsView {
    const s = this.settings;
    const bound = s.listenPort === 0 ? (this.o.boundPort?.() ?? null) : null;
    const urlSettings = bound === null ? s : { ...s, listenPort: bound };
    return { settings: s, locked: this.locked, webhookUrls: webhookUrls(urlSettings, this.o.networkInterfaces()) };
  }

  /** First run: a random webhook secret, stored with the user's settings (unless the policy sets it). */
  ensureSecret(): void {
    if (this.settings.webhookSecret !== '' || this.locked.webhookSecret !== undefined) return;
    const r = this.update({ webhookSecret: this.o.generateSecret() });
    if (r.ok) this.o.logger.info('settings: generated a webhook secret');
  }

  update(patch: unknown): SettingsUpdateResult {
    const r = applyUserPatch({ user: this.o.store.read(), policy: this.policy, loginName: this.o.loginName, patch });
    if (!r.ok) return { ok: false, errors: r.errors };
    this.o.store.write(r.user);
    this.commit(this.resolve());
    return { ok: true, view: this.view() };
  }

  regenerateSecret(): SettingsView {
    const reason = this.locked.webhookSecret;
    if (reason !== undefined) throw new Error(`${reason}: the webhook secret cannot be changed here.`);
    const r = this.update({ webhookSecret: this.o.generateSecret() });
    if (!r.ok) throw new Error(Object.values(r.errors)[0] ?? 'Could not change the secret.');
    return r.view;
  }

  /** A new policy load result (start, or the file changed). An invalid file is reported and ignored. */
  setPolicy(state: PolicyState): void {
    this.acceptPolicy(state);
    this.commit(this.resolve());
  }

  private acceptPolicy(state: PolicyState): void {
    if (state.ok) {
      this.policy = state.policy;
      this.policyErrorText = null;
      if (state.policy) this.o.logger.info(`policy: applied (${Object.keys(state.policy.locked).length} locked keys)`);
    } else {
      // Never half-applied: the previous valid policy (or none) stays in force.
      this.policyErrorText = state.error;
      this.o.logger.error(`policy: ${state.error}`);
    }
  }

  private resolve(): Resolved {
    return resolveSettings({ user: this.o.store.read(), policy: this.policy, loginName: this.o.loginName });
  }

  private logInvalid(): void {
    if (this.resolved.invalidUserKeys.length > 0) this.o.logger.warn(`settings: invalid stored values ignored: ${this.resolved.invalidUserKeys.join(', ')}`);
  }

  private commit(next: Resolved): void {
    const previous = this.resolved.settings;
    this.resolved = next;
    this.logInvalid();
    const view = this.view();
    for (const l of this.listeners) l(view, previous);
  }
}

/** One webhook URL per non-internal IPv4 address when listening on all interfaces. */
export function webhookUrls(settings: Settings, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
  const { listenHost, listenPort, webhookSecret } = settings;
  // The core serves HTTPS when both PEM files are set (it reports a half-set pair as its error state).
  const scheme = settings.tlsCertFile && settings.tlsKeyFile ? 'https' : 'http';
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return [webhookUrl(listenHost, listenPort, webhookSecret, scheme)];
  const addresses: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal && !addresses.includes(info.address)) addresses.push(info.address);
    }
  }
  if (addresses.length === 0) addresses.push('127.0.0.1');
  return addresses.map((a) => webhookUrl(a, listenPort, webhookSecret, scheme));
}
