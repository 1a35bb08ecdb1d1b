// IPC between the renderers and main: one handler per InvokeChannel of the contract. Every request
// is checked twice before anything acts on it: the sender must be one of our own windows showing
// our own app://callpop page, and the arguments must pass the channel's schema. "main" channels are
// answered here, "core" channels are forwarded to the core service.
import type { CoreChannel, InvokeArgs, InvokeChannel, InvokeResult, MainChannel } from '../../shared/ipc/contract';
import { invokeOwners } from '../../shared/ipc/contract';
import { checkInvokeArgs } from '../../shared/ipc/schemas';
import type { Logger } from '../../shared/diagnostics-log';

export const APP_SCHEME = 'app';
export const APP_HOST = 'callpop';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** The parts of Electron's IpcMainInvokeEvent the checks read. */
export interface InvokeEventLike {
  sender: { id: number };
  senderFrame: { url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, args: unknown) => unknown): void;
}

export interface CallerContext {
  /** webContents id of the window that asked. */
  webContentsId: number;
}

export type MainHandlers = {
  [C in MainChannel]: (args: InvokeArgs<C>, caller: CallerContext) => Promise<InvokeResult<C>> | InvokeResult<C>;
};

export interface IpcDeps {
  ipcMain: IpcMainLike;
  /** True for the webContents of the app's own windows. */
  isOwnWebContents: (id: number) => boolean;
  main: MainHandlers;
  core: (channel: CoreChannel, args: unknown) => Promise<unknown>;
  logger: Logger;
  /** `electron-vite dev` only: the renderer dev server's origin ("http://localhost:5173"). */
  devOrigin?: string | null;
}

/** True when the URL is a page of our renderer protocol (app://callpop/…). */
export function isAppUrl(url: string | undefined | null, devOrigin?: string | null): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    if (u.username !== '' || u.password !== '') return false;
    if (devOrigin && u.origin === devOrigin) return true;
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** Why a sender is refused, or null when it is one of ours. */
export function senderProblem(event: InvokeEventLike, isOwn: (id: number) => boolean, devOrigin?: string | null): string | null {
  if (!isOwn(event.sender.id)) return 'not one of the app windows';
  const url = event.senderFrame?.url;
  if (!isAppUrl(url, devOrigin)) return `foreign origin ${originOf(url)}`;
  return null;
}

function originOf(url: string | undefined): string {
  if (!url) return '(none)';
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Register a handler for every channel of the contract. */
export function registerIpc(deps: IpcDeps): void {
  for (const channel of Object.keys(invokeOwners) as InvokeChannel[]) {
    deps.ipcMain.handle(channel, (event, args) => handleInvoke(deps, channel, event, args));
  }
}

export async function handleInvoke(deps: IpcDeps, channel: InvokeChannel, event: InvokeEventLike, rawArgs: unknown): Promise<unknown> {
  const problem = senderProblem(event, deps.isOwnWebContents, deps.devOrigin);
  if (problem) {
    deps.logger.warn(`ipc: refused ${channel} from ${problem}`);
    throw new Error(`${channel}: refused (${problem}).`);
  }
  const checked = checkInvokeArgs(channel, rawArgs);
  if (!checked.ok) {
    deps.logger.warn(`ipc: ${checked.error}`);
    throw new Error(checked.error);
  }
  if (invokeOwners[channel] === 'core') return deps.core(channel as CoreChannel, checked.args);
  const handler = deps.main[channel as MainChannel] as (args: unknown, caller: CallerContext) => unknown;
  return handler(checked.args, { webContentsId: event.sender.id });
}
