// The e2e bridge: the REAL core backend (listener, tracker, call log, downloads) in the test process,
// an HTTP server that serves the built renderer, and the IPC contract over HTTP (requests) and SSE
// (pushes). "main" channels are answered by main's own handlers (createMainHandlers, as the app wires
// them) over main/app's own pieces (SettingsService, WindowPushQueue, PopupController, CallNotifier,
// RecordingCredentialsService, HubPasswordService, DownloadedFiles); only what needs a desktop is a
// fake here (dialogs, shell, clipboard, the popup window, displays): recorded for asserts. With
// settings.source "hub" the core is a real hub client (test/e2e/hub*.spec.ts).
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { build } from 'esbuild';
import { invokeOwners } from '../../../shared/ipc/contract';
import type { AppStatus, CallView, CoreChannel, DownloadProgress, InvokeChannel, MainChannel, PushChannel, PushMap } from '../../../shared/ipc/contract';
import { checkInvokeArgs } from '../../../shared/ipc/schemas';
import type { Policy, SettingsOverrides } from '../../../shared/policy';
import { webhookUrl } from '../../../shared/settings';
import type { SettingsPatch } from '../../../shared/settings';
import type { RecordingCredentials } from '../../../shared/service-protocol';
import { silentLogger } from '../../../shared/diagnostics-log';
import { HubPasswordService, RecordingCredentialsService } from '../../../main/app/credentials';
import { DownloadedFiles } from '../../../main/app/downloads';
import type { MainHandlers } from '../../../main/app/ipc';
import { createMainHandlers } from '../../../main/app/main-handlers';
import { CallNotifier } from '../../../main/app/notifications';
import { PopupController } from '../../../main/app/popup-controller';
import { MEDIA_HOST, MEDIA_SCHEME } from '../../../main/app/protocols';
import { MAIN_WINDOW_ONLY, WindowPushQueue } from '../../../main/app/window-push-queue';
import { SettingsService } from '../../../main/app/settings-service';
import { createCoreBackend } from '../../../main/core/desktop/create-core-backend';
import type { BackendExtras } from '../../../main/core/desktop/create-core-backend';
import type { CoreBackend, CoreBackendOptions } from '../../../main/core/desktop/core-backend';
import { rendererDir } from '../support/build-renderer';

export interface BridgeOptions {
  /** The user's settings before start (extension, country, …). Listener defaults: 127.0.0.1, port 0. */
  settings?: SettingsOverrides;
  /** A machine policy (locked keys). */
  policy?: Policy;
  /** Runs on the empty data dir before the backend opens it (e.g. write 100k calls to the store). */
  prepareDataDir?: (dataDir: string) => Promise<void>;
  /** Test tuning of the core; `now` is its clock (a test moves it past a timeout without waiting). */
  backend?: BackendExtras & Pick<CoreBackendOptions, 'now'>;
  /** Whether the OS offers secure storage for the recording password (safeStorage). Default true. */
  credentialsAvailable?: boolean;
  /** Serve the pages with the bridge client in them (a plain browser, no addInitScript: preview:browser). */
  injectClient?: boolean;
  /** Port for the pages (default 0 = any free one). */
  port?: number;
  /** A hub password saved before start (Settings → Connection → Callpop hub; the app keeps it with safeStorage). */
  hubPassword?: string;
  /** How long the notifier gathers backfilled missed calls into one summary (default: the app's). */
  awaySummaryDelayMs?: number;
}

export interface Recorded {
  clipboard: string[];
  opened: string[];
  shownInFolder: string[];
  dismissed: string[];
  exports: string[];
  /** Heights the popup page reported (popup:resize). */
  popupHeights: number[];
  /** How often a page asked main to give the focus back (Esc in the popup). */
  focusReturns: number;
  /** OS notifications main's CallNotifier would have shown. */
  notifications: { title: string; body: string }[];
}

