// The key service's part in a cluster (docs/cluster.md): who may open a socket for a room on this
// node, and the commit fence every commit passes before it lands. The server provides the gate
// (server/src/cluster/KeyServiceGate.ts, on Redis); without one (Conclave alone) nothing here runs.
//
// Must hold: a commit changes the room only once the fence accepted it for the epoch it builds on;
// a commit whose fence call failed changes nothing here, and the next commit of the room first reads
// the cluster's record, because a call that timed out may still have been applied (see
// `ClusterCommits.fence`); a room whose commit was fenced takes no more commits on this node.
import { bytesEqual } from '@conclave/common/bytes';
import { KeyServiceError } from '../errors.ts';
import type { KeyServiceLimits } from '../protocol.ts';
import type { Logger } from './logger.ts';
import { readGroupInfo, type GroupView } from './mls-checks.ts';
import type { KeyRoom } from './room.ts';

/** Why a handshake for a room is refused on this node. `owner` (a public node name) with 'wrong-node'. */
export interface ClusterRefusal {
  code: 'wrong-node' | 'stale-generation' | 'unavailable';
  message: string;
  owner?: string;
}

/** What the cluster's fence answered for one commit. */
export type FenceAnswer =
  | { outcome: 'accepted' }
  /** The cluster's record has moved past the epoch the commit builds on. */
  | { outcome: 'stale'; recordedEpoch: number }
  /** This node is not the room's owner at the generation it holds. */
  | { outcome: 'fenced' }
  /** The store did not answer: the commit's outcome is unknown. */
  | { outcome: 'unavailable'; message: string }
  /** The store answered with a record that is not what it should be. */
  | { outcome: 'malformed'; message: string };

/** The room's last accepted commit as the cluster recorded it. */
export type RecordAnswer =
  | { outcome: 'found'; epoch: number; groupInfo: Uint8Array }
  | { outcome: 'none' }
  | { outcome: 'unavailable'; message: string }
  | { outcome: 'malformed'; message: string };

/** What the cluster answered to withdrawing a recorded commit that was never relayed. */
export type WithdrawAnswer =
  | { outcome: 'withdrawn' }
  | { outcome: 'fenced' }
  /** The record is not that commit (anymore). */
  | { outcome: 'changed' }
  | { outcome: 'unavailable'; message: string }
  | { outcome: 'malformed'; message: string };

export interface ClusterGate {
  /** Why a socket for `room` may not be admitted on this node, or undefined. Never throws. */
  admission(room: string): Promise<ClusterRefusal | undefined>;
  /** Fences a commit from `expectedEpoch` whose new epoch's GroupInfo is `groupInfo`. Never throws. */
  fence(room: string, expectedEpoch: number, groupInfo: Uint8Array): Promise<FenceAnswer>;
  /** The room's recorded commit. Never throws. */
  record(room: string): Promise<RecordAnswer>;
  /**
   * Restores the record from `epoch` (this node's commit with `groupInfo`, never relayed) to
   * `epoch - 1` with `restoredGroupInfo`. Never throws.
   */
  withdraw(
    room: string,
    epoch: number,
    groupInfo: Uint8Array,
    restoredGroupInfo: Uint8Array,
  ): Promise<WithdrawAnswer>;
}

/** What the key service keeps per room about its fence calls. */
export interface RoomFenceState {
  /** A fence call failed without an answer: it may still have been applied. */
  uncertain: { expectedEpoch: number; groupInfo: Uint8Array } | undefined;
  /** The fence said another node owns the room now: no more commits here. */
  fenced: boolean;
}

export function newRoomFenceState(): RoomFenceState {
  return { uncertain: undefined, fenced: false };
}

export class ClusterCommits {
  readonly #gate: ClusterGate;
  readonly #limits: KeyServiceLimits;
  readonly #logger: Logger;
  readonly #policyEnforced: () => boolean;

  constructor(gate: ClusterGate, limits: KeyServiceLimits, logger: Logger, policyEnforced: () => boolean) {
    this.#gate = gate;
    this.#limits = limits;
    this.#logger = logger;
    this.#policyEnforced = policyEnforced;
  }

  admission(room: string): Promise<ClusterRefusal | undefined> {
    return this.#gate.admission(room);
  }

