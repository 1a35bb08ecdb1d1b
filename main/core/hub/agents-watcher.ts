// The hub's live view of agents.json: loaded at start, re-read when the file changes (watched, and
// polled for file systems without events), and published as the retained directory and each agent's
// own extensions topic. A reload cuts the connections of agents removed or changed (their password,
// extensions or role) and confirms the new file in agents.applied, which `callpop hub agent remove`
// waits for (./accounts/agents-applied.ts). Part of startHub (./hub.ts).
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { HUB_PROTOCOL_VERSION, topics, type AgentExtensionsMessage, type DirectoryMessage } from '../../../shared/hub-protocol';
import type { Logger } from '../../../shared/diagnostics-log';
import type { RateLimitedLog } from '../rate-limited-log';
import { agentsFileName, agentsFilePath, directoryOf, dropUnusedMosquittoHashes, readAgentsText, type Agent } from './accounts/agents';
import { agentsDigest, writeAgentsApplied } from './accounts/agents-applied';

export interface HubAgentsOptions {
  dataDir: string;
  brokerKind: 'embedded' | 'external';
  site: string;
  logger: Logger;
  /** Retained publish; failures are the caller's to log. */
  publish(topic: string, payload: string, retain: boolean): void;
  publishErrors: RateLimitedLog;
}

export interface AgentsReloadHooks {
  /** Agents removed or changed: their connections are cut (before agents.applied is written). */
  disconnect(names: ReadonlySet<string>): void;
  /** After a reload is confirmed and its topics published. */
  reloaded(agents: readonly Agent[]): void;
}

export class HubAgents {
  private byName: Map<string, Agent>;
  private reloading: Promise<void> = Promise.resolve();
  private dirWatch: FSWatcher | null = null;
  private watching = false;
  /** Agent name → the retained `agent/{name}/extensions` payload last published (cleared when removed). */
  private readonly agentTopics = new Map<string, string>();

  private constructor(
    private readonly o: HubAgentsOptions,
    private list: Agent[],
    private readonly loadedText: string,
  ) {
    this.byName = new Map(list.map((a) => [a.name, a]));
  }

  /** Reads agents.json (a file this user cannot read throws, said in one line by whoever started the hub). */
  static async load(o: HubAgentsOptions): Promise<HubAgents> {
    let loaded = await readAgentsText(o.dataDir);
    if (o.brokerKind === 'embedded') {
      // Mosquitto hashes in a folder never set up for Mosquitto are only a cheaper target (#16 4.6).
      const dropped = await dropUnusedMosquittoHashes(o.dataDir).catch((e: unknown) => (o.logger.error(`Could not drop unused Mosquitto hashes: ${(e as Error).message}`), 0));
      if (dropped > 0) {
        o.logger.info(`Dropped the Mosquitto password hashes of ${dropped} agent(s): this hub's folder is not set up for Mosquitto (\`callpop hub mosquitto-files\` sets it up)`);
        loaded = await readAgentsText(o.dataDir);
      }
    }
    return new HubAgents(o, loaded.agents, loaded.text);
  }

  get agents(): readonly Agent[] {
    return this.list;
  }

  get(name: string): Agent | undefined {
    return this.byName.get(name);
  }

  /** Writes agents.applied for the file loaded at start. */
  confirmLoaded(): Promise<void> {
    return writeAgentsApplied(this.o.dataDir, agentsDigest(this.loadedText), this.o.brokerKind).catch((e: unknown) => this.o.logger.error(`Could not confirm the agents loaded: ${(e as Error).message}`));
  }

  /** Reloads on every change of agents.json from now on. */
  watch(pollMs: number, hooks: AgentsReloadHooks): void {
    this.hooks = hooks;
    this.watching = true;
    watchFile(agentsFilePath(this.o.dataDir), { interval: pollMs, persistent: false }, () => void this.reload());
    // At once on a change (inotify and the like); the poll above stays for file systems without events.
    try {
      this.dirWatch = watch(this.o.dataDir, { persistent: false }, (_event, file) => {
        if (file === agentsFileName) void this.reload();
      });
      this.dirWatch.on('error', () => this.dirWatch?.close());
    } catch {
      this.dirWatch = null;
    }
  }

