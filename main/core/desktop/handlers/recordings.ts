// The "recording:" channels: start, cancel and list recording downloads (../../download/manager.ts).
import type { CoreContext, HandlersOf } from './context';

export function recordingHandlers(ctx: CoreContext): HandlersOf<'recording'> {
  const { downloads, findCall } = ctx;
  return {
    'recording:download': ({ callId, url }) => {
      const call = findCall(callId);
      if (!call) return { error: 'There is no such call in your log.' };
      return downloads.start({ call, url });
    },
    'recording:cancel': ({ downloadId }) => downloads.cancel(downloadId),
    'recording:list': () => downloads.list(),
  };
}
