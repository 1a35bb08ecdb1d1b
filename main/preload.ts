// Sandboxed preload: exposes window.callpop, the named methods of shared/ipc/api.ts, and nothing
// else. Only channels of the contract pass; listeners get the payload (never the Electron event)
// and subscribing returns an unsubscribe.
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { createCallpopApi } from '../shared/ipc/api';
import { invokeOwners, pushChannels } from '../shared/ipc/contract';
import type { IpcTransport } from '../shared/ipc/contract';

const invokeAllowed = new Set<string>(Object.keys(invokeOwners));
const pushAllowed = new Set<string>(pushChannels);

export const transport: IpcTransport = {
  invoke(channel, args) {
    if (!invokeAllowed.has(channel)) return Promise.reject(new Error(`Unknown channel ${channel}`));
    return ipcRenderer.invoke(channel, args);
  },
  on(channel, listener) {
    if (!pushAllowed.has(channel)) throw new Error(`Unknown event ${channel}`);
    const wrapped = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, wrapped);
    return () => {
      ipcRenderer.removeListener(channel, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('callpop', createCallpopApi(transport));
