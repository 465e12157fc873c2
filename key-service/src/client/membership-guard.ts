// The membership policy (../membership-policy.ts) as this member's client applies it: the check that
// counts, because the key service relaying a commit may be hostile. Before the client adopts the keys
// of a new epoch it asks the policy whether the commit that creates it is one a meeting may accept,
// with "gone" read from what this client saw of the room when the commit arrived.
//
// A refused commit ends this client's following of the server's group: it keeps the keys of the last
// epoch it accepted (which the would-be intruder never held), ignores every later commit and
// GroupInfo, and never rejoins on its own. Those who refused together keep meeting under that epoch;
// the UI says who tried what.
//
// One refusal is handled differently: an external commit behind the lobby ('not-admitted'). The
// client follows the group into that epoch only to commit the intruder's removal at once, and exports
// no key while the intruder is in the tree (KeyClient), so the meeting goes on without a split.
import {
  judgeCommit,
  type CommitFacts,
  type PolicyLeaf,
  type Verdict,
  type Violation,
} from '../membership-policy.ts';
import type { Roles } from '../roles.ts';

/** Who this client saw in the room at one moment (user ids with a key-service connection). */
export type GoneView = (userId: string) => boolean;

export interface Refusal {
  /** The epoch the refused commit would have created. */
  epoch: bigint;
  violation: Violation;
}

export class MembershipGuard {
  readonly #self: string;
  #online = new Set<string>();
  #refusal: Refusal | undefined;

  constructor(self: string) {
    this.#self = self;
  }

  /** Set once a commit was refused; from then on the client follows the server's group no more. */
  get refusal(): Refusal | undefined {
    return this.#refusal;
  }

  /** The key service's list of who is connected (on sync and on every presence change). */
  setOnline(online: readonly string[]): void {
    this.#online = new Set(online);
  }

  /** Signaling reported `userId` gone (the key service relays it before asking for a removal). */
  peerGone(userId: string): void {
    this.#online.delete(userId);
  }

  isOnline(userId: string): boolean {
    return userId === this.#self || this.#online.has(userId);
  }

  /**
   * Who was gone as of now, kept for a commit that has just arrived and waits in the queue: presence
   * events that arrive after it (someone coming back) must not turn an honest removal into a refusal.
   * This client itself is never gone while it listens.
   */
  snapshot(): GoneView {
    const online = new Set(this.#online);
    online.add(this.#self);
    return (userId) => !online.has(userId);
  }

  /** The policy's verdict on a commit for the epoch whose tree is `leaves` and roles `roles`. */
  judge(
    facts: CommitFacts,
    leaves: readonly PolicyLeaf[],
    gone: GoneView,
    roles: Roles | undefined,
    intruders: ReadonlySet<number>,
  ): Verdict {
    return judgeCommit(facts, { leaves, isGone: gone, roles, intruders });
  }

  refuse(epoch: bigint, violation: Violation): void {
    this.#refusal ??= { epoch, violation };
  }
}
