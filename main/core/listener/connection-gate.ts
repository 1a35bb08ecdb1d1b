// Who may hold one of the listener's connection slots, decided when the TCP connection arrives,
// before a byte is parsed or a TLS handshake starts. Without it, a few hundred sockets trickling a
// header line a second hold every slot and the PBX's webhooks go unanswered (a "slowloris").
//
//   - outside the allow-list: refused at once;
//   - per source (an IPv4 address, an IPv6 /64): a cap, so one host cannot take every slot (a
//     trusted one may hold four times as many);
//   - room for the PBX: the last `reserved` slots are only for trusted sources (in the explicit
//     allow-list, or recently posted a valid webhook with the secret);
//   - when the slots a newcomer may use are full, the oldest idle connection of an untrusted source
//     is dropped for it: an attacker's trickling sockets are always idle (they never finish a request
//     head), so a PBX never seen before still gets in, and the attack cannot pin the slots.
import { isIP, type Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open connections in all. */
  max: number;
  /** Open connections per untrusted source (IPv4 address or IPv6 /64); trusted ones: 4 times as many. */
  perSource: number;
  /** Slots (of max) only trusted sources may use. */
  reserved: number;
  /** Sources remembered as trusted (default 256). */
  trustedSources?: number;
}

export const defaultConnectionLimits: ConnectionLimits = { max: 512, perSource: 16, reserved: 64 };

/** How long a source that posted a valid webhook stays trusted, and how many such sources are kept. */
const trustMs = 24 * 3_600_000;
const maxTrustedSources = 256;
/** A trusted source may hold this many times the per-source cap (a relay with a connection pool). */
const trustedSourceFactor = 4;

export type Admission = { ok: true } | { ok: false; reason: string };

interface Entry {
  readonly socket: Socket;
  readonly source: string;
  readonly trusted: boolean;
  /** Requests being handled: a busy connection is never dropped for a newcomer. */
  busy: number;
  /** Frees its slot (once). */
  release(): void;
}

/** IPv4 as is; IPv6 by its /64 (one host usually owns a whole /64). */
export function sourceKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::1.2.3.4) only occurs in the low 64 bits, which are dropped anyway.
  const missing = 8 - left.length - right.length - (right.at(-1)?.includes('.') || left.at(-1)?.includes('.') ? 1 : 0);
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export class ConnectionGate {
  /** Open connections, oldest first (a Map keeps insertion order). */
  private readonly open = new Map<Socket, Entry>();
  /** remote "address|port" → entry, to find the connection of a request (the TLS socket is not the TCP one). */
  private readonly byPeer = new Map<string, Entry>();
  private readonly perSource = new Map<string, number>();
  private untrustedCount = 0;
  /** address → when it last posted a valid webhook (oldest first). */
  private readonly proven = new Map<string, number>();
  /** The last key of `proven` when it was last added there. */
  private newestProven: string | null = null;

  constructor(
    private readonly limits: ConnectionLimits,
    /** In the explicit allow-list (null = no list: everyone may connect, no one is trusted by address). */
    private readonly listed: ((address: string) => boolean) | null,
    /** May connect at all (the allow-list, plus loopback when allowed). */
    private readonly admitted: (address: string) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** Decide on a new TCP connection; refused or evicted sockets are the caller's to destroy (evict: here). */
  admit(socket: Socket, address: string): Admission {
    if (!this.admitted(address)) return { ok: false, reason: 'source address not allowed' };
    const trusted = this.isTrusted(address);
    const source = sourceKey(address);
    // A trusted source (say, a whole allow-listed subnet's worth of hosts) gets more room, never all of it.
    const cap = trusted ? this.limits.perSource * trustedSourceFactor : this.limits.perSource;
    if ((this.perSource.get(source) ?? 0) >= cap) return { ok: false, reason: `more than ${cap} connections from this source` };
    const full = trusted ? this.open.size >= this.limits.max : this.untrustedCount >= this.limits.max - this.limits.reserved || this.open.size >= this.limits.max;
    if (full && !this.evictOldestIdleUntrusted()) return { ok: false, reason: 'every connection slot is in use' };
    const peer = `${socket.remoteAddress ?? ''}|${socket.remotePort ?? ''}`;
    const entry: Entry = {
      socket,
      source,
      trusted,
      busy: 0,
      release: () => {
        if (this.open.get(socket) !== entry) return;
        this.open.delete(socket);
        if (this.byPeer.get(peer) === entry) this.byPeer.delete(peer);
        const n = (this.perSource.get(source) ?? 1) - 1;
        if (n > 0) this.perSource.set(source, n);
        else this.perSource.delete(source);
        if (!trusted) this.untrustedCount--;
      },
    };
    this.open.set(socket, entry);
    this.byPeer.set(peer, entry);
    this.perSource.set(source, (this.perSource.get(source) ?? 0) + 1);
    if (!trusted) this.untrustedCount++;
    socket.once('close', entry.release);
    return { ok: true };
  }

  /**
   * A request started (true) or was answered (false) on the connection of this remote peer. `socket`,
   * when given, is the request's socket: for plain HTTP the admitted one itself, found without building
   * the peer key (this runs twice per webhook); a TLS socket is not, and is found by its peer.
   */
  setBusy(remoteAddress: string | undefined, remotePort: number | undefined, busy: boolean, socket?: Socket): void {
    const entry = (socket && this.open.get(socket)) || this.byPeer.get(`${remoteAddress ?? ''}|${remotePort ?? ''}`);
    if (entry) entry.busy = Math.max(0, entry.busy + (busy ? 1 : -1));
  }

  /** This address posted a valid webhook with the secret: it may use the reserved slots from now on. */
  prove(address: string): void {
    // The newest already (the PBX, webhook after webhook): only its time changes, its place stays.
    if (address === this.newestProven && this.proven.has(address)) {
      this.proven.set(address, this.now());
      return;
    }
    this.proven.delete(address);
    this.proven.set(address, this.now());
    this.newestProven = address;
    if (this.proven.size > (this.limits.trustedSources ?? maxTrustedSources)) this.proven.delete(this.proven.keys().next().value!);
  }

  get size(): number {
    return this.open.size;
  }

  private isTrusted(address: string): boolean {
    if (this.listed?.(address)) return true;
    const at = this.proven.get(address);
    if (at === undefined) return false;
    if (this.now() - at <= trustMs) return true;
    this.proven.delete(address);
    return false;
  }

  private evictOldestIdleUntrusted(): boolean {
    for (const entry of this.open.values()) {
      if (entry.trusted || entry.busy > 0) continue;
      // Freed at once (its 'close' comes a tick later), so each newcomer evicts exactly one.
      entry.release();
      entry.socket.resetAndDestroy();
      return true;
    }
    return false;
  }
}
