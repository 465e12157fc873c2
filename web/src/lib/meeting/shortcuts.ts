// The meeting's keyboard shortcuts: one table that both the key handler and the help dialog read,
// so the help can never list a shortcut that does not exist.

// Browsers keep some combinations for themselves (Ctrl+Shift+C opens Chromium's inspector,
// Ctrl+Shift+P a private window in Firefox), so panels have no shortcut: Tab reaches their buttons.
export type ShortcutAction = 'mic' | 'camera' | 'hand' | 'leave' | 'help';

export interface Shortcut {
  action: ShortcutAction;
  /** As shown in the help, e.g. "Ctrl+D". */
  keys: string;
  description: string;
  matches: (event: KeyboardEvent) => boolean;
}

/** Ctrl, or ⌘ on a Mac; no Alt (AltGr types characters on many keyboards). */
const ctrl = (event: KeyboardEvent) => (event.ctrlKey || event.metaKey) && !event.altKey;
const key = (event: KeyboardEvent, letter: string) => event.key.toLowerCase() === letter;

export const SHORTCUTS: readonly Shortcut[] = [
  {
    action: 'mic',
    keys: 'Ctrl+D',
    description: 'Mute or unmute your microphone',
    matches: (e) => ctrl(e) && !e.shiftKey && key(e, 'd'),
  },
  {
    action: 'camera',
    keys: 'Ctrl+E',
    description: 'Turn your camera off or on',
    matches: (e) => ctrl(e) && !e.shiftKey && key(e, 'e'),
  },
  {
    // Not Ctrl+H (history in every browser). Ctrl+Shift+H is unbound in Chromium; Firefox's
    // Library window uses it, but it is not one of the keys Firefox keeps from pages.
    action: 'hand',
    keys: 'Ctrl+Shift+H',
    description: 'Raise or lower your hand',
    matches: (e) => ctrl(e) && e.shiftKey && key(e, 'h'),
  },
  {
    action: 'leave',
    keys: 'Ctrl+Shift+L',
    description: 'Leave the meeting (asks first)',
    matches: (e) => ctrl(e) && e.shiftKey && key(e, 'l'),
  },
  {
    action: 'help',
    keys: '?',
    description: 'Show these shortcuts',
    matches: (e) => e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e),
  },
];

/** A plain key like "?" must reach a text field the person is typing in. */
function typing(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  return (
    target !== null && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
  );
}

export function shortcutFor(event: KeyboardEvent): ShortcutAction | undefined {
  return SHORTCUTS.find((s) => s.matches(event))?.action;
}
