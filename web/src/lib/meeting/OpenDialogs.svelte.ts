// Which of the meeting's dialogs are open: the one owner of that state. The menu, the keyboard
// shortcuts, the tiles and the participants panel open them; the dialogs host
// (components/MeetingDialogs.svelte) shows them and closes them.
//
// What must hold: a removal is asked once, here, whoever asked for it (a tile's menu or the
// participants panel), and only the question's "Remove" acts; closing a dialog reports at once
// (Dialog.svelte), so a shortcut pressed next finds it closed.
import type { PersonTarget } from './personActions.ts';

/** "Remove Bob?": who, and what answering "Remove" does (the asker reports its own failures). */
export interface RemovalQuestion {
  target: PersonTarget;
  remove: () => void;
}

/** A host's menu dialogs: "End for everyone?" or the new guest link once it is made. */
export type HostDialog = 'end' | { link: string };

export class OpenDialogs {
  devices = $state(false);
  securityCode = $state(false);
  /** Asked from the keyboard: the shortcuts list, or "Leave the meeting?". */
  keyboard = $state<'shortcuts' | 'leave' | null>(null);
  host = $state<HostDialog | null>(null);
  removal = $state<RemovalQuestion | null>(null);

  /** Asks "Remove <name>?"; `remove` runs only if the host answers "Remove". */
  askRemoval(target: PersonTarget, remove: () => void): void {
    this.removal = { target, remove };
  }
}