let clientBundle: string | null = null;
async function clientScript(origin: string): Promise<string> {
  clientBundle ??= (
    await build({
      entryPoints: [resolve('test/e2e/bridge/client.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      target: 'chrome120',
      logLevel: 'silent',
    })
  ).outputFiles[0]!.text;
  return `const BRIDGE_ORIGIN = ${JSON.stringify(origin)};\n${clientBundle}`;
}

const mime: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.mp3': 'audio/mpeg',
};

async function readBody(req: IncomingMessage, max = 25_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) throw new Error('request too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Serve a file with Range support (the <audio> element seeks with Range requests). */
async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, type: string): Promise<void> {
  const { size } = await stat(path);
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (range && (range[1] || range[2])) {
    const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size || start > end) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { 'content-type': type, 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
    createReadStream(path, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { 'content-type': type, 'accept-ranges': 'bytes', 'content-length': size, 'cache-control': 'no-store' });
  createReadStream(path).pipe(res);
}

export class Bridge {
  readonly recorded: Recorded = { clipboard: [], opened: [], shownInFolder: [], dismissed: [], exports: [], popupHeights: [], focusReturns: 0, notifications: [] };
  /** Whether main would show the popup window now (the PopupController decides, as in the app). */
  popupVisible = false;
  /** File that "Import contacts…" reads (stands in for the open-file dialog). */
  contactsFile: string | null = null;
  private readonly pushes = new WindowPushQueue();
  private readonly clients = new Map<string, { id: number; res: ServerResponse | null; buffer: string[] }>();
  /** Hub ids of popup pages: they get only the call updates the PopupController sends. */
  private readonly popupIds = new Set<number>();
  private popups = this.newPopupController();
  /** Recording credentials kept in memory (the app encrypts them with safeStorage). */
  private savedCredentials: RecordingCredentials | null = null;
  private credentialsAvailable = true;
  readonly credentials = new RecordingCredentialsService(
    {
      available: () => this.credentialsAvailable,
      load: async () => this.savedCredentials,
      save: async (c) => {
        if (c && !this.credentialsAvailable) throw new Error('This system offers no secure storage for passwords; the credentials were not saved.');
        this.savedCredentials = c;
      },
    },
    () => undefined, // the backend reads credentials.value on every download, like the core after main's message
  );
  /** The hub password kept in memory (the app encrypts it with safeStorage); handed to the core like main does. */
  private savedHubPassword: string | null = null;
  readonly hubPassword = new HubPasswordService(
    {
      available: () => this.credentialsAvailable,
      load: async () => this.savedHubPassword,
      save: async (p) => {
        if (p && !this.credentialsAvailable) throw new Error('This system offers no secure storage for passwords; the hub password was not saved.');
        this.savedHubPassword = p;
      },
    },
    (password) => {
      this.applying = this.applying.then(() => this.settingsChanged(password));
    },
  );
  private notifier: CallNotifier | null = null;
  /** What the core downloaded, as main keeps it (push:download): the only files shown or streamed. */
  private readonly downloads = new DownloadedFiles(() => this.backend.handle('recording:list', {}) as Promise<DownloadProgress[]>);
  /** Main's own handlers for the "main" channels, over the fakes below. */
  private mainHandlers!: MainHandlers;
  /** A popup page's restore of its cards after app:rendererReady (main runs it without waiting). */
  private restoring: Promise<void> = Promise.resolve();
  private missedUnseen = 0;
  private exportCount = 0;
  backend!: CoreBackend;
  settingsService!: SettingsService;
  origin = '';
  initScript = '';

  private constructor(
    readonly dir: string,
    readonly dataDir: string,
    readonly downloadDir: string,
    private readonly server = createServer((req, res) => void this.route(req, res)),
  ) {}

  static async start(opts: BridgeOptions = {}): Promise<Bridge> {
    const dir = await mkdtemp(join(tmpdir(), 'callpop-e2e-'));
    const dataDir = join(dir, 'data');
    const downloadDir = join(dir, 'downloads');
    await mkdir(dataDir, { recursive: true });
    await mkdir(downloadDir, { recursive: true });
    const b = new Bridge(dir, dataDir, downloadDir);
    try {
      await b.init(opts);
    } catch (e) {
      await b.close();
      throw e;
    }
    return b;
  }

  get popupsPaused(): boolean {
    return this.popups.paused;
  }

  private newPopupController(): PopupController {
    return new PopupController({
      settings: () => this.settingsService.settings,
      window: {
        show: () => void (this.popupVisible = true),
        hide: () => void (this.popupVisible = false),
        send: (u) => this.pushes.push('push:callUpdate', u, (id) => this.popupIds.has(id)),
      },
    });
  }

  /** The global shortcut as main handles it while the popup shows cards: the popup page focuses its newest card. */
  pressShortcut(): void {
    this.pushes.push('push:focusCard', {}, (id) => this.popupIds.has(id));
  }

  /** Main restarted while the core kept its live calls: main knows no cards, the popup is hidden. */
  forgetPopupCards(): void {
    this.popups = this.newPopupController();
    this.popupVisible = false;
  }

  private injectClient = false;

  private async init(opts: BridgeOptions): Promise<void> {
    this.credentialsAvailable = opts.credentialsAvailable ?? true;
    this.injectClient = opts.injectClient ?? false;
    let user: SettingsOverrides = {
      extension: '117',
      listenHost: '127.0.0.1',
      listenPort: 0,
      defaultCountry: 'TR',
      pbxHost: '127.0.0.1',
      ...opts.settings,
    };
    this.settingsService = new SettingsService({
      store: { read: () => user, write: (o) => void (user = o) },
      loginName: 'agent',
      generateSecret: () => randomBytes(24).toString('base64url'),
      networkInterfaces: () => ({}),
      logger: silentLogger,
      policy: { ok: true, policy: opts.policy ?? null },
      boundPort: () => {
        const s = this.backend?.status();
        return s?.state === 'listening' ? s.port : null;
      },
    });
    this.settingsService.ensureSecret();
    this.notifier = new CallNotifier({
      isSupported: () => true,
      create: (o) => {
        this.recorded.notifications.push({ title: o.title, body: o.body });
        return { on: () => undefined, show: () => undefined };
      },
      settings: () => this.settingsService.settings,
      openCall: (target) => this.push('push:navigate', target),
      platform: 'win32',
      awaySummaryDelayMs: opts.awaySummaryDelayMs,
    });
    this.savedHubPassword = opts.hubPassword ?? null;
    await this.hubPassword.load();
    await opts.prepareDataDir?.(this.dataDir);
    this.backend = await createCoreBackend({
      dataDir: this.dataDir,
      defaultDownloadDir: this.downloadDir,
      settings: this.settingsService.settings,
      push: (channel, payload) => this.push(channel, payload),
      logger: silentLogger,
      recordingCredentials: () => this.credentials.value,
      hubPassword: this.hubPassword.value,
      ...opts.backend,
    });
    this.missedUnseen = (await this.backend.handle('log:query', { result: 'missed', unseenOnly: true, offset: 0, limit: 1 })).total;
    this.settingsService.onChange(() => {
      this.applying = this.applying.then(() => this.settingsChanged());
    });
    this.mainHandlers = this.createMainHandlers();
    await new Promise<void>((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(opts.port ?? 0, '127.0.0.1', ok);
    });
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.initScript = await clientScript(this.origin);
  }

  /** Settings changes reach the core one after another, like main's service messages. */
  private applying: Promise<void> = Promise.resolve();

  /** The OS resumed or the network changed: main tells the core to reconnect (power-events.ts). */
  reconnect(reason = 'test'): void {
    this.backend.reconnectNow(reason);
  }

  private async settingsChanged(hubPassword?: string | null): Promise<void> {
    await this.backend.updateSettings(this.settingsService.settings, hubPassword).catch(() => undefined);
    this.popups.settingsChanged();
    this.push('push:settings', this.settingsService.view());
    this.push('push:status', this.status());
  }

  /** Change settings as the user would (validated, locked keys refused) and wait until the core applied them. */
  async updateSettings(patch: SettingsPatch): Promise<void> {
    const r = this.settingsService.update(patch);
    if (!r.ok) throw new Error(`settings refused: ${JSON.stringify(r.errors)}`);
    await this.applying;
  }

  /** The webhook URL the PBX would use (our listener's real port). */
  get webhookUrl(): string {
    const s = this.backend.status();
    if (s.state !== 'listening') throw new Error(`listener not listening: ${JSON.stringify(s)}`);
    return webhookUrl('127.0.0.1', s.port, this.settingsService.settings.webhookSecret);
  }

  url(page: 'index.html' | 'popup.html'): string {
    return `${this.origin}/${page}`;
  }

  push<P extends PushChannel>(channel: P, payload: PushMap[P]): void {
    if (channel === 'push:logChanged') this.missedUnseen = (payload as PushMap['push:logChanged']).missedUnseen;
    // Like main's supervisor: the core knows only its service state; the rest of AppStatus is main's.
    if (channel === 'push:status') return this.pushes.push('push:status', this.status());
    if (channel === 'push:callUpdate') {
      // Like main: the popup pages get what the PopupController sends, the other pages everything.
      const u = payload as PushMap['push:callUpdate'];
      this.pushes.push('push:callUpdate', u, (id) => !this.popupIds.has(id));
      this.popups.onCallUpdate(u);
      this.notifier?.onCallUpdate(u.change, u.record, u.backfill === true);
      return;
    }
    if (channel === 'push:download') this.downloads.note(payload as PushMap['push:download']);
    this.pushes.push(channel, payload, MAIN_WINDOW_ONLY.has(channel) ? (id) => !this.popupIds.has(id) : undefined);
  }

  status(): AppStatus {
    return { service: this.backend.status(), popupsPaused: this.popupsPaused, missedUnseen: this.missedUnseen, policyError: this.settingsService.policyError };
  }

  private client(key: string, view?: string | null) {
    let c = this.clients.get(key);
    if (c && view === 'popup') this.popupIds.add(c.id);
    if (!c) {
      const entry = { id: this.clients.size + 1, res: null as ServerResponse | null, buffer: [] as string[] };
      c = entry;
      this.clients.set(key, entry);
      if (view === 'popup') this.popupIds.add(entry.id);
      this.pushes.add({
        id: entry.id,
        isDestroyed: () => false,
        send: (channel, payload) => {
          const line = `data: ${JSON.stringify({ channel, payload })}\n\n`;
          // Ended by close(): the core still reports its own shutdown, to nobody.
          if (entry.res?.writableEnded) return;
          if (entry.res) entry.res.write(line);
          else entry.buffer.push(line);
        },
      });
    }
    return c;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const u = new URL(req.url ?? '/', this.origin);
      if (u.pathname === '/ipc/invoke' && req.method === 'POST') {
        const key = u.searchParams.get('client') ?? '';
        this.client(key, u.searchParams.get('view'));
        return await this.onInvoke(key, req, res);
      }
      if (u.pathname === '/ipc/events') return this.onEvents(u.searchParams.get('client') ?? '', u.searchParams.get('view'), req, res);
      if (u.pathname.startsWith('/media/')) {
        // The app's callpop-media:// protocol, over HTTP (a browser page cannot load the app's scheme).
        const path = await this.downloads.pathOf(decodeURIComponent(u.pathname.slice(7)));
        if (!path) return void res.writeHead(404).end();
        return await sendFile(req, res, path, 'audio/mpeg');
      }
      if (this.injectClient && u.pathname === '/bridge-client.js') {
        return void res.writeHead(200, { 'content-type': mime['.js']!, 'cache-control': 'no-store' }).end(this.initScript);
      }
      const rel = normalize(decodeURIComponent(u.pathname === '/' ? '/index.html' : u.pathname)).replace(/^([/\\])+/, '');
      const file = resolve(rendererDir, rel);
      if (!file.startsWith(rendererDir + sep)) return void res.writeHead(403).end();
      if (this.injectClient && (rel === 'index.html' || rel === 'popup.html')) {
        // A classic script in <head> runs before the page's module scripts: window.callpop is there first.
        const html = (await readFile(file, 'utf8')).replace('<head>', '<head><script src="/bridge-client.js"></script>');
        return void res.writeHead(200, { 'content-type': mime['.html']!, 'cache-control': 'no-store' }).end(html);
      }
      await sendFile(req, res, file, mime[extname(file)] ?? 'application/octet-stream').catch(() => void res.writeHead(404).end());
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(e instanceof Error ? e.message : String(e));
    }
  }

  private onEvents(key: string, view: string | null, req: IncomingMessage, res: ServerResponse): void {
    const c = this.client(key, view);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': connected\n\n');
    res.socket?.setNoDelay(true);
    c.res = res;
    for (const line of c.buffer.splice(0)) res.write(line);
    // A dropped stream buffers until EventSource reconnects with the same client id (the page stays ready).
    req.on('close', () => {
      if (c.res === res) c.res = null;
    });
  }

  private async onInvoke(key: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: { ok: true; result: unknown } | { ok: false; error: string };
    try {
      const { channel, args } = JSON.parse(await readBody(req)) as { channel: InvokeChannel; args: unknown };
      const checked = checkInvokeArgs(channel, args);
      if (!checked.ok) reply = { ok: false, error: checked.error };
      else if (invokeOwners[channel] === 'core') reply = { ok: true, result: await this.backend.handle(channel as CoreChannel, checked.args as never) };
      else reply = { ok: true, result: await this.main(key, channel as MainChannel, checked.args as never) };
    } catch (e) {
      reply = { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    const body = JSON.stringify(reply === undefined ? { ok: true, result: null } : reply, (_k, v: unknown) => (v === undefined ? null : v));
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
  }

  /**
   * A "main" channel, answered by main's own handler. Then, as a test's sync point, the bridge waits
   * until the core applied what the answer changed (settings, the hub password) and a popup page's
   * restore ran (in the app the page sees both a moment later through pushes).
   */
  private async main<C extends MainChannel>(key: string, channel: C, args: Parameters<MainHandlers[C]>[0]): Promise<unknown> {
    const handler = this.mainHandlers[channel] as (a: typeof args, caller: { webContentsId: number }) => unknown;
    let result = await handler(args, { webContentsId: this.client(key).id });
    await this.applying;
    await this.restoring;
    if (channel === 'log:export' && result && typeof result === 'object' && 'path' in result) this.recorded.exports.push(String(result.path));
    // The app's media protocol URL, as this bridge serves it over HTTP.
    const media = `${MEDIA_SCHEME}://${MEDIA_HOST}/`;
    if (channel === 'recording:mediaUrl' && result && typeof result === 'object' && 'url' in result && String(result.url).startsWith(media)) {
      result = { url: `${this.origin}/media/${String(result.url).slice(media.length)}` };
    }
    return result;
  }

  /** main/app/index.ts's wiring of createMainHandlers, with fakes for what needs a desktop. */
  private createMainHandlers(): MainHandlers {
    return createMainHandlers({
      settings: this.settingsService,
      status: () => this.status(),
      rendererReady: (id, view) => {
        this.pushes.ready(id);
        // A (re)loaded popup page: main's open cards again, and the core's live calls after a restart.
        if (view === 'popup' && this.popupIds.has(id)) this.restoring = this.popups.restore(() => this.backend.handle('calls:active', {}) as Promise<CallView[]>).catch(() => undefined);
      },
      dismissPopup: (callId) => {
        this.recorded.dismissed.push(callId);
        this.popups.dismiss(callId);
      },
      resizePopup: (id, height) => {
        if (this.popupIds.has(id)) this.recorded.popupHeights.push(height);
      },
      credentials: this.credentials,
      hubPassword: this.hubPassword,
      setPopupsPaused: (paused) => {
        this.popups.setPaused(paused);
        this.push('push:status', this.status());
      },
      returnPopupFocus: () => void this.recorded.focusReturns++,
      // One browser "monitor"; main lists the real ones (windows.ts).
      displays: () => [{ label: 'Browser display', primary: true, width: 1920, height: 1080 }],
      openMain: (target) => this.push('push:navigate', target),
      openLogsFolder: async () => void this.recorded.shownInFolder.push(join(this.dataDir, 'logs')),
      core: (channel, args) => this.backend.handle(channel, args as never),
      openExternal: async (url) => void this.recorded.opened.push(url),
      showItemInFolder: (path) => void this.recorded.shownInFolder.push(path),
      writeClipboard: (text) => void this.recorded.clipboard.push(text),
      // The save dialog answers a file in the bridge's folder (recorded once written: main() below).
      saveDialog: async ({ defaultPath }) => join(this.dir, `callpop-export-${++this.exportCount}${extname(defaultPath)}`),
      openDialog: async () => this.contactsFile,
      downloads: this.downloads,
      logger: silentLogger,
    });
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) c.res?.end();
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
    await this.backend?.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

export const startBridge = (opts?: BridgeOptions) => Bridge.start(opts);
