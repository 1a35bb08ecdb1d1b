// The popup's keyboard: what each key does on the focused card. The letter keys press the card's own
// buttons (found by their label), so a key does exactly what its button does and nothing when the
// button is not shown (no CRM configured, a withheld number).
export type CardKeyAction = { kind: 'open' } | { kind: 'button'; labels: readonly string[] } | { kind: 'dismiss' } | { kind: 'move'; by: 1 | -1 | 'first' | 'last' } | { kind: 'back' };

/** Keys with a button: shown in the hint line when the focused card has that button (by any of its labels). */
export const buttonKeys: readonly { key: string; labels: readonly string[]; hint: string }[] = [
  { key: 'B', labels: ['Call back'], hint: 'call back' },
  { key: 'C', labels: ['Copy number'], hint: 'copy' },
  { key: 'O', labels: ['Open in CRM'], hint: 'CRM' },
  { key: 'N', labels: ['Add note', 'Edit note', 'Continue note'], hint: 'note' },
];

/** The action for a key pressed on a card, or null. `onCard`: the card itself has the focus (not one of its buttons). */
export function cardKeyAction(e: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean }, onCard: boolean): CardKeyAction | null {
  if (e.key === 'Escape') return { kind: 'back' };
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  switch (e.key) {
    case 'Enter':
      // On a button, Enter presses that button.
      return onCard ? { kind: 'open' } : null;
    case 'ArrowDown':
      return { kind: 'move', by: 1 };
    case 'ArrowUp':
      return { kind: 'move', by: -1 };
    case 'Home':
      return { kind: 'move', by: 'first' };
    case 'End':
      return { kind: 'move', by: 'last' };
    case 'Delete':
      return { kind: 'dismiss' };
  }
  const k = e.key.toUpperCase();
  if (k === 'D') return { kind: 'dismiss' };
  const b = buttonKeys.find((x) => x.key === k);
  return b ? { kind: 'button', labels: b.labels } : null;
}

/** A text field has the focus: letters are typing, not commands. */
export function isTyping(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (el as HTMLElement).isContentEditable;
}