  unwatch(): void {
    if (this.watching) unwatchFile(agentsFilePath(this.o.dataDir));
    this.watching = false;
    this.dirWatch?.close();
  }

  /** Resolves once the reloads started so far are done. */
  settled(): Promise<void> {
    return this.reloading;
  }

  /** Re-reads agents.json now (one reload at a time, in order). */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadNow());
    return this.reloading;
  }

  /** The directory and every agent's extensions (after a broker (re)connect). */
  publishRetained(): void {
    this.publishDirectory();
    this.publishExtensions(true);
  }

  private hooks: AgentsReloadHooks | null = null;

  private async reloadNow(): Promise<void> {
    const { dataDir, logger } = this.o;
    let next: Agent[];
    let text: string;
    try {
      ({ agents: next, text } = await readAgentsText(dataDir));
    } catch (e) {
      logger.error(`Agents not reloaded, keeping the previous list: ${(e as Error).message}`);
      return;
    }
    const nextByName = new Map(next.map((a) => [a.name, a]));
    const cut = new Set<string>();
    for (const [name, a] of this.byName) {
      const n = nextByName.get(name);
      if (!n || n.passwordHash !== a.passwordHash || n.extensions.join() !== a.extensions.join() || n.role !== a.role) cut.add(name);
    }
    const directoryChanged = JSON.stringify(directoryOf(this.list)) !== JSON.stringify(directoryOf(next));
    const added = next.filter((a) => !this.byName.has(a.name)).map((a) => a.name);
    this.list = next;
    this.byName = nextByName;
    if (cut.size > 0 || added.length > 0) logger.info(`Agents reloaded (${next.length}${added.length ? `; added ${added.join(', ')}` : ''}${cut.size ? `; removed or changed ${[...cut].join(', ')}` : ''})`);
    this.hooks?.disconnect(cut);
    // `agent remove` waits for this before it exits (./accounts/agents-applied.ts).
    await writeAgentsApplied(dataDir, agentsDigest(text), this.o.brokerKind).catch((e: unknown) => logger.error(`Could not confirm the agents reload: ${(e as Error).message}`));
    if (directoryChanged) this.publishDirectory();
    this.publishExtensions(false);
    this.hooks?.reloaded(next);
  }

  private publishDirectory(): void {
    const message: DirectoryMessage = { v: HUB_PROTOCOL_VERSION, agents: directoryOf(this.list) };
    this.o.publish(topics.directory(this.o.site), JSON.stringify(message), true);
  }

  /** Each agent's own extensions on its own topic: new and changed ones, all with `all`; removed ones cleared. */
  private publishExtensions(all: boolean): void {
    const { site, publish } = this.o;
    for (const [name] of this.agentTopics) {
      if (this.byName.has(name)) continue;
      this.agentTopics.delete(name);
      publish(topics.agentExtensions(site, name), '', true);
    }
    for (const a of this.list) {
      const payload = JSON.stringify({ v: HUB_PROTOCOL_VERSION, extensions: [...a.extensions] } satisfies AgentExtensionsMessage);
      if (!all && this.agentTopics.get(a.name) === payload) continue;
      let topic: string;
      try {
        topic = topics.agentExtensions(site, a.name);
      } catch (e) {
        // A name agents.json should never hold (parseAgentName keeps them short): its clients are not told.
        this.o.publishErrors.note(`No extensions topic for agent ${JSON.stringify(a.name)}: ${(e as Error).message}`);
        continue;
      }
      this.agentTopics.set(a.name, payload);
      publish(topic, payload, true);
    }
  }
}
