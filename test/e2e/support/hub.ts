// A REAL `callpop hub` for browser tests (startHub in a temp folder, embedded broker or a real Mosquitto, on
// loopback) and a bridge whose core is a hub client. Between the core and the broker sits a loopback TCP
// relay the test can cut: "the PC is offline" without touching the hub.
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from '@playwright/test';
import { addAgent } from '../../../main/core/hub/accounts/agents';
import { startHub, type Hub } from '../../../main/core/hub/hub';
import { Bridge, type BridgeOptions } from '../bridge/bridge';
import { blockNonLoopback } from '../fixtures';
import { startMosquitto, type RunningMosquitto } from '../../support/mosquitto';

/** A loopback TCP relay to the broker that can be cut (offline) and restored. */
class Relay {
  private readonly pairs = new Set<Socket>();
  offline = false;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target: URL): Promise<Relay> {
    let relay: Relay | null = null;
    const server = createServer((inbound) => {
      if (!relay || relay.offline) return void inbound.destroy();
      const outbound = createConnection({ host: target.hostname, port: Number(target.port) });
      for (const s of [inbound, outbound]) {
        relay.pairs.add(s);
        s.on('close', () => relay?.pairs.delete(s));
        s.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    relay = new Relay(server, `${target.protocol}//127.0.0.1:${(server.address() as AddressInfo).port}`);
    return relay;
  }

  setOffline(offline: boolean): void {
    this.offline = offline;
    if (offline) for (const s of this.pairs) s.destroy();
  }

  close(): Promise<void> {
    this.setOffline(true);
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

export class HubRig {
  hub!: Hub;
  relay!: Relay;
  readonly bridges: Bridge[] = [];
  private mosquitto: RunningMosquitto | null = null;
  private constructor(
    readonly dir: string,
    /** anna (117, "Anna") and ben (204, "Ben"). */
    readonly passwords: { anna: string; ben: string },
  ) {}

  /** `external`: the hub publishes to a real Mosquitto (so the broker outlives the hub: "Hub offline"). */
  static async start(opts: { external?: boolean } = {}): Promise<HubRig> {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-e2e-hub-'));
    const anna = await addAgent(dir, { name: 'anna', extensions: ['117'], displayName: 'Anna' });
    const ben = await addAgent(dir, { name: 'ben', extensions: ['204'], displayName: 'Ben' });
    const rig = new HubRig(dir, { anna: anna.password, ben: ben.password });
    try {
      if (opts.external) rig.mosquitto = await startMosquitto();
      await rig.startHub();
      rig.relay = await Relay.start(new URL(rig.hub.brokerUrl));
    } catch (e) {
      await rig.stop();
      throw e;
    }
    return rig;
  }

  async startHub(): Promise<void> {
    this.hub = await startHub({
      dataDir: this.dir,
      host: '127.0.0.1',
      port: 0,
      broker: this.mosquitto ? { kind: 'external', url: this.mosquitto.url } : { kind: 'embedded', host: '127.0.0.1', port: 0 },
      agentsPollMs: 50,
      tickMs: 60_000,
    });
  }

  /** A bridge (and so a page's app) whose core connects to this hub through the relay as anna on 117. */
  async bridge(context: BrowserContext, opts: BridgeOptions = {}): Promise<Bridge> {
    await blockNonLoopback(context);
    const b = await Bridge.start({
      hubPassword: this.passwords.anna,
      awaySummaryDelayMs: 300,
      ...opts,
      settings: { extension: '117', source: 'hub', hubUrl: this.relay.url, hubAgent: 'anna', ...opts.settings },
      backend: { hub: { reconnect: { initialMs: 50, maxMs: 300 }, syncTimeoutMs: 3000 }, ...opts.backend },
    });
    this.bridges.push(b);
    return b;
  }

  async stop(): Promise<void> {
    for (const b of this.bridges.splice(0)) await b.close().catch(() => undefined);
    await this.relay?.close().catch(() => undefined);
    await this.hub?.close().catch(() => undefined);
    await this.mosquitto?.stop().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
