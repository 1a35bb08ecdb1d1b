// Unsaved note drafts, by call id: text typed into a note is kept here on every key until it is saved or
// discarded, so it survives the card closing, being dismissed or moving to the main window (issue #20:
// a wrap-up note was lost when the popup card closed itself). localStorage because the popup and the
// main window share one origin (app:// in the app, the bridge's http origin in tests): a draft typed in
// one is there in the other, and its `storage` event tells the other window at once. Bounded: the
// oldest drafts go first beyond MAX_DRAFTS.
import { useCallback, useSyncExternalStore } from 'react';

const PREFIX = 'callpop.noteDraft.';
const MAX_DRAFTS = 200;

interface Stored {
  text: string;
  at: number;
}

const listeners = new Set<() => void>();
const notify = () => {
  for (const l of listeners) l();
};

function read(callId: string): string | null {
  try {
    const raw = localStorage.getItem(PREFIX + callId);
    if (raw === null) return null;
    const v = JSON.parse(raw) as Partial<Stored>;
    return typeof v.text === 'string' ? v.text : null;
  } catch {
    return null;
  }
}

/** Keeps (or with null forgets) the draft of a call's note. */
export function setNoteDraft(callId: string, text: string | null): void {
  try {
    if (text === null) localStorage.removeItem(PREFIX + callId);
    else {
      localStorage.setItem(PREFIX + callId, JSON.stringify({ text, at: Date.now() } satisfies Stored));
      prune();
    }
  } catch {
    // Storage full or unavailable: the text stays in the field; nothing else to do.
  }
  notify();
}

export const noteDraft = (callId: string): string | null => read(callId);

function prune(): void {
  const keys: { key: string; at: number }[] = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key?.startsWith(PREFIX)) continue;
    let at = 0;
    try {
      at = Number((JSON.parse(localStorage.getItem(key) ?? '{}') as Partial<Stored>).at) || 0;
    } catch {
      // unreadable: oldest
    }
    keys.push({ key, at });
  }
  if (keys.length <= MAX_DRAFTS) return;
  keys.sort((a, b) => a.at - b.at);
  for (const k of keys.slice(0, keys.length - MAX_DRAFTS)) localStorage.removeItem(k.key);
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  // Another window changed a draft.
  const onStorage = (e: StorageEvent) => {
    if (e.key === null || e.key.startsWith(PREFIX)) l();
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(l);
    window.removeEventListener('storage', onStorage);
  };
}

/** The draft of a call's note (null: none), following changes from this and the other window. */
export function useNoteDraft(callId: string): [string | null, (text: string | null) => void] {
  const draft = useSyncExternalStore(subscribe, () => read(callId));
  const set = useCallback((text: string | null) => setNoteDraft(callId, text), [callId]);
  return [draft, set];
}
