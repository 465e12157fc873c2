// The host's group of the More options menu. The lobby and the lock are the host's commits to the
// group's roles (every member's browser enforces them); the invite link and the end of the meeting
// are the server's acts, which it performs only for someone the group says is a host.
import type { MenuItem } from '../ui/menu.ts';

export interface HostActions {
  lobby: boolean;
  locked: boolean;
  setLobby(on: boolean): void;
  setLocked(on: boolean): void;
  resetInviteLink(): void;
  endForAll(): void;
}

export function hostMenuItems(host: HostActions): MenuItem[] {
  return [
    {
      kind: 'item',
      label: host.lobby ? 'Turn lobby off' : 'Turn lobby on',
      action: () => host.setLobby(!host.lobby),
    },
    {
      kind: 'item',
      label: host.locked ? 'Unlock meeting' : 'Lock meeting',
      action: () => host.setLocked(!host.locked),
    },
    { kind: 'item', label: 'Reset invite link', action: () => host.resetInviteLink() },
    { kind: 'item', label: 'End meeting for all', danger: true, action: () => host.endForAll() },
  ];
}
