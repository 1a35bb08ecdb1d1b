// The global shortcut over a stand-in for Electron's globalShortcut (the OS may refuse a shortcut).
import { describe, expect, it, vi } from 'vitest';
import { GlobalShortcut, type ShortcutOps } from '../../main/app/shortcut';

/** Like globalShortcut: one owner per accelerator; `taken` are held by other apps. */
function fakeOs(taken: string[] = []) {
  const registered = new Map<string, () => void>();
  const ops: ShortcutOps = {
    register: (accel, cb) => {
      if (accel === 'Bogus+Key') throw new Error('Error processing argument: conversion failure');
      if (taken.includes(accel) || registered.has(accel)) return false;
      registered.set(accel, cb);
      return true;
    },
    unregister: (accel) => void registered.delete(accel),
  };
  return { ops, registered, press: (accel: string) => registered.get(accel)?.() };
}

describe('global shortcut', () => {
  it('registers the configured shortcut; pressing it runs the action', () => {
    const os = fakeOs();
    const onPress = vi.fn();
    const s = new GlobalShortcut(os.ops, onPress);
    expect(s.apply('CommandOrControl+Alt+P')).toBeNull();
    expect(s.active).toBe('CommandOrControl+Alt+P');
    os.press('CommandOrControl+Alt+P');
    expect(onPress).toHaveBeenCalledTimes(1);
  });

  it('changing it releases the old one; "" turns it off', () => {
    const os = fakeOs();
    const s = new GlobalShortcut(os.ops, () => undefined);
    s.apply('CommandOrControl+Alt+P');
    s.apply('Control+Shift+F9');
    expect([...os.registered.keys()]).toEqual(['Control+Shift+F9']);
    s.apply('');
    expect([...os.registered.keys()]).toEqual([]);
    expect(s.active).toBeNull();
    expect(s.error).toBeNull();
  });

  it('reports a shortcut the OS refuses (taken by another app), and recovers when another is chosen', () => {
    const os = fakeOs(['CommandOrControl+Alt+P']);
    const s = new GlobalShortcut(os.ops, () => undefined);
    expect(s.apply('CommandOrControl+Alt+P')).toMatch(/refused the shortcut CommandOrControl\+Alt\+P: another app may be using it/);
    expect(s.error).toMatch(/Choose another one/);
    expect(s.active).toBeNull();
    // Applying the same refused value again retries (the other app may have let it go).
    expect(s.apply('CommandOrControl+Alt+P')).not.toBeNull();
    expect(s.apply('Alt+Shift+K')).toBeNull();
    expect(s.error).toBeNull();
    expect([...os.registered.keys()]).toEqual(['Alt+Shift+K']);
  });

  it('an accelerator Electron cannot parse is reported, not thrown', () => {
    const s = new GlobalShortcut(fakeOs().ops, () => undefined);
    expect(s.apply('Bogus+Key')).toMatch(/conversion failure/);
  });

  it('release() on quit unregisters it', () => {
    const os = fakeOs();
    const s = new GlobalShortcut(os.ops, () => undefined);
    s.apply('Alt+Shift+K');
    s.release();
    expect(os.registered.size).toBe(0);
  });
});
