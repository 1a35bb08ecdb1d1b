// The "callbacks:" channels: the hub's shared callbacks of this extension (hub mode only), listed and
// acted on; `callbacksView` is also what ../create-core-backend.ts pushes when the hub republishes them.
import type { CoreContext, HandlersOf } from './context';
import type { CallSource } from '../call-source';

export const callbacksView = (source: CallSource) => ({ items: source.callbacks()?.list() ?? [], extension: source.callbacks() ? source.settings.extension : null });

export function callbackHandlers(ctx: CoreContext): HandlersOf<'callbacks'> {
  const { source } = ctx;
  return {
    'callbacks:list': () => callbacksView(source),
    'callbacks:act': async ({ id, action, note }) => {
      const callbacks = source.callbacks();
      return callbacks ? callbacks.act(id, action, note) : { ok: false, error: 'Shared callbacks need the Callpop hub (Settings → Connection).' };
    },
  };
}
