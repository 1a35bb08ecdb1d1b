// The table of call feed kinds: settings.source → how to start that kind. The desktop core
// (desktop/call-source.ts) and `callpop serve` (cli/serve.ts) look kinds up here and nowhere else; a
// new kind is one folder and one line below (see ./call-feed.ts, "HOW TO ADD A KIND").
import type { CallSource } from '../../../shared/settings';
import { callControlKind } from '../call-control/call-control-feed';
import { hubKind } from '../hub-client/hub-feed';
import { listenerKind } from '../receiver/listener-feed';
import type { CallFeed, FeedContext, FeedKind } from './call-feed';

export const feedKinds: Record<CallSource, FeedKind> = {
  listener: listenerKind,
  hub: hubKind,
  'call-control': callControlKind,
};

/** Starts the kind `ctx.settings.source` names (throws as its start does). */
export function startFeed(ctx: FeedContext): Promise<CallFeed> {
  return feedKinds[ctx.settings.source].start(ctx);
}
