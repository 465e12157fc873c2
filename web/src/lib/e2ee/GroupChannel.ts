// The meeting's end-to-end encrypted application messages (chat lines, raised hands), as the
// encryption layer hands them to whoever shows them (meeting/GroupMessages.svelte.ts). This is the
// one narrow way up from e2ee/: the layer below publishes what the group said, the store above
// listens; e2ee/ never imports the store.
//
// What must hold:
// - Every `from` is the MLS-authenticated sender (KeyClient: the decrypted sender data and
//   signature), never anything a message says about itself.
// - Nothing is lost between the encryption starting and the store listening: events published
//   before a listener attaches are kept (a bounded backlog) and given to it, in order, when it does.
// - Sending works only while the meeting keys are ready; otherwise it fails with a sentence.

/** What the group said, or what changed about who hears us, in the order it happened. */
export type GroupEvent =
  /** A chat line from another member (or another tab of ours: another member with our user id). */
  | { kind: 'chat'; from: string; text: string }
  /** A member raised or lowered their hand; only members still in the group's roster are told. */
  | { kind: 'hand'; from: string; raised: boolean }
  /** A new epoch's keys are in use: `members` (user ids) is the group now, and sending works. */
  | { kind: 'keys'; members: readonly string[] }
  /** A fresh group membership (joined or rejoined): what others said before it is not known here. */
  | { kind: 'new-group' };

/** What the store above needs from the encryption: send under the current epoch, and listen. */
export interface GroupMessaging {
  /** This browser's user id (our own messages are not echoed back). */
  readonly userId: string;
  /** Whether the meeting keys are ready, so a message sent now goes out. */
  readonly canSend: boolean;
  /**
   * Sends a chat line to the group, end-to-end encrypted under the current epoch.
   * @throws Error when the keys are not ready, or when the key service did not relay it.
   */
  sendChat(text: string): Promise<void>;
  /**
   * Tells the group our hand is up or down.
   * @throws Error when the keys are not ready, or when the key service did not relay it.
   */
  sendHand(raised: boolean): Promise<void>;
  /**
   * Listens to the group's events, starting with any published before (one listener at a time).
   * @returns a function that stops listening.
   * @throws Error when another listener is already attached.
   */
  listen(listener: (event: GroupEvent) => void): () => void;
}

/** What sends application messages: the current KeyClient while the keys are ready. */
export interface ApplicationSender {
  sendChat(text: string): Promise<void>;
  sendHand(raised: boolean): Promise<void>;
}

/** Events kept for a listener that has not attached yet; the oldest go first past this. */
const BACKLOG_LIMIT = 500;

/** MeetingEncryption's end of the channel: it publishes, the store listens (GroupMessaging). */
export class GroupChannel implements GroupMessaging {
  readonly userId: string;
  readonly #sender: () => ApplicationSender | undefined;
  #listener: ((event: GroupEvent) => void) | undefined;
  #backlog: GroupEvent[] = [];

  /** @param sender the KeyClient to send with, or undefined while the keys are not ready. */
  constructor(userId: string, sender: () => ApplicationSender | undefined) {
    this.userId = userId;
    this.#sender = sender;
  }

  get canSend(): boolean {
    return this.#sender() !== undefined;
  }

  async sendChat(text: string): Promise<void> {
    await this.#requireSender().sendChat(text);
  }

  async sendHand(raised: boolean): Promise<void> {
    await this.#requireSender().sendHand(raised);
  }

  listen(listener: (event: GroupEvent) => void): () => void {
    if (this.#listener !== undefined) throw new Error('the group messages already have a listener');
    this.#listener = listener;
    for (const event of this.#backlog.splice(0)) listener(event);
    return () => {
      if (this.#listener === listener) this.#listener = undefined;
    };
  }

  /** For MeetingEncryption: hands `event` to the listener, or keeps it until one attaches. */
  publish(event: GroupEvent): void {
    if (this.#listener !== undefined) {
      this.#listener(event);
      return;
    }
    this.#backlog.push(event);
    if (this.#backlog.length > BACKLOG_LIMIT) this.#backlog.shift();
  }

  #requireSender(): ApplicationSender {
    const sender = this.#sender();
    if (sender === undefined) throw new Error('the meeting keys are not ready');
    return sender;
  }
}
