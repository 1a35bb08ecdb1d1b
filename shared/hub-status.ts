// The words for the hub connection (settings.source "hub"), the same in the header, Settings and the
// tray tooltip: "Connected to hub · extension 117", "Reconnecting since 10:42", "Hub refused the password",
// "Hub offline since 10:40".
import type { HubState } from './source-state';

/** 24-hour local "10:42" of an ISO time ("" if it is not one). */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export function hubStatusText(s: HubState): string {
  switch (s.state) {
    case 'hub-connecting':
      return 'Connecting to the hub…';
    case 'hub-connected':
      return `Connected to hub · extension ${s.extension}${s.synced ? '' : ' · catching up'}`;
    case 'hub-reconnecting':
      return `Reconnecting since ${clockTime(s.since)}`;
    case 'hub-refused':
      return s.about === 'extension' ? 'Not your extension on this hub' : 'Hub refused the password';
    case 'hub-offline':
      return s.silent ? `Hub offline: not heard from since ${clockTime(s.since)}` : `Hub offline since ${clockTime(s.since)}`;
    case 'hub-setup':
      return s.message;
  }
}

/** Whether the hub connection needs the agent (or IT): every state but connected and connecting. */
export const hubNeedsAttention = (s: HubState): boolean => s.state !== 'hub-connected' && s.state !== 'hub-connecting';

/** The broker's reason for a refusal as a sentence: "The hub refused the user name or password." */
export function refusalText(reason: string): string {
  const t = reason.trim().replace(/\.$/, '');
  return t === '' ? 'The hub refused the connection.' : `${t[0]!.toUpperCase()}${t.slice(1)}.`;
}
