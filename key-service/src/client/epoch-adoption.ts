// The key client's epoch-adoption loop: the group state this member holds, and every step that moves
// it to a new epoch. A commit from the key service is ordered against ours (older: ignored; newer:
// catch up), judged by the membership policy (membership-guard.ts) before it is processed, and only
// then adopted: its SFrame base key exported, its roster checked against the trust store (trust on
// first use), and its changes announced ("Dave joined", "Bob left").
//
// Must hold: no key is exported from an epoch the policy refused, nor from one that still holds an
// intruder (a leaf nobody admitted; this member follows that epoch only to commit the removal); after
// a refusal nothing moves this member's state again; the roster is the MLS tree's.
import type { CiphersuiteImpl, ClientState, Proposal } from 'ts-mls';
import { bytesEqual } from '@conclave/common/bytes';
import { KeyServiceError } from '../errors.ts';
import type { CommitKind, Verdict } from '../membership-policy.ts';
import type { Events } from '../protocol.ts';
import { rolesOf } from '../roles.ts';
import { fingerprint } from './codes.ts';
import { decodeMessage, exportEpochKeys, membersOf, processCommit, type PublicMessage } from './group.ts';
import type { GoneView, MembershipGuard, Refusal } from './membership-guard.ts';
import type { TrustStore } from './stores.ts';
import type { ClientLogger, EpochKeys, KeyClientEvents, MemberInfo } from './types.ts';

/** What the adoption loop needs from the client that runs it. */
export interface AdoptionHost {
  readonly userId: string;
  /** Nk of the SFrame AEAD. */
  readonly nk: number;
  readonly trustStore: TrustStore;
  readonly guard: MembershipGuard;
  readonly logger: ClientLogger | undefined;
  /** This member's signature public key, once loaded. */
  ownKey(): Uint8Array | undefined;
  emit<K extends keyof KeyClientEvents>(event: K, payload: KeyClientEvents[K]): void;
  /** Commits `proposals` for the current epoch; false when another member's commit won it. */
  commit(proposals: Proposal[]): Promise<boolean>;
  /** Catches up with the key service's group (rejoins from its latest GroupInfo). */
  resync(): Promise<void>;
  /** The first epoch is held: the client is in the group. */
  entered(): void;
}

/** What an accepted commit did, as far as announcing it goes. */
export type Announced = Pick<
  Extract<Verdict, { allowed: true }>,
  'kind' | 'committer' | 'removed' | 'removedByHost' | 'removedIntruders' | 'added' | 'roles'
>;

