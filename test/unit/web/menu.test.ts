// The More options menu's contents and keys (web/src/lib/ui/menu.ts): focus moves between items
// only, wraps at both ends, Home/End go to the edges, Escape and Tab close; groups get separators.
import { describe, expect, it } from 'vitest';
import {
  edgeItem,
  menuKey,
  menuOfGroups,
  type MenuEntry,
  type MenuItem,
} from '../../../web/src/lib/ui/menu.ts';

const item = (label: string, extra: Partial<MenuItem> = {}): MenuItem => ({
  kind: 'item',
  label,
  action: () => undefined,
  ...extra,
});

// Devices, Speaker view | Security code, Keyboard shortcuts: indexes 0, 1, (2 separator), 3, 4.
const entries: MenuEntry[] = menuOfGroups([
  [item('Devices'), item('Speaker view', { checked: false })],
  [item('Security code'), item('Keyboard shortcuts', { shortcut: '?' })],
]);

describe('menuOfGroups', () => {
  it('puts a separator between groups, none at the edges, and drops empty groups', () => {
    const menu = menuOfGroups([[], [item('A')], [], [item('B'), item('C')], []]);
    expect(menu.map((e) => (e.kind === 'item' ? e.label : '|'))).toEqual(['A', '|', 'B', 'C']);
  });
});

describe('menuKey', () => {
  it('moves down and up over the separator, wrapping at both ends', () => {
    expect(menuKey('ArrowDown', 0, entries)).toEqual({ focus: 1 });
    expect(menuKey('ArrowDown', 1, entries)).toEqual({ focus: 3 });
    expect(menuKey('ArrowDown', 4, entries)).toEqual({ focus: 0 });
    expect(menuKey('ArrowUp', 3, entries)).toEqual({ focus: 1 });
    expect(menuKey('ArrowUp', 0, entries)).toEqual({ focus: 4 });
  });

  it('goes to the first and last item with Home and End', () => {
    expect(menuKey('Home', 3, entries)).toEqual({ focus: 0 });
    expect(menuKey('End', 0, entries)).toEqual({ focus: 4 });
  });

  it('starts from the edges when no item has the focus', () => {
    expect(menuKey('ArrowDown', -1, entries)).toEqual({ focus: 0 });
    expect(menuKey('ArrowUp', -1, entries)).toEqual({ focus: 4 });
  });

  it('closes on Escape (focus back to the button) and on Tab (focus moves on)', () => {
    expect(menuKey('Escape', 1, entries)).toEqual({ close: 'return-focus' });
    expect(menuKey('Tab', 1, entries)).toEqual({ close: 'leave-focus' });
  });

  it('leaves other keys (Enter, Space, letters) to the item', () => {
    for (const key of ['Enter', ' ', 'a', 'ArrowLeft']) expect(menuKey(key, 0, entries)).toBeUndefined();
  });

  it('has nowhere to move in a menu without items, and Escape still closes it', () => {
    const empty: MenuEntry[] = [{ kind: 'separator' }];
    expect(menuKey('ArrowDown', -1, empty)).toBeUndefined();
    expect(menuKey('Escape', -1, empty)).toEqual({ close: 'return-focus' });
  });
});

describe('edgeItem', () => {
  it('finds the first and last items, skipping separators', () => {
    const menu: MenuEntry[] = [{ kind: 'separator' }, item('A'), item('B'), { kind: 'separator' }];
    expect(edgeItem(menu, 'first')).toBe(1);
    expect(edgeItem(menu, 'last')).toBe(2);
    expect(edgeItem([], 'first')).toBe(-1);
  });
});
