// The meeting's chat and raised hands: what the group said to each other, end-to-end encrypted as
// MLS application messages (sent and heard through e2ee/GroupChannel.ts, never through the server's
// signaling). The chat panel, the hand button, the tiles and the participants panel read it.
//
// What must hold:
// - Nothing typed is dropped without saying so: our own lines are 'sending' until the key service
//   acknowledges relaying them ('sent'); a line it did not take is 'failed' and can be sent again,
//   in the same place in the conversation.
// - Our hand is shown at once; until the group has heard it (the keys were not ready, or sending
//   failed) it is sent again with the next epoch's keys. Whoever joined in an epoch cannot read
//   what was sent before it, so a raised hand is said again at every epoch.
// - Hands are keyed by the MLS-authenticated user id; a member who left drops out of the list, and
//   this tab's own button alone decides what we show for ourselves.
import { assertUnreachable } from '@conclave/common/errors';
import type { GroupEvent, GroupMessaging } from '../e2ee/GroupChannel.ts';
import { handsOfMembers, withHand } from './raisedHands.ts';

/**
 * Our own lines are 'sending' until the key service acknowledges relaying them ('sent'); a line it
 * did not take (no connection, no keys, no answer) is 'failed' and can be sent again. Lines from
 * others are 'received'. Nothing typed is ever dropped without saying so.
 */
export type ChatDelivery = 'sending' | 'sent' | 'failed' | 'received';

export interface ChatLine {
  id: number;
  userId: string;
  text: string;
  own: boolean;
  /** When it was sent or received here, in ms since the epoch. */
  at: number;
  delivery: ChatDelivery;
  /** Why a line failed, for the person who wrote it. */
  error?: string;
}

export class GroupMessages {
  chat = $state<ChatLine[]>([]);
  /** Whether our own hand is raised. */
  handRaised = $state(false);
  /** User ids of everyone with a hand up (ourselves included), in the order the hands went up. */
  raisedHands = $state<string[]>([]);
  readonly userId: string;
  /** What this store listens to (one store per channel). */
  readonly channel: GroupMessaging;
  readonly #stopListening: () => void;
  #chatIds = 0;
  /** Our hand's state has not reached the group yet (not ready, or sending failed): send it with
   *  the next epoch. */
  #handUnsent = false;

  /** Listens to `channel` from now on (and to what it heard before: GroupChannel keeps it). */
  constructor(channel: GroupMessaging) {
    this.userId = channel.userId;
    this.channel = channel;
    this.#stopListening = channel.listen((event) => this.#on(event));
  }

  /** Shows the line at once as 'sending', then as 'sent' or 'failed'; resolves when it is either. */
  async sendChat(text: string): Promise<void> {
    const id = this.#addChat(this.userId, text, 'sending');
    await this.#deliver(id, text);
  }

  /** Sends a failed line again (under the current epoch), in the same place in the conversation. */
  async retryChat(id: number): Promise<void> {
    const line = this.chat.find((l) => l.id === id);
    if (line === undefined || line.delivery !== 'failed') return;
    this.#updateChat(id, { delivery: 'sending', error: undefined });
    await this.#deliver(id, line.text);
  }

  /** Raises or lowers our hand: shown here at once, and sent to the group end-to-end encrypted. */
  async setHand(raised: boolean): Promise<void> {
    this.handRaised = raised;
    this.raisedHands = withHand(this.raisedHands, this.userId, raised);
    this.#handUnsent = true;
    await this.#announceHand();
  }

  close(): void {
    this.#stopListening();
  }

  #on(event: GroupEvent): void {
    switch (event.kind) {
      case 'chat':
        this.#addChat(event.from, event.text, 'received');
        return;
      case 'hand':
        // Another tab of ours is another member with our user id: this tab's own button decides
        // what we show for ourselves.
        if (event.from !== this.userId)
          this.raisedHands = withHand(this.raisedHands, event.from, event.raised);
        return;
      case 'keys':
        this.#onKeys(event.members);
        return;
      case 'new-group':
        // A new group membership: others re-announce their hands once we are in; only ours is known.
        this.raisedHands = withHand([], this.userId, this.handRaised);
        return;
      default:
        assertUnreachable(event);
    }
  }

  #onKeys(members: readonly string[]): void {
    const roster = members.map((userId) => ({ userId }));
    this.raisedHands = withHand(handsOfMembers(this.raisedHands, roster), this.userId, this.handRaised);
    // Whoever joined in this epoch cannot read what was sent before it: say again that our hand is
    // up (or what has not been sent yet).
    if (this.handRaised || this.#handUnsent) void this.#announceHand();
  }

  async #announceHand(): Promise<void> {
    if (!this.channel.canSend) return; // the next epoch sends it
    const raised = this.handRaised;
    try {
      await this.channel.sendHand(raised);
      if (raised === this.handRaised) this.#handUnsent = false;
    } catch (error) {
      console.warn(`sending the hand failed: ${(error as Error).message}`);
    }
  }

  async #deliver(id: number, text: string): Promise<void> {
    try {
      await this.channel.sendChat(text);
      this.#updateChat(id, { delivery: 'sent', at: Date.now() });
    } catch (error) {
      this.#updateChat(id, { delivery: 'failed', error: (error as Error).message });
    }
  }

  #addChat(userId: string, text: string, delivery: ChatDelivery): number {
    const id = ++this.#chatIds;
    this.chat = [...this.chat, { id, userId, text, own: delivery !== 'received', at: Date.now(), delivery }];
    return id;
  }

  #updateChat(id: number, change: Partial<ChatLine>): void {
    this.chat = this.chat.map((l) => (l.id === id ? { ...l, ...change } : l));
  }
}