type RemovedLeaf = { leafIndex: number; userId: string; signatureKey: Uint8Array };

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class EpochAdoption {
  readonly #host: AdoptionHost;
  #state: ClientState | undefined;
  #impl: CiphersuiteImpl | undefined;
  #current: EpochKeys | undefined;
  /** Users whose key change was announced already (until the owner accepts the new key). */
  readonly #warned = new Set<string>();
  /** Keys of members removed because they had gone (hex → when): a host lets them back in by itself,
   *  for a while, since a host admitted them before (a network cut, a reload). */
  readonly #recentlyGone = new Map<string, number>();
  /** Leaves that came in unadmitted (leaf index → signature key), until they are removed. */
  readonly #intruders = new Map<number, Uint8Array>();

  constructor(host: AdoptionHost) {
    this.#host = host;
  }

  /** The state this member holds, if in a group. */
  get state(): ClientState | undefined {
    return this.#state;
  }

  /** The keys of the last epoch adopted (none while an intruder is in the tree). */
  get current(): EpochKeys | undefined {
    return this.#current;
  }

  get hasIntruders(): boolean {
    return this.#intruders.size > 0;
  }

  /**
   * The state and suite of the group this member is in.
   *
   * @throws {KeyServiceError} 'invalid-state' when it is in none
   */
  requireGroup(): { state: ClientState; impl: CiphersuiteImpl } {
    const group = this.group;
    if (group === undefined) throw new KeyServiceError('invalid-state', 'not in the group');
    return group;
  }

  /** The state and suite of the group this member is in, if any. */
  get group(): { state: ClientState; impl: CiphersuiteImpl } | undefined {
    return this.#state === undefined || this.#impl === undefined
      ? undefined
      : { state: this.#state, impl: this.#impl };
  }

  /** The same epoch, its ratchets moved on (an application message sent or read). */
  advance(state: ClientState): void {
    this.#state = state;
  }

  /** Out of the group (removed, or closed): no state, no keys. */
  leave(): void {
    this.#state = undefined;
    this.#current = undefined;
    this.#intruders.clear();
  }

  /** When the member with `key` was removed as gone, if lately. */
  goneSince(key: Uint8Array): number | undefined {
    return this.#recentlyGone.get(hexOf(key));
  }

  /** Trust the current key of `userId` after a 'key-changed' warning. */
  async acceptKey(userId: string): Promise<void> {
    const member = this.#current?.members.find((m) => m.userId === userId);
    if (member === undefined) return;
    await this.#host.trustStore.set(userId, member.signatureKey);
    this.#warned.delete(userId);
  }

  /** Holds `state` as this member's epoch and, unless an intruder is in it, exports its keys. */
  async adopt(state: ClientState, impl: CiphersuiteImpl): Promise<void> {
    this.#state = state;
    this.#impl = impl;
    const members = membersOf(state);
    // An intruder still in this epoch: hold the state (to commit the removal), export no key from it.
    for (const [leaf, key] of this.#intruders) {
      if (!members.some((m) => m.leafIndex === leaf && bytesEqual(m.signatureKey, key)))
        this.#intruders.delete(leaf);
    }
    if (this.#intruders.size > 0) return;
    const keys = await exportEpochKeys(state, impl, this.#host.nk, this.#host.ownKey());
    this.#current = keys;
    await this.#checkTrust(keys.members);
    this.#host.emit('epoch', keys);
    this.#host.entered();
  }

  async #checkTrust(members: MemberInfo[]): Promise<void> {
    for (const m of members) {
      const known = await this.#host.trustStore.get(m.userId);
      if (known === undefined) {
        await this.#host.trustStore.set(m.userId, m.signatureKey);
      } else if (!bytesEqual(known, m.signatureKey) && !this.#warned.has(m.userId)) {
        this.#warned.add(m.userId);
        this.#host.emit('key-changed', {
          userId: m.userId,
          previousFingerprint: fingerprint(known),
          fingerprint: m.fingerprint,
        });
      }
    }
  }

  /** Another member's commit, relayed by the key service; `gone` is who was gone when it arrived. */
  async onCommit(event: Events['commit'], gone: GoneView): Promise<void> {
    const state = this.#state;
    const impl = this.#impl;
    const guard = this.#host.guard;
    if (state === undefined || impl === undefined || guard.refusal !== undefined) return;
    const message = decodeMessage(event.commit);
    if (message === undefined || message.wireformat !== 'mls_public_message') return;
    const pm = message.publicMessage;
    if (pm.content.contentType !== 'commit') return;
    const epoch = pm.content.epoch;
    if (epoch < state.groupContext.epoch) return; // already past it (e.g. our own)
    if (epoch > state.groupContext.epoch) {
      await this.#host.resync(); // we missed commits: rejoin from the latest GroupInfo
      return;
    }
    const verdict = guard.judge(
      { sender: pm.content.sender, commit: pm.content.commit },
      membersOf(state),
      gone,
      rolesOf(state.groupContext.extensions),
      new Set(this.#intruders.keys()),
    );
    if (!verdict.allowed && verdict.violation.code === 'not-admitted') {
      await this.#takeInToRemove(pm, state, impl, epoch, verdict.violation.committer);
      return;
    }
    if (!verdict.allowed) {
      this.#refuse(epoch + 1n, verdict.violation);
      return;
    }
    let next: ClientState;
    try {
      next = await processCommit(state, pm, impl);
    } catch (error) {
      this.#host.logger?.warn({ epoch: Number(epoch) }, 'a commit did not process; rejoining');
      this.#host.emit('warning', { message: `commit rejected: ${(error as Error).message}` });
      await this.#host.resync();
      return;
    }
    if (next.groupActiveState.kind === 'removedFromGroup') {
      const own = state.privatePath.leafIndex;
      this.leave();
      const byHost = verdict.removedByHost.some((l) => l.leafIndex === own);
      this.#host.emit('removed', { epoch: epoch + 1n, by: verdict.committer.userId, byHost });
      return;
    }
    await this.adopt(next, impl);
    this.announce(epoch + 1n, verdict, gone);
  }

  /**
   * An external commit behind the lobby: someone nobody admitted. We follow the group into that
   * epoch only to remove them at once, and send nothing under it (adopt exports no key while an
   * intruder is in the tree); whoever's removal the key service orders first wins.
   */
  async #takeInToRemove(
    pm: PublicMessage,
    state: ClientState,
    impl: CiphersuiteImpl,
    epoch: bigint,
    userId: string | undefined,
  ): Promise<void> {
    const path = pm.content.contentType === 'commit' ? pm.content.commit.path : undefined;
    if (path === undefined) return;
    let next: ClientState;
    try {
      next = await processCommit(state, pm, impl);
    } catch {
      return; // not a valid commit: nothing happened
    }
    const key = path.leafNode.signaturePublicKey;
    const leaf = membersOf(next).find((m) => bytesEqual(m.signatureKey, key));
    if (leaf === undefined) return;
    this.#intruders.set(leaf.leafIndex, key);
    this.#state = next;
    this.#host.logger?.warn({ epoch: Number(epoch + 1n) }, 'someone joined without being admitted');
    this.#host.emit('intruder', { epoch: epoch + 1n, userId: userId ?? leaf.userId });
    const gone = this.#host.guard.snapshot();
    const removal = { proposalType: 'remove' as const, remove: { removed: leaf.leafIndex } };
    const committed = await this.#host.commit([removal]);
    if (committed) {
      this.announce(epoch + 2n, removedIntruder(this.#host.userId, leaf), gone);
    }
  }

  /** Keeps the keys we have and stops following the group: see membership-guard.ts. */
  #refuse(epoch: bigint, violation: Refusal['violation']): void {
    this.#host.guard.refuse(epoch, violation);
    this.#host.logger?.warn(
      { epoch: Number(epoch), code: violation.code },
      'commit refused by the membership policy',
    );
    this.#host.emit('membership-refused', { epoch, violation });
  }

  /** Tells the owner who an accepted commit let in or took out, and remembers who left as gone. */
  announce(epoch: bigint, verdict: Announced, gone: GoneView): void {
    const by = verdict.committer.userId;
    const now = Date.now();
    for (const leaf of verdict.removed) {
      const special = verdict.removedByHost.includes(leaf) || verdict.removedIntruders.includes(leaf);
      if (!special && leaf.signatureKey.byteLength > 0 && gone(leaf.userId)) {
        this.#recentlyGone.set(hexOf(leaf.signatureKey), now);
      }
    }
    const ids = (leaves: readonly { userId: string }[]) => [...new Set(leaves.map((l) => l.userId))];
    const special = new Set([...verdict.removedByHost, ...verdict.removedIntruders]);
    const left = ids(verdict.removed.filter((l) => !special.has(l) && l.userId !== by && gone(l.userId)));
    this.#host.emit('membership', {
      epoch,
      kind: verdict.kind,
      by,
      joined: verdict.kind === 'join' ? by : undefined,
      left,
      admitted: verdict.added.map((a) => a.userId),
      removedByHost: ids(verdict.removedByHost),
      intrudersRemoved: ids(verdict.removedIntruders),
      rolesChanged: verdict.roles !== undefined,
    });
  }

  /** The key service asks this member to commit the removal of a gone user's leaves. */
  async onRemoveRequest(event: Events['remove-request']): Promise<void> {
    const state = this.#state;
    const guard = this.#host.guard;
    if (state === undefined || state.groupContext.epoch !== BigInt(event.epoch)) return;
    // Remove only leaves that really are the gone user's in our own tree, and never ourselves.
    const members = membersOf(state);
    const own = state.privatePath.leafIndex;
    // And only once we too see them gone: everyone else judges the commit the same way.
    if (guard.refusal !== undefined || guard.isOnline(event.userId)) return;
    const removed = event.leaves.filter(
      (leaf) => leaf !== own && members.some((m) => m.leafIndex === leaf && m.userId === event.userId),
    );
    if (removed.length === 0) return;
    const gone = guard.snapshot();
    const committed = await this.#host.commit(
      removed.map((leaf) => ({ proposalType: 'remove', remove: { removed: leaf } })),
    );
    if (committed) {
      const leaves: RemovedLeaf[] = members
        .filter((m) => removed.includes(m.leafIndex))
        .map((m) => ({ leafIndex: m.leafIndex, userId: m.userId, signatureKey: m.signatureKey }));
      this.announce(
        state.groupContext.epoch + 1n,
        { ...emptyAnnounced(this.#host.userId, 'removal'), removed: leaves },
        gone,
      );
    }
  }
}

function emptyAnnounced(userId: string, kind: CommitKind): Announced {
  return {
    kind,
    committer: { userId, signatureKey: new Uint8Array(), leafIndex: undefined },
    removed: [],
    removedByHost: [],
    removedIntruders: [],
    added: [],
    roles: undefined,
  };
}

function removedIntruder(userId: string, leaf: RemovedLeaf): Announced {
  return { ...emptyAnnounced(userId, 'removal'), removed: [leaf], removedIntruders: [leaf] };
}
