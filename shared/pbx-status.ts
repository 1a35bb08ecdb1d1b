// The words for the connection to 3CX's Call Control API (settings.source "call-control"), the same in
// the header, Settings and the tray tooltip: "Connected to 3CX Call Control · extension 117".
import type { PbxState } from './source-state';

export function pbxStatusText(s: PbxState): string {
  switch (s.state) {
    case 'pbx-connecting':
      return 'Connecting to 3CX Call Control…';
    case 'pbx-connected':
      return `Connected to 3CX Call Control · extension ${s.extension}`;
    case 'pbx-reconnecting':
      return `3CX Call Control: reconnecting (attempt ${s.attempt}): ${s.error}`;
    case 'pbx-refused':
      return s.error;
  }
}

/** Whether the connection needs the agent (or IT): every state but connected and connecting. */
export const pbxNeedsAttention = (s: PbxState): boolean => s.state !== 'pbx-connected' && s.state !== 'pbx-connecting';
