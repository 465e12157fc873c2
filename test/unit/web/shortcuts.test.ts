// The meeting's shortcuts: each combination means one thing, and "?" never steals a typed "?".
import { describe, expect, it } from 'vitest';
import { SHORTCUTS, shortcutFor } from '../../../web/src/lib/meeting/shortcuts.ts';

function press(
  key: string,
  mods: { ctrl?: boolean; meta?: boolean; shift?: boolean; alt?: boolean } = {},
  tagName = 'BODY',
) {
  return {
    key,
    ctrlKey: mods.ctrl ?? false,
    metaKey: mods.meta ?? false,
    shiftKey: mods.shift ?? false,
    altKey: mods.alt ?? false,
    target: { tagName, isContentEditable: false },
  } as unknown as KeyboardEvent;
}

describe('shortcutFor', () => {
  it('maps Ctrl (or ⌘) combinations to their actions', () => {
    expect(shortcutFor(press('d', { ctrl: true }))).toBe('mic');
    expect(shortcutFor(press('e', { meta: true }))).toBe('camera');
    expect(shortcutFor(press('L', { ctrl: true, shift: true }))).toBe('leave');
    expect(shortcutFor(press('H', { ctrl: true, shift: true }))).toBe('hand');
    expect(shortcutFor(press('?', { shift: true }))).toBe('help');
  });

  it('leaves other combinations to the browser and to AltGr typing', () => {
    expect(shortcutFor(press('d'))).toBeUndefined();
    expect(shortcutFor(press('l', { ctrl: true }))).toBeUndefined();
    expect(shortcutFor(press('h', { ctrl: true }))).toBeUndefined();
    expect(shortcutFor(press('D', { ctrl: true, shift: true }))).toBeUndefined();
    expect(shortcutFor(press('e', { ctrl: true, alt: true }))).toBeUndefined();
  });

  it('lets "?" reach a text field', () => {
    expect(shortcutFor(press('?', { shift: true }, 'INPUT'))).toBeUndefined();
    expect(shortcutFor(press('?', { shift: true }, 'TEXTAREA'))).toBeUndefined();
  });

  it('gives each action one documented shortcut', () => {
    const actions = SHORTCUTS.map((s) => s.action);
    expect(new Set(actions).size).toBe(actions.length);
    for (const s of SHORTCUTS) expect(s.keys).not.toBe('');
  });
});
