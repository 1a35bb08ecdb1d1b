// Tells the core to reconnect to the hub at once when the OS resumes from sleep, the screen is
// unlocked or the network changes: after sleep the old connection may be dead without any close event,
// and waiting for MQTT's keep-alive to notice takes a minute of missed pops. Electron has no
// network-change event in main, so the machine's addresses are compared every few seconds (main's timers
// are not throttled like a renderer's).
import type { NetworkInterfaceInfo } from 'node:os';

export interface PowerMonitorLike {
  on(event: 'resume' | 'unlock-screen', listener: () => void): unknown;
  removeListener(event: 'resume' | 'unlock-screen', listener: () => void): unknown;
}

export interface PowerEventsOptions {
  powerMonitor: PowerMonitorLike;
  /** os.networkInterfaces */
  interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  reconnect: (reason: string) => void;
  /** How often the addresses are compared. Default 5 s. */
  pollMs?: number;
  /** Events this close together make one reconnect (resume and unlock come together). Default 1 s. */
  coalesceMs?: number;
}

/** The machine's external addresses, as one comparable string. */
export function networkSignature(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string {
  const out: string[] = [];
  for (const [name, list] of Object.entries(interfaces)) {
    for (const a of list ?? []) if (!a.internal) out.push(`${name}/${a.address}`);
  }
  return out.sort().join(',');
}

/** Starts watching; returns the stop function. */
export function watchPowerEvents(o: PowerEventsOptions): () => void {
  let last = 0;
  let pending: ReturnType<typeof setTimeout> | null = null;
  const coalesce = o.coalesceMs ?? 1000;
  const fire = (reason: string) => {
    const now = Date.now();
    if (now - last < coalesce) return;
    last = now;
    o.reconnect(reason);
  };
  const onResume = () => fire('resumed from sleep');
  const onUnlock = () => fire('screen unlocked');
  o.powerMonitor.on('resume', onResume);
  o.powerMonitor.on('unlock-screen', onUnlock);

  let signature = safeSignature(o.interfaces);
  const poll = setInterval(() => {
    const next = safeSignature(o.interfaces);
    if (next === signature) return;
    signature = next;
    // An interface that comes up takes a moment to route: reconnect once it settled.
    if (pending) clearTimeout(pending);
    pending = setTimeout(() => {
      pending = null;
      fire('network changed');
    }, 250);
  }, o.pollMs ?? 5000);
  poll.unref?.();

  return () => {
    clearInterval(poll);
    if (pending) clearTimeout(pending);
    o.powerMonitor.removeListener('resume', onResume);
    o.powerMonitor.removeListener('unlock-screen', onUnlock);
  };
}

function safeSignature(interfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>): string {
  try {
    return networkSignature(interfaces());
  } catch {
    return '';
  }
}
