// Placement at the door: in cluster mode, a session for a room is admitted (signaling or /keys
// handshake) only on the room's owner, and the first admission places the room (RoomDirectory).
// This node then holds the room at that placement's generation for as long as the room is open
// here; its key service fences commits with it (KeyServiceGate).
// What must hold: a session is admitted only if this node's registry entry is alive, the directory
// names this node the owner, and the generation is the one this node holds (a room re-homed away
// and back is not silently taken over by a stale local meeting); every failure is a refusal with a
// code, never a throw; no refusal holds a secret (owner node names are public).
import type { ClusterRefusal } from '@conclave/key-service/server';
import type { ClusterNode } from './ClusterNode.ts';
import { ClusterStoreError } from './redisConnection.ts';
import { NoLiveNodeError } from './RoomDirectory.ts';

/** Joins refused at the door, by reason (for /metrics). */
export interface DoorCounts {
  wrongNode: number;
  staleGeneration: number;
  unavailable: number;
}

interface Hold {
  generation: number;
  /** The fence refused this node's commit: the room is someone else's now. */
  fenced: boolean;
}

export class RoomDoor {
  readonly counts: DoorCounts = { wrongNode: 0, staleGeneration: 0, unavailable: 0 };
  readonly #node: () => ClusterNode | undefined;
  readonly #openHere: (room: string) => boolean;
  readonly #holds = new Map<string, Hold>();

  /**
   * @param node this node's cluster membership (undefined until it has joined: all refused)
   * @param openHere whether the room still has a meeting on this node (signaling or key service)
   */
  constructor(node: () => ClusterNode | undefined, openHere: (room: string) => boolean) {
    this.#node = node;
    this.#openHere = openHere;
  }

  /** Why a session for `room` may not be admitted on this node, or undefined. Never throws. */
  async refusal(room: string): Promise<ClusterRefusal | undefined> {
    const refusal = await this.#decide(room);
    if (refusal?.code === 'wrong-node') this.counts.wrongNode += 1;
    else if (refusal?.code === 'stale-generation') this.counts.staleGeneration += 1;
    else if (refusal?.code === 'unavailable') this.counts.unavailable += 1;
    return refusal;
  }

  /** The generation this node holds `room` at, if it may still commit for it. */
  generation(room: string): number | undefined {
    const hold = this.#holds.get(room);
    return hold === undefined || hold.fenced ? undefined : hold.generation;
  }

  /** The fence refused this node's commit for `room`: no new session or commit for it here. */
  markFenced(room: string): void {
    const hold = this.#holds.get(room);
    if (hold !== undefined) hold.fenced = true;
  }

  async #decide(room: string): Promise<ClusterRefusal | undefined> {
    // A meeting that ended here leaves no hold: a later one is placed afresh.
    if (this.#holds.has(room) && !this.#openHere(room)) this.#holds.delete(room);
    const node = this.#node();
    if (node === undefined || !node.healthy()) {
      return unavailable('this node cannot reach the cluster store; try again shortly');
    }
    let placement;
    try {
      placement = await node.directory.place(room);
    } catch (error) {
      return placementRefusal(error);
    }
    if (placement.owner !== node.nodeName) {
      return {
        code: 'wrong-node',
        message: `this meeting is held by node ${placement.owner}; connect there`,
        owner: placement.owner,
      };
    }
    const hold = this.#holds.get(room);
    if (hold === undefined) {
      this.#holds.set(room, { generation: placement.generation, fenced: false });
      return undefined;
    }
    if (hold.fenced || hold.generation !== placement.generation) {
      return {
        code: 'stale-generation',
        message: "this node's meeting for this room is out of date; try again once it has ended",
      };
    }
    return undefined;
  }
}

function unavailable(message: string): ClusterRefusal {
  return { code: 'unavailable', message };
}

/** A failed placement as a refusal the client can act on; the Redis URL is never in the message. */
function placementRefusal(error: unknown): ClusterRefusal {
  if (error instanceof NoLiveNodeError) return unavailable('no cluster node can take this meeting now');
  if (error instanceof ClusterStoreError && error.code === 'malformed') {
    return unavailable(`the cluster's directory entry for this meeting is malformed: ${error.message}`);
  }
  if (error instanceof TypeError) return unavailable('this meeting cannot be placed in the cluster');
  return unavailable('the cluster store is unavailable; try again shortly');
}