  /**
   * Passes a commit from `current` (whose new epoch's GroupInfo is `groupInfo`) through the fence;
   * returning means the cluster accepted it (now, or on an earlier call that timed out) and the
   * caller applies it. Runs in the room's queue, before the commit changes anything.
   *
   * The timeout rule: a fence call that got no answer may have been applied once Redis resumed. So
   * the room remembers it, and the next commit reads the record first. If the record does not hold
   * that attempt, it failed: the commit in hand is fenced as usual. If it does and the commit in
   * hand is that same commit (same GroupInfo: the client retried it), it is applied without a second
   * call. If it does and the commit in hand is another one, the attempt is withdrawn (the record
   * goes back to the room's current epoch) before the new one is fenced: nobody ever received the
   * withdrawn commit, since a commit is relayed only after the fence accepted it. Either way Redis
   * still allows one commit per epoch, and a re-homed room refuses the withdrawal as fenced.
   *
   * @throws KeyServiceError: 'fenced', 'stale-epoch' (with the cluster's epoch), 'unavailable'
   *   (retryable; nothing changed), 'invalid-state' for a malformed record
   */
  async fence(room: KeyRoom, current: GroupView, groupInfo: Uint8Array): Promise<void> {
    const state = room.fence;
    if (state.fenced) throw fencedError();
    const expectedEpoch = Number(current.epoch);
    if (state.uncertain !== undefined && (await this.#settleEarlierAttempt(room, current, groupInfo))) return;
    const answer = await this.#gate.fence(room.id, expectedEpoch, groupInfo);
    switch (answer.outcome) {
      case 'accepted':
        return;
      case 'stale':
        throw new KeyServiceError(
          'stale-epoch',
          'another commit of this epoch won in the cluster; catch up and retry',
          answer.recordedEpoch,
        );
      case 'fenced':
        state.fenced = true;
        this.#logger.warn({ room: room.id }, 'commit fenced: another node owns this room now');
        throw fencedError();
      case 'unavailable':
        state.uncertain = { expectedEpoch, groupInfo };
        throw unavailableError();
      case 'malformed':
        throw malformedError(answer.message);
    }
  }

  /**
   * A room without a group on this node takes the cluster's recorded one, if any (a new owner after
   * a failover, or members coming back): members at that epoch carry on; those behind rejoin.
   * @throws KeyServiceError 'unavailable' or 'invalid-state' (malformed record)
   */
  async seed(room: KeyRoom): Promise<void> {
    if (room.view !== undefined) return;
    const recorded = await this.#gate.record(room.id);
    if (room.view !== undefined) return;
    const found = this.#found(recorded);
    if (found === undefined) return;
    room.view = await this.#recordedView(found);
    this.#logger.info({ room: room.id, epoch: found.epoch }, 'group taken from the cluster record');
  }

  /**
   * Settles the earlier fence call that got no answer (see `fence`): true if the commit in hand is
   * the one it recorded (apply it), false once the record holds the room's current epoch again.
   * @throws KeyServiceError as `fence`; the uncertainty stays while the store is unavailable
   */
  async #settleEarlierAttempt(room: KeyRoom, current: GroupView, groupInfo: Uint8Array): Promise<boolean> {
    const uncertain = room.fence.uncertain;
    if (uncertain === undefined) return false;
    const found = this.#found(await this.#gate.record(room.id));
    const landed =
      found !== undefined &&
      found.epoch === uncertain.expectedEpoch + 1 &&
      bytesEqual(found.groupInfo, uncertain.groupInfo);
    if (!landed || uncertain.expectedEpoch !== Number(current.epoch)) {
      room.fence.uncertain = undefined;
      return false;
    }
    if (bytesEqual(groupInfo, uncertain.groupInfo)) {
      room.fence.uncertain = undefined;
      this.#logger.info({ room: room.id, epoch: found.epoch }, 'retried commit was recorded already');
      return true;
    }
    const answer = await this.#gate.withdraw(room.id, found.epoch, found.groupInfo, current.bytes);
    switch (answer.outcome) {
      case 'withdrawn':
        room.fence.uncertain = undefined;
        this.#logger.warn({ room: room.id, epoch: found.epoch }, 'unanswered commit withdrawn');
        return false;
      case 'fenced':
        room.fence.uncertain = undefined;
        room.fence.fenced = true;
        throw fencedError();
      case 'changed':
        room.fence.uncertain = undefined;
        throw new KeyServiceError('stale-epoch', 'the cluster record moved on; catch up and retry');
      case 'unavailable':
        throw unavailableError();
      case 'malformed':
        throw malformedError(answer.message);
    }
  }

  /** The record, if there is one. @throws KeyServiceError 'unavailable' | 'invalid-state' */
  #found(answer: RecordAnswer): { epoch: number; groupInfo: Uint8Array } | undefined {
    switch (answer.outcome) {
      case 'found':
        return answer;
      case 'none':
        return undefined;
      case 'unavailable':
        throw unavailableError();
      case 'malformed':
        throw malformedError(answer.message);
    }
  }

  async #recordedView(found: { epoch: number; groupInfo: Uint8Array }): Promise<GroupView> {
    let view: GroupView;
    try {
      view = await readGroupInfo(found.groupInfo, this.#limits.maxGroupInfoBytes, this.#policyEnforced());
    } catch (error) {
      const why = error instanceof KeyServiceError ? error.message : 'unreadable';
      throw malformedError(`the recorded GroupInfo does not read: ${why}`);
    }
    if (Number(view.epoch) !== found.epoch) {
      throw malformedError('the recorded GroupInfo is of another epoch than the record');
    }
    return view;
  }
}

function fencedError(): KeyServiceError {
  return new KeyServiceError('fenced', 'this node no longer holds the room; reconnect to its owner');
}

function unavailableError(): KeyServiceError {
  return new KeyServiceError('unavailable', 'the cluster store is unavailable; retry shortly');
}

function malformedError(detail: string): KeyServiceError {
  return new KeyServiceError('invalid-state', `the cluster's record of this room is malformed: ${detail}`);
}
