// Electron accelerator strings ("CommandOrControl+Alt+P") as typed in Settings or a policy file:
// checked here so a typo gets an inline message instead of a silent registration failure. Whether the
// OS grants the shortcut (another app may own it) is only known when main registers it.
const modifiers = new Set(['command', 'cmd', 'control', 'ctrl', 'commandorcontrol', 'cmdorctrl', 'alt', 'option', 'altgr', 'shift', 'super', 'meta']);
const namedKeys = new Set([
  'plus', 'space', 'tab', 'capslock', 'numlock', 'scrolllock', 'backspace', 'delete', 'insert', 'return', 'enter',
  'up', 'down', 'left', 'right', 'home', 'end', 'pageup', 'pagedown', 'escape', 'esc', 'printscreen',
  'volumeup', 'volumedown', 'volumemute', 'medianexttrack', 'mediaprevioustrack', 'mediastop', 'mediaplaypause',
  'numdec', 'numadd', 'numsub', 'nummult', 'numdiv',
]);
const isFunctionKey = (k: string): boolean => /^f([1-9]|1\d|2[0-4])$/.test(k);
const isKey = (k: string): boolean =>
  /^[a-z0-9]$/.test(k) || isFunctionKey(k) || /^num[0-9]$/.test(k) || namedKeys.has(k) || /^[)!@#$%^&*(:;=<,_\->.?/~`{}[\]|\\"']$/.test(k);

/** null when `accel` is a usable global shortcut, else a message for Settings. "" (none) is fine. */
export function acceleratorProblem(accel: string): string | null {
  if (accel === '') return null;
  const parts = accel.split('+');
  // "Ctrl++" is written "Ctrl+Plus"
  if (parts.some((p) => p.trim() === '')) return 'Write a shortcut like CommandOrControl+Alt+P (use "Plus" for +).';
  const lower = parts.map((p) => p.trim().toLowerCase());
  const key = lower.at(-1)!;
  const mods = lower.slice(0, -1);
  if (modifiers.has(key)) return 'A shortcut ends with a key, e.g. CommandOrControl+Alt+P.';
  if (!isKey(key)) return `"${parts.at(-1)!.trim()}" is not a key Electron knows.`;
  const unknown = mods.find((m) => !modifiers.has(m));
  if (unknown !== undefined) return `"${unknown}" is not a modifier (Ctrl, Alt, Shift, Command, CommandOrControl, Super).`;
  if (new Set(mods).size !== mods.length) return 'A modifier appears twice.';
  if (mods.length === 0 && !isFunctionKey(key)) return 'A global shortcut needs a modifier (Ctrl, Alt, …) unless it is a function key.';
  return null;
}
