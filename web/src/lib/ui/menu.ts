// A menu's contents and its keyboard rules (WAI-ARIA menu button pattern), kept apart from the
// component so they can be tested without a browser and so callers (the meeting's More options
// today, host actions later) only describe items: a label, what it does, and optionally a checked
// state (a menuitemcheckbox) or `danger` (shown in red, e.g. "Remove Bob").
//
// What must hold: focus moves only between items (separators are skipped), wraps at both ends,
// and Escape and Tab close the menu.

export interface MenuItem {
  kind: 'item';
  /** The item's text, which is also its accessible name. */
  label: string;
  action: () => void;
  /** Present for an on/off item: it is then a `menuitemcheckbox` with `aria-checked`. */
  checked?: boolean;
  /** A consequential or destructive action, shown in red. */
  danger?: boolean;
  /** Shown beside the label (e.g. "?"), and given as `aria-keyshortcuts`. */
  shortcut?: string;
}

/** A line between groups of items (`role="separator"`), never focused. */
export interface MenuSeparator {
  kind: 'separator';
}

export type MenuEntry = MenuItem | MenuSeparator;

/** Items in a group, with a separator before each group but the first, and empty groups dropped. */
export function menuOfGroups(groups: readonly (readonly MenuItem[])[]): MenuEntry[] {
  const entries: MenuEntry[] = [];
  for (const group of groups) {
    if (group.length === 0) continue;
    if (entries.length > 0) entries.push({ kind: 'separator' });
    entries.push(...group);
  }
  return entries;
}

export type MenuKeyResult = { focus: number } | { close: 'return-focus' | 'leave-focus' } | undefined;

/**
 * What a key pressed inside an open menu does: which item (an index into `entries`) gets the
 * focus, or that the menu closes. Escape returns the focus to the menu button; Tab lets it move
 * on. Other keys (Enter, Space on an item) are the item's own click.
 */
export function menuKey(key: string, current: number, entries: readonly MenuEntry[]): MenuKeyResult {
  const items = entries.flatMap((entry, index) => (entry.kind === 'item' ? [index] : []));
  if (items.length === 0) return key === 'Escape' ? { close: 'return-focus' } : undefined;
  const position = items.indexOf(current);
  // Wraps at both ends; from no focused item, Down goes to the first and Up to the last.
  const at = (i: number): MenuKeyResult => ({ focus: items[(i + items.length) % items.length] ?? -1 });
  switch (key) {
    case 'ArrowDown':
      return at(position + 1);
    case 'ArrowUp':
      return at(position <= 0 ? -1 : position - 1);
    case 'Home':
      return at(0);
    case 'End':
      return at(-1);
    case 'Escape':
      return { close: 'return-focus' };
    case 'Tab':
      return { close: 'leave-focus' };
    default:
      return undefined;
  }
}

/** The index of the first (or last) item, where an opened menu puts the focus. */
export function edgeItem(entries: readonly MenuEntry[], edge: 'first' | 'last'): number {
  const items = entries.flatMap((entry, index) => (entry.kind === 'item' ? [index] : []));
  return (edge === 'first' ? items[0] : items[items.length - 1]) ?? -1;
}
