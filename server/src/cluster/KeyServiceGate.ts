// The key service's gate onto the cluster (key-service/src/server/cluster-gate.ts), on Redis: its
// handshake asks the room door, its commits go through the commit fence at the generation the door
// holds, and a new owner reads the recorded GroupInfo back.
// What must hold: no method throws (every Redis failure is an answer the key service turns into a
// refusal); a commit is fenced only at a generation this node was placed at; a `fenced` answer also
// shuts the door on the room here; no answer holds the Redis URL.
import type {
  ClusterGate,
  ClusterRefusal,
  FenceAnswer,
  RecordAnswer,
  WithdrawAnswer,
} from '@conclave/key-service/server';
import type { ClusterNode } from './ClusterNode.ts';
import { ClusterStoreError } from './redisConnection.ts';
import type { RoomDoor } from './RoomDoor.ts';

export class KeyServiceGate implements ClusterGate {
  readonly #node: () => ClusterNode | undefined;
  readonly #door: RoomDoor;

  constructor(node: () => ClusterNode | undefined, door: RoomDoor) {
    this.#node = node;
    this.#door = door;
  }

  /**
   * The healthy node and the generation at which it holds `room`, or why it may not touch the
   * room's record: a node whose registry entry may have expired must not, since the room may be
   * re-homed; a node that no longer holds the room is fenced.
   */
  #held(
    room: string,
  ):
    | { node: ClusterNode; generation: number }
    | { outcome: 'unavailable'; message: string }
    | { outcome: 'fenced' } {
    const node = this.#node();
    if (node === undefined || !node.healthy()) {
      return { outcome: 'unavailable', message: 'this node cannot reach the cluster store' };
    }
    const generation = this.#door.generation(room);
    if (generation === undefined) return { outcome: 'fenced' };
    return { node, generation };
  }

  admission(room: string): Promise<ClusterRefusal | undefined> {
    return this.#door.refusal(room);
  }

  async fence(room: string, expectedEpoch: number, groupInfo: Uint8Array): Promise<FenceAnswer> {
    const held = this.#held(room);
    if ('outcome' in held) return held;
    const { node, generation } = held;
    try {
      const result = await node.fence.commit(room, generation, expectedEpoch, groupInfo);
      if (result.outcome === 'accepted') return { outcome: 'accepted' };
      if (result.outcome === 'stale') return { outcome: 'stale', recordedEpoch: result.recordedEpoch };
      this.#door.markFenced(room);
      return { outcome: 'fenced' };
    } catch (error) {
      return storeFailure(error);
    }
  }

  async withdraw(
    room: string,
    epoch: number,
    groupInfo: Uint8Array,
    restoredGroupInfo: Uint8Array,
  ): Promise<WithdrawAnswer> {
    const held = this.#held(room);
    if ('outcome' in held) return held;
    const { node, generation } = held;
    try {
      const result = await node.fence.withdraw(room, generation, epoch, groupInfo, restoredGroupInfo);
      if (result.outcome === 'fenced') this.#door.markFenced(room);
      return result;
    } catch (error) {
      return storeFailure(error);
    }
  }

  async record(room: string): Promise<RecordAnswer> {
    const node = this.#node();
    if (node === undefined) return { outcome: 'unavailable', message: 'not in the cluster yet' };
    try {
      const found = await node.fence.record(room);
      if (found === undefined) return { outcome: 'none' };
      return { outcome: 'found', epoch: found.epoch, groupInfo: found.groupInfo };
    } catch (error) {
      return storeFailure(error);
    }
  }
}

/** A Redis failure as an answer; a malformed record is named (room and field), the URL never is. */
function storeFailure(error: unknown): { outcome: 'unavailable' | 'malformed'; message: string } {
  if (error instanceof ClusterStoreError && error.code === 'malformed') {
    return { outcome: 'malformed', message: error.message };
  }
  if (error instanceof TypeError) return { outcome: 'malformed', message: error.message };
  return { outcome: 'unavailable', message: 'the cluster store is unavailable' };
}
