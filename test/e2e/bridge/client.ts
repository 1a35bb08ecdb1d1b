// Runs in the page (bundled by esbuild, injected with page.addInitScript): window.callpop built by the
// same createCallpopApi as the preload, over a transport that speaks the IPC contract to the test
// process: POST /ipc/invoke for requests, Server-Sent Events on /ipc/events for pushes.
import { createCallpopApi } from '../../../shared/ipc/api';
import type { IpcTransport } from '../../../shared/ipc/contract';

declare const BRIDGE_ORIGIN: string;

if (location.origin === BRIDGE_ORIGIN) {
  const client = crypto.randomUUID();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  // The view tells the bridge which pages are popups (main knows its popup window the same way).
  const view = location.pathname.endsWith('/popup.html') ? 'popup' : 'main';
  const events = new EventSource(`/ipc/events?client=${client}&view=${view}`);
  events.onmessage = (e: MessageEvent<string>) => {
    const { channel, payload } = JSON.parse(e.data) as { channel: string; payload: unknown };
    for (const l of listeners.get(channel) ?? []) l(payload);
  };
  const transport: IpcTransport = {
    async invoke(channel, args) {
      const res = await fetch(`/ipc/invoke?client=${client}&view=${view}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel, args: args ?? {} }),
      });
      const r = (await res.json()) as { ok: true; result: unknown } | { ok: false; error: string };
      if (!r.ok) throw new Error(r.error);
      return r.result;
    },
    on(channel, listener) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      const l = (p: unknown) => listener(p);
      set.add(l);
      return () => void set.delete(l);
    },
  };
  Object.defineProperty(window, 'callpop', { value: Object.freeze(createCallpopApi(transport)), writable: false, configurable: false });
}
